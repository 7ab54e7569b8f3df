package cloudinit

import (
	"net/netip"

	"golang.org/x/crypto/ssh"

	"github.com/labctl/labctl/topology"
)

// ForVM builds vm's seed from the lab model: user lab.SSHUser with
// authorizedKey, the given host key, and one NIC per vm.NICs entry
// (static when the model has an address, DHCP when its network has DHCP
// and no address was given). The FQDN uses the first NIC network that has
// a domain.
func ForVM(lab *topology.Lab, vm *topology.VM, authorizedKey string, hostKeyPEM []byte, hostKey ssh.PublicKey) Seed {
	s := Seed{
		Hostname:       vm.Hostname,
		User:           lab.SSHUser,
		AuthorizedKeys: []string{authorizedKey},
		HostKeyPEM:     hostKeyPEM,
		HostKey:        hostKey,
	}
	for _, n := range vm.NICs {
		nic := NIC{MAC: n.MAC, Name: n.Device, Gateway: n.Gateway, MTU: n.GuestMTU()}
		if n.IP.IsValid() {
			nic.Address = netip.PrefixFrom(n.IP, n.Prefix)
		}
		if n.Network != nil {
			nic.DHCP = n.Network.DHCP && !n.IP.IsValid()
			if s.FQDN == "" && n.Network.Domain != "" {
				s.FQDN = vm.Hostname + "." + n.Network.Domain
			}
		}
		s.NICs = append(s.NICs, nic)
	}
	return s
}
