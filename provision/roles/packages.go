package roles

import (
	"sort"

	"github.com/labctl/labctl/topology"
)

// rolePackages are the Debian packages each role needs. The image builder
// installs their union so labs come up without network access from guests.
var rolePackages = map[string][]string{
	topology.RoleRAID:       {"mdadm"},
	topology.RoleNFSServer:  {"nfs-kernel-server"},
	topology.RoleNFSClient:  {"nfs-common"},
	topology.RoleWeb:        {"apache2", "libapache2-mod-php", "php-cli"},
	topology.RoleRealServer: {"iproute2", "kmod"},
	topology.RoleDirector:   {"keepalived", "ipvsadm"},
	topology.RoleClient:     {"curl", "apache2-utils", "siege"},
}

// Packages returns the sorted union of every role's packages.
func Packages() []string {
	seen := map[string]bool{}
	var out []string
	for _, pkgs := range rolePackages {
		for _, p := range pkgs {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}
