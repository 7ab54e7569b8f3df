package topology

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
)

// expander turns evaluated blocks into the final Lab.
type expander struct {
	l       *loader
	lab     *Lab
	nets    map[string]*Network
	vms     map[string]*vmEval // by expanded name
	order   []*vmEval          // sorted by name
	nicOf   map[*NIC]*nicEval
	taken   map[string]map[netip.Addr]string // network → address → owner
	macs    map[string]string                // mac → owner
	roles   map[string]map[Role]bool         // vm → roles
	lvsRID  map[int]string
	ridFull bool // no VRRP id pair was left for an LVS service
	// partialNFS names exports whose clients are not all known (some
	// failed); incomplete is set when any VM list had failed VMs, so a
	// VM's roles may be missing some.
	partialNFS map[string]bool
	incomplete bool
	generic    map[string]bool // images whose VMs need the generic kernel
}

func (l *loader) expand() *Lab {
	lab := l.ev.lab.lab
	lab.SourceFiles = append([]string{}, l.fileNames...)
	x := &expander{
		l:      l,
		lab:    &lab,
		nets:   map[string]*Network{},
		vms:    map[string]*vmEval{},
		nicOf:  map[*NIC]*nicEval{},
		taken:  map[string]map[netip.Addr]string{},
		macs:   map[string]string{},
		roles:  map[string]map[Role]bool{},
		lvsRID: map[int]string{},

		partialNFS: map[string]bool{},
	}
	x.networks()
	x.management()
	x.collectVMs()
	x.explicitAddresses()
	x.serviceAddresses()
	x.autoAddresses()
	x.macAddresses()
	x.gateways()
	x.disks()
	x.services()
	x.finishVMs()
	x.exercise()
	x.closeForCopy()
	if l.diags.HasErrors() {
		return nil
	}
	return x.lab
}

func (x *expander) networks() {
	names := slices.Sorted(maps.Keys(x.l.ev.networks))
	for _, name := range names {
		e := x.l.ev.networks[name]
		n := e.n
		if n.Mode != NetBridge {
			n.Bridge = bridgeName(x.lab.Name, n.Name)
		}
		if n.HostIP.IsValid() && n.CIDR.IsValid() {
			if !n.CIDR.Contains(n.HostIP) || n.HostIP == n.CIDR.Addr() || n.HostIP == broadcast(n.CIDR) {
				x.l.errorf(e.s.rng("host_ip"), "Invalid host_ip", "host_ip %s must be a host address inside %s.", n.HostIP, n.CIDR)
			}
		}
		x.nets[name] = n
		x.lab.Networks = append(x.lab.Networks, n)
	}
	for i, a := range x.lab.Networks {
		for _, b := range x.lab.Networks[:i] {
			if a.CIDR.IsValid() && b.CIDR.IsValid() && a.CIDR.Overlaps(b.CIDR) {
				x.l.errorf(x.l.ev.networks[a.Name].s.rng("cidr"), "Overlapping networks", "network %q (%s) overlaps network %q (%s) declared at %s.", a.Name, a.CIDR, b.Name, b.CIDR, b.Range)
			}
		}
		if a.Mode != NetBridge {
			continue
		}
		for _, b := range x.lab.Networks[:i] {
			if b.Mode == NetBridge && b.Bridge == a.Bridge {
				x.l.errorf(x.l.ev.networks[a.Name].s.rng("bridge"), "Duplicate bridge", "networks %q and %q both use host bridge %q.", b.Name, a.Name, a.Bridge)
			}
		}
	}
}

// management adds the isolated management network (name "mgmt").
func (x *expander) management() {
	le := &x.l.ev.lab
	cidr := le.mgmt
	if le.mgmtSet {
		if cidr.Bits() > maxManagementBits {
			x.l.errorf(le.s.rng("management_cidr"), "Network too small", "management_cidr must be /24 or larger to hold every VM, got %s.", cidr)
		}
		for _, n := range x.lab.Networks {
			if n.CIDR.IsValid() && n.CIDR.Overlaps(cidr) {
				x.l.errorf(le.s.rng("management_cidr"), "Overlapping networks", "management_cidr %s overlaps network %q (%s).", cidr, n.Name, n.CIDR)
			}
		}
	} else {
		cidr = x.derivedManagementCIDR()
	}
	m := &Network{
		Name:        "mgmt",
		LibvirtName: x.lab.Name + "-mgmt",
		Mode:        NetIsolated,
		Bridge:      bridgeName(x.lab.Name, "mgmt"),
		CIDR:        cidr,
		Management:  true,
		Range:       x.l.lab.defRange(),
	}
	if cidr.IsValid() {
		m.HostIP, _ = hostAddr(cidr, 1)
	}
	x.lab.Management = m
	x.nets["mgmt"] = m
	x.lab.Networks = append(x.lab.Networks, m)
	sort.Slice(x.lab.Networks, func(i, j int) bool { return x.lab.Networks[i].Name < x.lab.Networks[j].Name })
}

// derivedManagementCIDR picks a /24 in 172.16.0.0/12 from a hash of the lab
// name, stepping on while it overlaps a lab network or a range in use
// outside the lab (LoadOptions.AvoidCIDRs); a kept ManagementCIDR wins.
func (x *expander) derivedManagementCIDR() netip.Prefix {
	free := func(p netip.Prefix, avoid bool) bool {
		for _, n := range x.lab.Networks {
			if n.CIDR.IsValid() && n.CIDR.Overlaps(p) {
				return false
			}
		}
		for _, a := range x.l.opts.AvoidCIDRs {
			if avoid && a.Overlaps(p) {
				return false
			}
		}
		return true
	}
	if keep := x.l.opts.ManagementCIDR; keep.IsValid() && keep.Bits() <= 24 && free(keep, false) {
		return keep
	}
	h := sum(x.lab.Name, "mgmt")
	start := (int(h[0])<<8 | int(h[1])) % 4096
	for i := 0; i < 4096; i++ {
		idx := (start + i) % 4096
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(16 + idx>>8), byte(idx & 255), 0}), 24)
		if free(p, true) {
			return p
		}
	}
	x.l.errorf(x.l.lab.defRange(), "No management network", "Every /24 in 172.16.0.0/12 overlaps a lab network; set management_cidr.")
	return netip.Prefix{}
}

func (x *expander) collectVMs() {
	for _, g := range slices.Sorted(maps.Keys(x.l.ev.vmGroups)) {
		for _, e := range x.l.ev.vmGroups[g] {
			if prev, ok := x.vms[e.vm.Name]; ok {
				x.l.errorf(e.b.labelRange(), "Duplicate VM name", "VM name %q (from vm %q) is also produced by vm %q at %s; fleets are named <label>-<n>.", e.vm.Name, e.vm.Group, prev.vm.Group, prev.b.defRange())
				continue
			}
			x.vms[e.vm.Name] = e
			x.order = append(x.order, e)
		}
	}
	sort.Slice(x.order, func(i, j int) bool { return x.order[i].vm.Name < x.order[j].vm.Name })
	for _, e := range x.order {
		x.roles[e.vm.Name] = map[Role]bool{}
		for _, n := range e.nics {
			if x.nets[n.net] == nil {
				e.nicsLost = true
				continue // the network failed to evaluate; already reported
			}
			nic := &NIC{Network: x.nets[n.net], Model: n.model, IP: n.ip, MAC: n.mac, MTU: x.nicMTU(n)}
			nic.Prefix = nic.Network.CIDR.Bits()
			x.nicOf[nic] = n
			e.vm.NICs = append(e.vm.NICs, nic)
		}
	}
}

// disks assigns libvirt targets: vda is the system disk, data disks follow
// per bus prefix (virtio vdb…, sata/scsi sdb…, ide hda…), then RAID members,
// then the cloud-init seed as the next virtio disk.
func (x *expander) disks() {
	for _, e := range x.order {
		next := map[string]int{"vd": 1, "sd": 1, "hd": 0}
		target := func(bus string) string {
			p := map[string]string{"virtio": "vd", "sata": "sd", "scsi": "sd", "ide": "hd"}[bus]
			t := p + diskLetters(next[p])
			next[p]++
			return t
		}
		for _, d := range e.disks {
			d.d.Target = target(d.d.Bus)
			d.d.Serial = diskSerial(e.vm.Name, d.d.Name)
			e.vm.Disks = append(e.vm.Disks, d.d)
		}
		if r := e.raid; r != nil {
			e.vm.RAID = r.r
			for i := 0; i < r.r.Members+r.r.Spares; i++ {
				d := &Disk{
					Name:       fmt.Sprintf("raid-%d", i),
					SizeBytes:  r.r.MemberSize,
					Bus:        r.r.Bus,
					Format:     r.format,
					Cache:      r.cache,
					RAIDMember: true,
				}
				d.Target = target(d.Bus)
				d.Serial = diskSerial(e.vm.Name, d.Name)
				e.vm.Disks = append(e.vm.Disks, d)
			}
			x.roles[e.vm.Name][RoleRAID] = true
		}
		e.vm.SeedTarget = target("virtio")
		if next["hd"] > 4 {
			x.l.errorf(e.b.defRange(), "Too many IDE disks", "vm %q has %d IDE disks; the IDE bus holds at most 4 devices. Use bus = \"virtio\" or \"scsi\".", e.vm.Name, next["hd"])
		}
		x.checkPCISlots(e)
		serials := map[string]bool{}
		for _, d := range e.vm.Disks {
			if serials[d.Serial] {
				x.l.errorf(e.b.defRange(), "Duplicate disk serial", "vm %q: disk serial %q is not unique; shorten the disk names.", e.vm.Name, d.Serial)
			}
			serials[d.Serial] = true
		}
	}
}

// finishVMs applies roles, checks image capabilities and fills Lab.VMs.
func (x *expander) finishVMs() {
	warned := map[string]bool{}
	x.generic = x.needsGeneric()
	for _, e := range x.order {
		for _, r := range e.roles {
			x.roles[e.vm.Name][r] = true
		}
		for _, r := range RoleOrder {
			if x.roles[e.vm.Name][r] {
				e.vm.Roles = append(e.vm.Roles, r)
			}
		}
		if x.l.opts.ImageCaps != nil {
			x.checkImage(e, warned)
		}
		x.lab.VMs = append(x.lab.VMs, e.vm)
	}
}
