package topology

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"github.com/hashicorp/hcl/v2"
)

// Addresses: explicit ones are taken first, then service VIPs, then
// automatic ones; then MACs and gateways.

func (x *expander) take(net *Network, a netip.Addr, owner string, rng hcl.Range) {
	m := x.taken[net.Name]
	if m == nil {
		m = map[netip.Addr]string{}
		x.taken[net.Name] = m
	}
	if prev, ok := m[a]; ok {
		x.l.errorf(rng, "Duplicate IP address", "%s on network %q is already used by %s.", a, net.Name, prev)
		return
	}
	m[a] = owner
}

// checkInNet reports an address outside its network or on a reserved one.
func (x *expander) checkInNet(net *Network, a netip.Addr, what string, rng hcl.Range) bool {
	if !net.CIDR.IsValid() {
		return false
	}
	switch {
	case !net.CIDR.Contains(a):
		x.l.errorf(rng, "IP address outside network", "%s %s is not inside network %q (%s).", what, a, net.Name, net.CIDR)
	case a == net.CIDR.Addr():
		x.l.errorf(rng, "Invalid IP address", "%s %s is the network address of %q (%s); use a host address.", what, a, net.Name, net.CIDR)
	case a == broadcast(net.CIDR):
		x.l.errorf(rng, "Invalid IP address", "%s %s is the broadcast address of %q (%s).", what, a, net.Name, net.CIDR)
	case a == net.HostIP:
		x.l.errorf(rng, "IP address collides with host", "%s %s is the host's address on network %q (host_ip); pick another.", what, a, net.Name)
	default:
		return true
	}
	return false
}

func (x *expander) explicitAddresses() {
	for _, n := range x.lab.Networks {
		if n.HostIP.IsValid() {
			x.take(n, n.HostIP, "the host (host_ip)", n.Range)
		}
	}
	for _, e := range x.order {
		for _, nic := range e.vm.NICs {
			if !nic.IP.IsValid() {
				continue
			}
			ne := x.nicOf[nic]
			if x.checkInNet(nic.Network, nic.IP, "ip", ne.s.rng("ip")) {
				x.take(nic.Network, nic.IP, fmt.Sprintf("vm %q", e.vm.Name), ne.s.rng("ip"))
			}
		}
	}
}

// serviceAddresses reserves LVS virtual IPs before automatic assignment.
func (x *expander) serviceAddresses() {
	for _, name := range slices.Sorted(maps.Keys(x.l.ev.lvs)) {
		e := x.l.ev.lvs[name]
		for _, v := range []struct {
			attr string
			a    netip.Addr
		}{{"vip", e.x.VIP}, {"gateway_vip", e.x.GatewayVIP}} {
			if !v.a.IsValid() {
				continue
			}
			net := x.netContaining(v.a)
			if net == nil {
				continue // reported with the directors' networks
			}
			if x.checkInNet(net, v.a, v.attr, e.s.rng(v.attr)) {
				x.take(net, v.a, fmt.Sprintf("lvs %q (%s)", name, v.attr), e.s.rng(v.attr))
			}
		}
	}
}

func (x *expander) netContaining(a netip.Addr) *Network {
	for _, n := range x.lab.Networks {
		if n.CIDR.IsValid() && n.CIDR.Contains(a) {
			return n
		}
	}
	return nil
}

// autoAddresses gives every NIC without ip the next free address from host
// 10 upward, VMs in name order; DHCP networks leave it to libvirt.
func (x *expander) autoAddresses() {
	next := map[string]int64{}
	for _, e := range x.order {
		for _, nic := range e.vm.NICs {
			if nic.IP.IsValid() || nic.Network.DHCP || !nic.Network.CIDR.IsValid() || nic.Network.CIDR.Bits() > maxNetworkBits {
				continue // a network too small is reported where it is declared
			}
			a, ok := x.freeAddr(nic.Network, next)
			if !ok {
				x.l.errorf(x.nicOf[nic].b.defRange(), "Network full", "network %q (%s) has no free address left for vm %q; use a larger prefix.", nic.Network.Name, nic.Network.CIDR, e.vm.Name)
				continue
			}
			nic.IP = a
			x.take(nic.Network, a, fmt.Sprintf("vm %q", e.vm.Name), x.nicOf[nic].b.defRange())
		}
	}
	m := x.lab.Management
	if !m.CIDR.IsValid() || m.CIDR.Bits() > maxManagementBits {
		return
	}
	for _, e := range x.order {
		nic := &NIC{Network: m, Prefix: m.CIDR.Bits(), Model: "virtio", Management: true}
		a, ok := x.freeAddr(m, next)
		if !ok {
			x.l.errorf(x.l.lab.defRange(), "Management network full", "management network %s has no address left for vm %q; set a larger management_cidr.", m.CIDR, e.vm.Name)
			continue
		}
		nic.IP = a
		x.take(m, a, fmt.Sprintf("vm %q", e.vm.Name), x.l.lab.defRange())
		e.vm.NICs = append(e.vm.NICs, nic)
	}
}

func (x *expander) freeAddr(n *Network, next map[string]int64) (netip.Addr, bool) {
	size := int64(1) << (32 - n.CIDR.Bits())
	if size < 4 {
		return netip.Addr{}, false // a /31 or /32 has no host addresses
	}
	start, ok := next[n.Name]
	if !ok {
		start = 10
		if start >= size-1 {
			start = 1
		}
	}
	// Scan from start to the top, then wrap to host 1.
	for i := int64(0); i < size; i++ {
		h := (start-1+i)%(size-2) + 1
		a, _ := hostAddr(n.CIDR, h)
		if _, used := x.taken[n.Name][a]; !used {
			next[n.Name] = h + 1
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (x *expander) macAddresses() {
	for _, e := range x.order {
		for _, nic := range e.vm.NICs {
			if nic.MAC == "" {
				continue
			}
			rng := x.nicOf[nic].s.rng("mac")
			if prev, ok := x.macs[nic.MAC]; ok {
				x.l.errorf(rng, "Duplicate MAC address", "mac %s is already used by %s.", nic.MAC, prev)
				continue
			}
			x.macs[nic.MAC] = fmt.Sprintf("vm %q network %q", e.vm.Name, nic.Network.Name)
		}
	}
	for _, e := range x.order {
		for i, nic := range e.vm.NICs {
			nic.Device = fmt.Sprintf("eth%d", i)
			if nic.MAC != "" {
				continue
			}
			for attempt := 0; ; attempt++ {
				m := derivedMAC(x.lab.HandoutName(), e.vm.Name, nic.Network.Name, attempt)
				if _, used := x.macs[m]; !used {
					nic.MAC = m
					x.macs[m] = fmt.Sprintf("vm %q network %q", e.vm.Name, nic.Network.Name)
					break
				}
			}
		}
	}
}

func (x *expander) gateways() {
	for _, e := range x.order {
		var first *nicEval
		for _, nic := range e.vm.NICs {
			ne := x.nicOf[nic]
			if ne == nil || !ne.gw.IsValid() {
				continue
			}
			rng := ne.s.rng("gateway")
			if first != nil {
				x.l.errorf(rng, "Two default gateways", "vm %q already has a default gateway via network %q (%s); a VM has one default route.", e.vm.Name, first.net, first.s.rng("gateway"))
				continue
			}
			first = ne
			n := nic.Network
			switch {
			case n.CIDR.IsValid() && !n.CIDR.Contains(ne.gw):
				x.l.errorf(rng, "Gateway outside network", "gateway %s is not inside network %q (%s).", ne.gw, n.Name, n.CIDR)
			case ne.gw == nic.IP:
				x.l.errorf(rng, "Invalid gateway", "gateway %s is the VM's own address.", ne.gw)
			case n.CIDR.IsValid() && (ne.gw == n.CIDR.Addr() || ne.gw == broadcast(n.CIDR)):
				x.l.errorf(rng, "Invalid gateway", "gateway %s is the network or broadcast address of %s.", ne.gw, n.CIDR)
			}
			nic.Gateway = ne.gw
		}
	}
}
