package topology

import (
	"maps"
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
	x.directorStacks()
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
