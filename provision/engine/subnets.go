package engine

import (
	"fmt"
	"net/netip"

	"github.com/labctl/labctl/provision/libvirt"
	"libvirt.org/go/libvirtxml"
)

// SubnetClashError reports a lab network whose host address range overlaps
// a libvirt network the lab does not own.
type SubnetClashError struct {
	Network, CIDR string
	Other         string // the other libvirt network
	OtherCIDR     string
}

func (e *SubnetClashError) Error() string {
	return fmt.Sprintf("network %q (%s) overlaps libvirt network %q (%s), which the lab does not own; give the network another cidr",
		e.Network, e.CIDR, e.Other, e.OtherCIDR)
}

// netPrefixes returns the host's address ranges on a libvirt network.
func netPrefixes(def *libvirtxml.Network) []netip.Prefix {
	if def == nil {
		return nil
	}
	var out []netip.Prefix
	for _, ip := range def.IPs {
		a, err := netip.ParseAddr(ip.Address)
		if err != nil {
			continue
		}
		bits := int(ip.Prefix)
		if ip.Netmask != "" {
			m, err := netip.ParseAddr(ip.Netmask)
			if err != nil {
				continue
			}
			bits = 0
			for _, b := range m.AsSlice() {
				for ; b&0x80 != 0; b <<= 1 {
					bits++
				}
			}
		}
		if p, err := a.Prefix(bits); err == nil && bits > 0 {
			out = append(out, p)
		}
	}
	return out
}

// NetworkPrefixes returns the address ranges of every libvirt network whose
// metadata does not name lab, and the derived management network of lab's
// own "mgmt" network if it has one: what topology.LoadOptions needs to pick
// a collision-free, stable management subnet.
func NetworkPrefixes(nets []libvirt.Network, lab string) (foreign []netip.Prefix, mgmt netip.Prefix) {
	for _, n := range nets {
		ps := netPrefixes(n.Def)
		if n.Meta != nil && n.Meta.Lab == lab {
			if n.Meta.Object == "mgmt" && len(ps) > 0 {
				mgmt = ps[0].Masked()
			}
			continue
		}
		foreign = append(foreign, ps...)
	}
	return foreign, mgmt
}
