package engine

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/labctl/labctl/provision/cloudinit"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/topology"
)

// Seeder returns an Options.Seed that renders each VM's NoCloud seed from
// the lab and its key store: hostname, one static config per NIC matched
// by MAC, the lab user's public key and the VM's labctl-made host key;
// for an image with labctl's first-boot path, the same again in labctl/.
func Seeder(lab *topology.Lab, ks *keys.Store) func(vm *topology.VM, firstboot bool) ([]byte, error) {
	return func(vm *topology.VM, firstboot bool) ([]byte, error) {
		_, authorized, err := ks.UserKey()
		if err != nil {
			return nil, err
		}
		pemBytes, pub, err := ks.HostKey(vm.Name)
		if err != nil {
			return nil, err
		}
		s := cloudinit.Seed{
			Hostname:       vm.Hostname,
			User:           lab.SSHUser,
			AuthorizedKeys: []string{authorized},
			HostKeyPEM:     pemBytes,
			HostKey:        pub,
		}
		if s.Hostname == "" {
			s.Hostname = vm.Name
		}
		for _, n := range vm.NICs {
			nic := cloudinit.NIC{MAC: n.MAC, Name: n.Device, Gateway: n.Gateway, MTU: n.GuestMTU()}
			if n.IP.IsValid() {
				nic.Address = netip.PrefixFrom(n.IP, n.Prefix)
			} else if n.Network != nil {
				nic.DHCP = n.Network.DHCP
			}
			s.NICs = append(s.NICs, nic)
		}
		files, err := cloudinit.Render(s)
		if err != nil {
			return nil, fmt.Errorf("render seed of %s: %w", vm.Name, err)
		}
		if !firstboot {
			files.Labctl = nil // other images keep the seed (and VM hash) they had
		}
		var buf bytes.Buffer
		if err := cloudinit.WriteISO(&buf, files); err != nil {
			return nil, fmt.Errorf("seed ISO of %s: %w", vm.Name, err)
		}
		return buf.Bytes(), nil
	}
}
