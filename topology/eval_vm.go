package topology

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// maxCount bounds fleets so a typo cannot create a million VMs.
const maxCount = 1000

// Upper bounds that catch unit typos ("512GiB" for "512MiB") before libvirt
// or qemu-img fails halfway through creating the lab.
const (
	maxMemoryMiB  = 1 << 20 // 1TiB
	maxDiskBytes  = 64 << 40
	maxDiskString = "64TiB"
)

var cpuModelRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// evalVM evaluates a vm block (one instance per count.index) and returns
// its value: an object, or a tuple of objects when count is set.
func (l *loader) evalVM(b *block, ctx *hcl.EvalContext) cty.Value {
	sp := l.specs["vm."+b.name]
	counted := sp.attrs["count"] != nil
	count := 1
	if counted {
		s := scope{l: l, attrs: hcl.Attributes{"count": sp.attrs["count"]}, ctx: ctx, def: b.defRange()}
		v, ok := s.val("count", cty.Number)
		if !ok {
			// null would otherwise read as "absent" and drop the VM silently.
			if s.isNull("count") {
				l.errorf(s.rng("count"), "Invalid value", "count must be a whole number between 0 and %d, got null; remove count for a single VM.", maxCount)
			}
			return failedVal
		}
		c, ok := s.toInt("count", v, 0, maxCount)
		if !ok {
			return failedVal
		}
		count = c
	}
	var objs []cty.Value
	for i := 0; i < count; i++ {
		name := b.name
		ictx := ctx
		if counted {
			name = fmt.Sprintf("%s-%d", b.name, i+1)
			ictx = ctx.NewChild()
			ictx.Variables = map[string]cty.Value{"count": cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})}
		}
		e := l.evalVMInstance(b, sp, ictx, name, i)
		l.ev.vmGroups[b.name] = append(l.ev.vmGroups[b.name], e)
		objs = append(objs, vmValue(e, l.ev.networks))
	}
	if !counted {
		return objs[0]
	}
	if len(objs) == 0 {
		return cty.EmptyTupleVal
	}
	return cty.TupleVal(objs)
}

func (l *loader) evalVMInstance(b *block, sp *spec, ctx *hcl.EvalContext, name string, index int) *vmEval {
	s := scope{l: l, attrs: sp.attrs, ctx: ctx, def: b.defRange()}
	vm := &VM{
		Name:        name,
		Group:       b.name,
		Index:       index,
		LibvirtName: l.lab.name + "-" + name,
		Hostname:    s.str("hostname", name),
		VCPUs:       s.integer("vcpus", 1, 1, 64),
		Image:       s.str("image", l.ev.lab.lab.Image),
		CPUMode:     s.str("cpu", "maximum"),
		Range:       b.defRange(),
	}
	if !hostNameRe.MatchString(vm.Hostname) || len(vm.Hostname) > 63 {
		l.errorf(s.rng("hostname"), "Invalid hostname", "hostname %q must start with a letter and use only a-z, 0-9 and '-' (at most 63).", vm.Hostname)
	}
	if !slices.Contains(cpuModes, vm.CPUMode) && !cpuModelRe.MatchString(vm.CPUMode) {
		l.errorf(s.rng("cpu"), "Invalid value", "cpu = %q is neither one of %s nor a CPU model name.", vm.CPUMode, quoteList(cpuModes))
	}
	vm.MemoryMiB = 512
	if mem, ok := s.val("memory", cty.DynamicPseudoType); ok {
		vm.MemoryMiB = l.memory(s, mem)
	}
	e := &vmEval{vm: vm, b: b, s: s}
	if roles, ok := s.strList("roles"); ok {
		e.rolesRng = s.rng("roles")
		for _, r := range roles {
			if !slices.Contains(RoleOrder, Role(r)) {
				l.errorf(e.rolesRng, "Unknown role", "role %q is not one of %s.%s", r, quoteList(RoleOrder), didYouMean(r, RoleOrder))
				continue
			}
			e.roles = append(e.roles, Role(r))
		}
	}
	for _, nb := range sp.nics {
		if _, ok := l.decls["network"][nb.name]; !ok {
			e.nicsLost = true
			l.errorf(nb.labelRange(), "Reference to undeclared network", "There is no network %q.%s", nb.name, didYouMean(nb.name, slices.Sorted(maps.Keys(l.decls["network"]))))
			continue
		}
		ns := scope{l: l, attrs: nb.attrs, ctx: ctx, def: nb.defRange()}
		ne := &nicEval{net: nb.name, b: nb, s: ns, model: enum(ns, "model", "virtio", nicModels)}
		ne.ip, _ = ns.addr("ip")
		ne.gw, _ = ns.addr("gateway")
		ne.mtu = ns.integer("mtu", 0, 576, 65535)
		if ns.has("mac") {
			ne.mac = strings.ToLower(ns.str("mac", ""))
			if !macRe.MatchString(ne.mac) {
				l.errorf(ns.rng("mac"), "Invalid MAC address", "mac = %q is not of the form \"52:54:00:12:34:56\".", ne.mac)
				ne.mac = ""
			} else if ne.mac == "00:00:00:00:00:00" {
				l.errorf(ns.rng("mac"), "Invalid MAC address", "mac = %q is all zeros, which no NIC may use; use one such as 52:54:00:12:34:56.", ne.mac)
				ne.mac = ""
			} else if strings.IndexByte("13579bdf", ne.mac[1]) >= 0 {
				l.errorf(ns.rng("mac"), "Invalid MAC address", "mac = %q is a multicast address (lowest bit of the first byte set); use a unicast one such as 52:54:00:…", ne.mac)
				ne.mac = ""
			}
		}
		e.nics = append(e.nics, ne)
	}
	for _, db := range sp.disks {
		ds := scope{l: l, attrs: db.attrs, ctx: ctx, def: db.defRange()}
		l.rejectNullRequired(ds, "disk")
		d := &Disk{
			Name:   db.name,
			Bus:    enum(ds, "bus", "virtio", buses),
			Format: enum(ds, "format", "qcow2", diskFormats),
			Cache:  enum(ds, "cache", "default", diskCaches),
		}
		if !identRe.MatchString(d.Name) || strings.HasPrefix(d.Name, "raid-") {
			l.errorf(db.labelRange(), "Invalid disk name", "disk name %q must start with a letter, use a-z, 0-9, '_' and '-', and not start with \"raid-\" (reserved for RAID members).", d.Name)
		}
		d.SizeBytes, _ = ds.size("size")
		if d.SizeBytes != 0 && d.SizeBytes < 1<<20 {
			l.errorf(ds.rng("size"), "Disk too small", "size must be at least 1MiB.")
		}
		d.SizeBytes = l.capDisk(ds, "size", d.SizeBytes)
		e.disks = append(e.disks, &diskEval{d: d, s: ds})
	}
	if rb := sp.raid; rb != nil {
		e.raid = l.evalRAID(rb, ctx)
	}
	return e
}

func (l *loader) memory(s scope, v cty.Value) uint64 {
	if v.Type() == cty.Number {
		n := v.AsBigFloat().Text('f', -1)
		l.errorf(s.rng("memory"), "Missing unit", "memory needs a unit: write %q (binary units: MiB, GiB).", n+"MiB")
		return 0
	}
	if v.Type() != cty.String {
		l.errorf(s.rng("memory"), "Incorrect attribute value type", "memory must be a string such as \"512MiB\".")
		return 0
	}
	mib, err := parseMemoryMiB(v.AsString())
	if err != nil {
		l.errorf(s.rng("memory"), "Invalid memory size", "memory: %s.", err)
		return 0
	}
	if mib < 128 {
		l.errorf(s.rng("memory"), "Memory too small", "memory = %q: a Debian guest needs at least 128MiB (256MiB or more recommended).", v.AsString())
	}
	if mib > maxMemoryMiB {
		l.errorf(s.rng("memory"), "Memory too large", "memory = %q is more than 1TiB; check the unit (e.g. \"512MiB\", not \"512GiB\").", v.AsString())
		return 0
	}
	return mib
}

// capDisk rejects a disk or RAID member size above maxDiskBytes.
func (l *loader) capDisk(s scope, name string, b uint64) uint64 {
	if b <= maxDiskBytes {
		return b
	}
	l.errorf(s.rng(name), "Disk too large", "%s must be at most %s, got %gTiB; check the unit.", name, maxDiskString, float64(b)/(1<<40))
	return 0
}

func (l *loader) evalRAID(rb *block, ctx *hcl.EvalContext) *raidEval {
	s := scope{l: l, attrs: rb.attrs, ctx: ctx, def: rb.defRange()}
	l.rejectNullRequired(s, "raid")
	r := &RAID{
		Name:       rb.name,
		Level:      s.integer("level", 0, 0, 10),
		Members:    s.integer("members", 0, 1, 64),
		Spares:     s.integer("spares", 0, -1<<30, 16),
		Bus:        enum(s, "bus", "virtio", buses),
		Filesystem: enum(s, "filesystem", "ext4", filesystems),
		Mount:      s.str("mount", "/srv/"+rb.name),
	}
	if !identRe.MatchString(r.Name) {
		l.errorf(rb.labelRange(), "Invalid raid name", "raid name %q must start with a letter and use a-z, 0-9, '_' and '-'.", r.Name)
	}
	if r.Spares < 0 {
		l.errorf(s.rng("spares"), "Invalid value", "spares must be 0 or more, got %d.", r.Spares)
		r.Spares = 0
	}
	if s.has("level") && s.has("members") {
		if min, ok := raidLevels[r.Level]; !ok {
			l.errorf(s.rng("level"), "Invalid RAID level", "level %d is not one of 0, 1, 5, 6, 10.", r.Level)
		} else if r.Members < min {
			l.errorf(s.rng("members"), "Too few RAID members", "RAID %d needs at least %d members, got %d.", r.Level, min, r.Members)
		} else if r.Level == 10 && r.Members%2 != 0 {
			l.errorf(s.rng("members"), "Invalid RAID members", "RAID 10 needs an even number of members, got %d.", r.Members)
		}
	}
	r.MemberSize, _ = s.size("member_size")
	if r.MemberSize != 0 && r.MemberSize < 8<<20 {
		l.errorf(s.rng("member_size"), "RAID member too small", "member_size must be at least 8MiB for mdadm metadata and a filesystem.")
	}
	r.MemberSize = l.capDisk(s, "member_size", r.MemberSize)
	if c, ok := s.size("chunk"); ok {
		if c < 4<<10 || c&(c-1) != 0 {
			l.errorf(s.rng("chunk"), "Invalid chunk", "chunk must be a power of two of at least 4KiB, e.g. \"512KiB\".")
		} else {
			r.ChunkKiB = int(c >> 10)
		}
	}
	if msg := guestPathError("mount", r.Mount); msg != "" {
		l.errorf(s.rng("mount"), "Invalid mount point", "%s", msg)
	}
	return &raidEval{r: r, s: s, format: enum(s, "format", "qcow2", diskFormats), cache: enum(s, "cache", "default", diskCaches)}
}

// vmValue is what vm.<name> evaluates to; addresses not given explicitly are
// unknown (marked) until expansion assigns them.
func vmValue(e *vmEval, nets map[string]*netEval) cty.Value {
	ips := map[string]cty.Value{}
	first := cty.UnknownVal(cty.String).Mark(autoMark)
	for i, n := range e.nics {
		v := cty.UnknownVal(cty.String).Mark(autoMark)
		switch {
		case n.s.failed("ip"):
			v = failedVal
		case n.ip.IsValid():
			v = cty.StringVal(n.ip.String())
		}
		ips[n.net] = v
		if i == 0 {
			first = v
		}
	}
	ipsVal := cty.EmptyObjectVal
	if len(ips) > 0 {
		ipsVal = cty.ObjectVal(ips)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"kind":     cty.StringVal("vm"),
		"name":     cty.StringVal(e.vm.Name),
		"group":    cty.StringVal(e.vm.Group),
		"index":    cty.NumberIntVal(int64(e.vm.Index)),
		"hostname": e.s.strVal("hostname", e.vm.Hostname),
		"ip":       first,
		"ips":      ipsVal,
	})
}
