package topology

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
)

// Expansion of lvs blocks: directors, backends and their addresses, VRRP
// router IDs.

func (x *expander) lvs(e *lvsEval) {
	s := e.x
	if e.directors == nil || e.backends == nil {
		return // the references failed; already reported
	}
	dirs := x.vmList(e.directors, "directors", e.s.rng("directors"))
	backs := x.vmList(e.backends, "backends", e.s.rng("backends"))
	if len(dirs) == 0 && !e.dirsOK {
		return // every director failed; already reported
	}
	if len(dirs) < 1 || len(dirs) > 2 {
		x.l.errorf(e.s.rng("directors"), "Invalid directors", "An LVS service has 1 director or 2 (MASTER and BACKUP), got %d.", len(dirs))
		return
	}
	if len(backs) == 0 {
		if !e.backsOK {
			return // every backend failed; already reported
		}
		x.l.errorf(e.s.rng("backends"), "No backends", "lvs %q needs at least one backend.", s.Name)
		return
	}
	for _, d := range dirs {
		s.Directors = append(s.Directors, d.vm) // order kept: first is MASTER
		x.roles[d.vm.Name][s.Stack.Role()] = true
	}
	for _, b := range backs {
		for _, d := range dirs {
			if b == d {
				x.l.errorf(e.s.rng("backends"), "Director is a backend", "vm %q is both a director and a backend of lvs %q; labctl keeps them separate.", b.vm.Name, s.Name)
				return
			}
		}
	}
	// VIP network: a network of the first director containing the VIP, on
	// which every director has a NIC.
	if s.VIP.IsValid() {
		s.VIPNetwork = x.directorNet(e, s.VIP, "vip")
	}
	if s.Mode == LVSNAT {
		if !s.GatewayVIP.IsValid() {
			if !e.s.failed("gateway_vip") { // else reported where it failed
				x.l.errorf(e.s.def, "Missing gateway_vip", "LVS-NAT needs gateway_vip: the floating address on the real servers' network that they use as default gateway, so replies return through the director. Add e.g. gateway_vip = cidrhost(network.internal.cidr, 254).")
			}
		} else {
			s.GatewayNet = x.directorNet(e, s.GatewayVIP, "gateway_vip")
			if s.GatewayNet != nil && s.GatewayNet == s.VIPNetwork {
				x.l.errorf(e.s.rng("gateway_vip"), "Invalid gateway_vip", "gateway_vip must be on the real servers' network, not on the VIP's network %q.", s.GatewayNet.Name)
				s.GatewayNet = nil
			}
		}
	} else if s.GatewayVIP.IsValid() {
		x.l.errorf(e.s.rng("gateway_vip"), "Unsupported argument", "gateway_vip is only for mode = \"nat\"; in %s mode real servers answer clients directly.", s.Mode)
	}
	weights := map[string]int{}
	for k, v := range e.weights {
		weights[k] = v
	}
	var names []string
	for _, b := range backs {
		names = append(names, b.vm.Name)
		be := &Backend{VM: b.vm, Weight: 1}
		if w, ok := weights[b.vm.Name]; ok {
			be.Weight = w
			delete(weights, b.vm.Name)
		}
		be.IP = x.backendIP(e, b)
		s.Backends = append(s.Backends, be)
		x.roles[b.vm.Name][RoleRealServer] = true
	}
	for _, k := range slices.Sorted(maps.Keys(weights)) {
		if !e.backsOK {
			break // the name may be a backend that failed
		}
		x.l.errorf(e.s.rng("weights"), "Unknown backend in weights", "weights names %q, which is not a backend of lvs %q.%s", k, s.Name, didYouMean(k, names))
	}
	if e.routerID != 0 {
		s.RouterID = e.routerID
	} else if s.RouterID = x.freeRouterID(s.Name); s.RouterID == 0 {
		if !x.ridFull { // every later service fails the same way
			x.l.errorf(e.s.def, "No free router_id", "lvs %q needs two adjacent free VRRP ids (router_id and router_id + 1), but the %d LVS services before it leave none among 1-254; a lab holds at most 127 LVS services, fewer without explicit router_id values.", s.Name, len(x.lab.LVS))
		}
		x.ridFull = true
		return
	}
	if s.RouterID > 253 {
		x.l.errorf(e.s.rng("router_id"), "Invalid router_id", "router_id must be at most 253 (the internal instance uses router_id + 1).")
	}
	for _, r := range []int{s.RouterID, s.RouterID + 1} {
		if prev := x.lvsRID[r]; prev != "" {
			x.l.errorf(e.s.rng("router_id"), "Duplicate router_id", "VRRP id %d is already used by lvs %q.", r, prev)
		}
		x.lvsRID[r] = s.Name
	}
	if s.SorryServer != "" {
		x.sorryServer(e)
	}
	x.lab.LVS = append(x.lab.LVS, s)
}

// directorStacks checks what one director VM runs for all its services:
// one stack, and for Pacemaker (one cluster, one ldirectord, one resource
// group per director pair) the same directors and resource options.
func (x *expander) directorStacks() {
	byVM := map[string]*lvsEval{} // first service seen per director
	byID := map[string]string{}   // configuration id → service name
	for _, name := range slices.Sorted(maps.Keys(x.l.ev.lvs)) {
		e := x.l.ev.lvs[name]
		s := e.x
		// keepalived's VRRP instances and Pacemaker's resources are named
		// after the service with case folded and other characters as "_".
		id := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '_'
		}, strings.ToLower(name))
		if other, dup := byID[id]; dup {
			x.l.errorf(e.s.def, "LVS names too alike", "lvs %q and lvs %q differ only in case or punctuation, but the directors' configuration names both %q; rename one.", other, name, id)
			continue
		}
		byID[id] = name
		for _, d := range s.Directors {
			prev := byVM[d.Name]
			if prev == nil {
				byVM[d.Name] = e
				continue
			}
			p := prev.x
			switch {
			case p.Stack != s.Stack:
				x.l.errorf(e.s.rng("stack"), "Mixed director stacks", "vm %q directs lvs %q with %s and lvs %q with %s; one VM runs one director stack.", d.Name, p.Name, p.Stack, s.Name, s.Stack)
				return
			case s.Stack != StackPacemaker:
			case !slices.Equal(names(p.Directors), names(s.Directors)):
				x.l.errorf(e.s.rng("directors"), "Different Pacemaker clusters", "lvs %q and lvs %q share director %q but not the director list (%s vs %s); Pacemaker services of one director form one cluster.", p.Name, s.Name, d.Name, strings.Join(names(p.Directors), ", "), strings.Join(names(s.Directors), ", "))
				return
			case p.MigrationThreshold != s.MigrationThreshold || p.FailureTimeoutSec != s.FailureTimeoutSec:
				x.l.errorf(e.s.def, "Different resource options", "lvs %q and lvs %q run in one ldirectord resource, so migration_threshold and failure_timeout must be equal (%d/%ds vs %d/%ds).", p.Name, s.Name, p.MigrationThreshold, p.FailureTimeoutSec, s.MigrationThreshold, s.FailureTimeoutSec)
				return
			}
		}
	}
}

func names(vms []*VM) []string {
	out := make([]string, len(vms))
	for i, v := range vms {
		out[i] = v.Name
	}
	return out
}

// freeRouterID picks a VRRP id whose id+1 is free too: derived from the
// names while the first tries are free, then the lowest free pair; 0 when
// every pair is taken.
func (x *expander) freeRouterID(service string) int {
	free := func(r int) bool { return r <= 253 && x.lvsRID[r] == "" && x.lvsRID[r+1] == "" }
	for attempt := 0; attempt < 64; attempt++ {
		if r := routerID(x.lab.HandoutName(), service, attempt); free(r) {
			return r
		}
	}
	for r := 1; r <= 253; r++ {
		if free(r) {
			return r
		}
	}
	return 0
}

// directorNet finds the network holding addr on which every director has a NIC.
func (x *expander) directorNet(e *lvsEval, addr netip.Addr, attr string) *Network {
	for _, d := range e.x.Directors {
		for _, n := range d.NICs {
			if !n.Management && n.Network.CIDR.Contains(addr) {
				goto found
			}
		}
		if x.netsUnsure(d) {
			return nil
		}
		x.l.errorf(e.s.rng(attr), "VIP outside director networks", "%s %s is not inside any network of director %q; the directors need a NIC on the network that holds it.", attr, addr, d.Name)
		return nil
	found:
	}
	for _, n := range e.x.Directors[0].NICs {
		if n.Network.CIDR.Contains(addr) {
			return n.Network
		}
	}
	return nil
}

// backendIP picks the address the director forwards to and checks the
// forwarding mode's network rules.
func (x *expander) backendIP(e *lvsEval, b *vmEval) netip.Addr {
	s := e.x
	vm := b.vm
	if x.netsUnsure(vm) {
		return netip.Addr{}
	}
	for _, d := range s.Directors {
		if x.netsUnsure(d) {
			return netip.Addr{}
		}
	}
	switch s.Mode {
	case LVSNAT:
		if s.GatewayNet == nil {
			return netip.Addr{}
		}
		nic := userNIC(vm, s.GatewayNet)
		if nic == nil {
			x.l.errorf(e.s.rng("backends"), "Backend cannot route through director", "LVS-NAT backend %q has no NIC on network %q, where gateway_vip %s lives, so replies would not return through the director; add nic %q to it.", vm.Name, s.GatewayNet.Name, s.GatewayVIP, s.GatewayNet.Name)
			return netip.Addr{}
		}
		for _, other := range vm.NICs {
			if other != nic && other.Gateway.IsValid() {
				x.l.errorf(x.nicOf[other].s.rng("gateway"), "Conflicting gateway", "vm %q is an LVS-NAT backend of %q and must route through gateway_vip %s on network %q, not through %s.", vm.Name, s.Name, s.GatewayVIP, s.GatewayNet.Name, other.Gateway)
			}
		}
		if nic.Gateway.IsValid() && nic.Gateway != s.GatewayVIP {
			x.l.errorf(x.nicOf[nic].s.rng("gateway"), "Conflicting gateway", "vm %q is an LVS-NAT backend of %q; its default gateway must be gateway_vip %s, not %s. Remove gateway here.", vm.Name, s.Name, s.GatewayVIP, nic.Gateway)
		}
		nic.Gateway = s.GatewayVIP
		return x.staticBackendIP(e, vm, nic)
	case LVSDR:
		if s.VIPNetwork == nil {
			return netip.Addr{}
		}
		nic := userNIC(vm, s.VIPNetwork)
		if nic == nil {
			x.l.errorf(e.s.rng("backends"), "Backend not on the VIP network", "LVS-DR rewrites only the MAC address, so backend %q must share the L2 network %q with the directors' VIP; add nic %q to it.", vm.Name, s.VIPNetwork.Name, s.VIPNetwork.Name)
			return netip.Addr{}
		}
		return x.staticBackendIP(e, vm, nic)
	default: // TUN: any shared network, else host-routed nat/routed networks
		for _, n := range vm.NICs {
			if n.Management {
				continue
			}
			all := true
			for _, d := range s.Directors {
				all = all && userNIC(d, n.Network) != nil
			}
			if all {
				return x.staticBackendIP(e, vm, n)
			}
		}
		routed := func(v *VM) *NIC {
			for _, n := range v.NICs {
				if !n.Management && (n.Network.Mode == NetNAT || n.Network.Mode == NetRouted) {
					return n
				}
			}
			return nil
		}
		bn := routed(vm)
		ok := bn != nil
		for _, d := range s.Directors {
			ok = ok && routed(d) != nil
		}
		if !ok {
			x.l.errorf(e.s.rng("backends"), "Backend unreachable", "LVS-TUN backend %q shares no network with the directors and is not on a nat or routed network the host routes to; connect it to a director network or a routed one.", vm.Name)
			return netip.Addr{}
		}
		return x.staticBackendIP(e, vm, bn)
	}
}
