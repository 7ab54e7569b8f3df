package topology

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

func (x *expander) services() {
	for _, e := range x.l.ev.nfs {
		x.incomplete = x.incomplete || !e.clientsOK
	}
	for _, e := range x.l.ev.web {
		x.incomplete = x.incomplete || !e.serversOK
	}
	for _, e := range x.l.ev.lvs {
		x.incomplete = x.incomplete || !e.dirsOK || !e.backsOK
	}
	for _, name := range slices.Sorted(maps.Keys(x.l.ev.nfs)) {
		x.nfs(x.l.ev.nfs[name])
	}
	for _, name := range slices.Sorted(maps.Keys(x.l.ev.web)) {
		x.web(x.l.ev.web[name])
	}
	for _, name := range slices.Sorted(maps.Keys(x.l.ev.lvs)) {
		x.lvs(x.l.ev.lvs[name])
	}
	for _, name := range slices.Sorted(maps.Keys(x.l.ev.experiments)) {
		x.experiment(x.l.ev.experiments[name])
	}
}

// vmList maps VM names to VMs, rejecting duplicates.
func (x *expander) vmList(names []string, what string, rng hcl.Range) []*vmEval {
	var out []*vmEval
	seen := map[string]bool{}
	for _, n := range names {
		e, ok := x.vms[n]
		if !ok {
			continue // a VM that failed to evaluate; already reported
		}
		if seen[n] {
			x.l.errorf(rng, "Duplicate VM", "%s lists vm %q twice.", what, n)
			continue
		}
		seen[n] = true
		out = append(out, e)
	}
	return out
}

// userNIC returns the VM's NIC on network net (nil when it has none).
func userNIC(vm *VM, net *Network) *NIC {
	for _, n := range vm.NICs {
		if n.Network == net {
			return n
		}
	}
	return nil
}

func (x *expander) nfs(e *nfsEval) {
	xp := e.x
	srv, ok := x.vms[e.server]
	if !ok {
		return
	}
	xp.Server = srv.vm
	x.roles[srv.vm.Name][RoleNFSServer] = true
	if r := srv.vm.RAID; r != nil && !under(xp.Path, r.Mount) {
		x.l.errorf(e.s.rng("path"), "NFS export not on the RAID", "vm %q has raid %q mounted at %s, but path %s is outside it, so the array would protect nothing that is served; export a directory under %s.", srv.vm.Name, r.Name, r.Mount, xp.Path, r.Mount)
	}
	clients := x.vmList(e.clients, "clients", e.s.rng("clients"))
	// unsure: some clients failed or lack NICs; checks of the whole set
	// (a shared network, who is missing from the clients) are skipped.
	unsure := !e.clientsOK || x.netsUnsure(srv.vm)
	for _, c := range clients {
		unsure = unsure || x.netsUnsure(c.vm)
	}
	if unsure {
		x.partialNFS[xp.Name] = true
	}
	// The server address is on the first of the server's networks that
	// every client shares.
	var shared *NIC
	for _, sn := range srv.vm.NICs {
		if sn.Management || !sn.IP.IsValid() {
			continue
		}
		all := true
		for _, c := range clients {
			if userNIC(c.vm, sn.Network) == nil {
				all = false
				break
			}
		}
		if all {
			shared = sn
			break
		}
	}
	unreachable := false
	for _, c := range clients {
		if c.vm == srv.vm {
			x.l.errorf(e.s.rng("clients"), "NFS server mounts itself", "vm %q is the server of nfs %q and cannot be its client.", c.vm.Name, xp.Name)
			continue
		}
		if shared == nil {
			if !sharesNet(c.vm, srv.vm) && !x.netsUnsure(c.vm) && !x.netsUnsure(srv.vm) {
				unreachable = true
				x.l.errorf(e.s.rng("clients"), "NFS client cannot reach server", "vm %q has no NIC on a network of nfs server %q; add nic \"<network>\" to it.", c.vm.Name, srv.vm.Name)
			}
			continue
		}
		xp.Clients = append(xp.Clients, c.vm)
		x.roles[c.vm.Name][RoleNFSClient] = true
	}
	if shared == nil && len(clients) > 0 {
		if unreachable || unsure {
			return
		}
		x.l.errorf(e.s.rng("clients"), "NFS clients on different networks", "No network of server %q is shared by all clients of nfs %q; put them on one network.", srv.vm.Name, xp.Name)
		return
	}
	if shared == nil {
		for _, sn := range srv.vm.NICs {
			if !sn.Management && sn.IP.IsValid() {
				shared = sn
				break
			}
		}
	}
	if shared == nil {
		if unsure {
			return
		}
		x.l.errorf(e.s.rng("server"), "NFS server has no address", "vm %q needs a NIC with an address on a lab network to serve nfs %q.", srv.vm.Name, xp.Name)
		return
	}
	xp.ServerIP = shared.IP
	if !e.allow {
		xp.Allow = shared.Network.CIDR
	}
	for _, c := range xp.Clients {
		cn := userNIC(c, shared.Network)
		if cn != nil && cn.IP.IsValid() && !xp.Allow.Contains(cn.IP) {
			x.l.errorf(e.s.rng("allow"), "NFS client not allowed", "client %q (%s) is outside allow = %s, so its mount would be refused.", c.Name, cn.IP, xp.Allow)
		}
	}
	sortVMs(xp.Clients)
	x.lab.NFS = append(x.lab.NFS, xp)
}

func sharesNet(a, b *VM) bool {
	for _, n := range a.NICs {
		if !n.Management && userNIC(b, n.Network) != nil {
			return true
		}
	}
	return false
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func sortVMs(v []*VM) { sort.Slice(v, func(i, j int) bool { return v[i].Name < v[j].Name }) }

func (x *expander) web(e *webEval) {
	w := e.w
	for _, s := range x.vmList(e.servers, "servers", e.s.rng("servers")) {
		w.Servers = append(w.Servers, s.vm)
		x.roles[s.vm.Name][RoleWeb] = true
	}
	sortVMs(w.Servers)
	if e.content != "" {
		var c *NFSExport
		for _, n := range x.lab.NFS {
			if n.Name == e.content {
				c = n
			}
		}
		if c == nil {
			return // the export failed; already reported
		}
		w.Content = c
		if !under(w.Docroot, c.MountPoint) && !x.l.ev.nfs[c.Name].mountFailed && !e.s.failed("docroot") {
			x.l.errorf(e.s.rng("docroot"), "Docroot not on NFS", "docroot %s is outside %s, where nfs %q is mounted, so the content would not come from NFS.", w.Docroot, c.MountPoint, c.Name)
		}
		for _, s := range w.Servers {
			found := false
			for _, cl := range c.Clients {
				found = found || cl == s
			}
			if !found && !x.partialNFS[c.Name] {
				x.l.errorf(e.s.rng("servers"), "Web server does not mount its content", "vm %q serves web %q from nfs %q but is not in its clients; add it to nfs.%s clients.", s.Name, w.Name, c.Name, c.Name)
			}
		}
	}
	x.lab.Web = append(x.lab.Web, w)
}

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
		x.roles[d.vm.Name][RoleDirector] = true
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

// freeRouterID picks a VRRP id whose id+1 is free too: derived from the
// names while the first tries are free, then the lowest free pair; 0 when
// every pair is taken.
func (x *expander) freeRouterID(service string) int {
	free := func(r int) bool { return r <= 253 && x.lvsRID[r] == "" && x.lvsRID[r+1] == "" }
	for attempt := 0; attempt < 64; attempt++ {
		if r := routerID(x.lab.Name, service, attempt); free(r) {
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

func (x *expander) experiment(e *expEval) {
	xp := e.e
	svc := x.lab.Service(e.service)
	if svc == nil {
		return // already reported
	}
	if e.client != "" {
		if c, ok := x.vms[e.client]; ok {
			xp.Client = c.vm
			x.roles[c.vm.Name][RoleClient] = true
			if svc.VIPNetwork != nil && userNIC(c.vm, svc.VIPNetwork) == nil && !sharesRoutedNet(c.vm) && !x.netsUnsure(c.vm) {
				x.l.errorf(e.s.rng("client"), "Client cannot reach the VIP", "client %q has no NIC on network %q where the VIP %s lives.", c.vm.Name, svc.VIPNetwork.Name, svc.VIP)
			}
		}
	}
	for _, n := range xp.RealServers {
		if n > len(svc.Backends) && x.l.ev.lvs[svc.Name].backsOK {
			x.l.errorf(e.s.rng("real_servers"), "Too many real servers", "real_servers asks for %d, but lvs %q has %d backends.", n, svc.Name, len(svc.Backends))
		}
	}
	if len(xp.RealServers) == 0 {
		xp.RealServers = []int{len(svc.Backends)}
	}
	if len(xp.Schedulers) == 0 {
		xp.Schedulers = []Scheduler{svc.Scheduler}
	}
	for _, f := range e.faults {
		t, ok := x.vms[f.target]
		if !ok {
			continue
		}
		f.f.Target = t.vm.Name
		if msg := x.faultTargetProblem(f.f.Kind, t.vm, svc); msg != "" && !x.incomplete {
			x.l.errorf(f.s.rng("target"), "Invalid fault target", "%s", msg)
		}
		xp.Faults = append(xp.Faults, f.f)
	}
	x.lab.Experiments = append(x.lab.Experiments, xp)
}

func sharesRoutedNet(vm *VM) bool {
	for _, n := range vm.NICs {
		if n.Network.Mode == NetNAT || n.Network.Mode == NetRouted {
			return true
		}
	}
	return false
}

func (x *expander) faultTargetProblem(kind FaultKind, vm *VM, svc *LVSService) string {
	switch kind {
	case DestroyDirector, KillKeepalived:
		if !slices.Contains(svc.Directors, vm) {
			return fmt.Sprintf("fault %s needs a director of lvs %q; %q is not one.", kind, svc.Name, vm.Name)
		}
	case StopWeb:
		if !x.roles[vm.Name][RoleWeb] {
			return fmt.Sprintf("fault stop_web needs a web server; %q serves no web block.", vm.Name)
		}
	case FailRAIDMember:
		if vm.RAID == nil {
			return fmt.Sprintf("fault fail_raid_member needs a VM with a raid block; %q has none.", vm.Name)
		}
	case StopNFS:
		if !x.roles[vm.Name][RoleNFSServer] {
			return fmt.Sprintf("fault stop_nfs needs an NFS server; %q serves no nfs block.", vm.Name)
		}
	}
	return ""
}
