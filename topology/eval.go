package topology

import (
	"net/netip"
	"path"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// evaluated holds every block after evaluation, before expansion.
type evaluated struct {
	lab         labEval
	networks    map[string]*netEval
	vmGroups    map[string][]*vmEval
	nfs         map[string]*nfsEval
	web         map[string]*webEval
	lvs         map[string]*lvsEval
	experiments map[string]*expEval
	exercise    *exerciseEval
}

type labEval struct {
	lab     Lab
	mgmt    netip.Prefix
	mgmtSet bool
	s       scope
}

type netEval struct {
	n         *Network
	hostIPSet bool
	s         scope
}

type vmEval struct {
	vm       *VM
	b        *block
	s        scope
	nics     []*nicEval
	disks    []*diskEval
	raid     *raidEval
	roles    []Role
	rolesRng hcl.Range
	// nicsLost is set when a nic block names no declared network: the VM
	// then lacks a NIC, and checks of what it can reach are skipped.
	nicsLost bool
}

type nicEval struct {
	net   string
	ip    netip.Addr
	gw    netip.Addr
	mac   string
	model string
	mtu   int // 0 = the network's
	b     *block
	s     scope
}

type diskEval struct {
	d *Disk
	s scope
}

type raidEval struct {
	r      *RAID
	format string
	cache  string
	s      scope
}

type nfsEval struct {
	x       *NFSExport
	server  string
	clients []string
	allow   bool
	s       scope
	// clientsOK is false when some clients failed (already reported).
	clientsOK   bool
	mountFailed bool
}

type webEval struct {
	w         *WebSite
	servers   []string
	content   string
	s         scope
	serversOK bool
}

type lvsEval struct {
	x         *LVSService
	directors []string
	backends  []string
	weights   map[string]int
	routerID  int
	s         scope
	// dirsOK and backsOK are false when some directors or backends
	// failed (already reported): checks of the whole list are skipped.
	dirsOK, backsOK bool
}

type expEval struct {
	e       *Experiment
	service string
	client  string
	faults  []faultEval
	s       scope
}

type faultEval struct {
	f      Fault
	target string
	s      scope
}

var macRe = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){5}$`)

func (l *loader) ctxFor(n *node) *hcl.EvalContext {
	vars := map[string]cty.Value{"var": cty.ObjectVal(l.varVals)}
	group := map[string]map[string]cty.Value{}
	for _, d := range n.deps {
		kind, name, _ := strings.Cut(d, ".")
		if group[kind] == nil {
			group[kind] = map[string]cty.Value{}
		}
		group[kind][name] = l.values[d]
	}
	for kind, m := range group {
		vars[kind] = cty.ObjectVal(m)
	}
	return &hcl.EvalContext{Variables: vars, Functions: l.funcs}
}

// evaluate computes every node in dependency order.
func (l *loader) evaluate(order []*node) {
	l.ev = evaluated{
		networks:    map[string]*netEval{},
		vmGroups:    map[string][]*vmEval{},
		nfs:         map[string]*nfsEval{},
		web:         map[string]*webEval{},
		lvs:         map[string]*lvsEval{},
		experiments: map[string]*expEval{},
	}
	for _, n := range order {
		if l.nodeFailed[n.key] {
			l.values[n.key] = failedVal
			continue
		}
		ctx := l.ctxFor(n)
		before := len(l.diags)
		kind, name, _ := strings.Cut(n.key, ".")
		var v cty.Value
		switch kind {
		case "lab":
			v = l.evalLab(ctx)
		case "local":
			a := l.locals[name]
			val, d := a.Expr.Value(ctx)
			l.diags = append(l.diags, d...)
			v = val
		case "network":
			v = l.evalNetwork(l.decls[kind][name], ctx)
		case "template":
			v = cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("template"), "name": cty.StringVal(name)})
		case "vm":
			v = l.evalVM(l.decls[kind][name], ctx)
		case "nfs":
			v = l.evalNFS(l.decls[kind][name], ctx)
		case "web":
			v = l.evalWeb(l.decls[kind][name], ctx)
		case "lvs":
			v = l.evalLVS(l.decls[kind][name], ctx)
		case "experiment":
			l.evalExperiment(l.decls[kind][name], ctx)
			v = cty.DynamicVal
		case "exercise":
			l.evalExercise(l.decls[kind][name], ctx)
			v = cty.DynamicVal
		}
		// Objects keep their value despite errors in their attributes: it
		// names the object (so lists of it stay valid and later stages still
		// check it) and marks the attributes that failed.
		if v == cty.NilVal || (l.diags[before:].HasErrors() && !keepsValue[kind]) {
			v = failedVal
		}
		l.values[n.key] = v
	}
}

// keepsValue lists the kinds whose value marks its own failed attributes.
var keepsValue = map[string]bool{"network": true, "template": true, "vm": true, "nfs": true, "web": true, "lvs": true}

func (l *loader) evalLab(ctx *hcl.EvalContext) cty.Value {
	b := l.lab
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	e := &l.ev.lab
	e.s = s
	e.lab = Lab{
		Name:     b.name,
		URI:      s.str("uri", "qemu:///system"),
		Pool:     s.str("pool", b.name),
		PoolPath: s.str("pool_path", ""),
		Image:    s.str("image", "bookworm-cloud"),
		Accel:    Accel(enum(s, "accel", "auto", accels)),
		SSHUser:  s.str("ssh_user", "labctl"),
		Copies:   s.integer("copies", 0, 0, MaxCopies),
	}
	if l.opts.Copy != "" {
		e.lab.Class, e.lab.Copy = l.class, l.opts.Copy
		if s.has("pool") && !s.boolean("shared_pool", false) {
			l.errorf(s.rng("pool"), "Pool shared by copies", "copy %s: every copy of the lab would use pool %q; remove pool (each copy gets its own) or set shared_pool = true.", l.opts.Copy, e.lab.Pool)
		}
	}
	e.lab.SharedPool = s.boolean("shared_pool", false)
	if e.lab.PoolPath != "" && !path.IsAbs(e.lab.PoolPath) {
		l.errorf(s.rng("pool_path"), "Invalid path", "pool_path must be absolute, got %q.", e.lab.PoolPath)
	}
	if e.lab.SSHUser == "" || !hostNameRe.MatchString(e.lab.SSHUser) || e.lab.SSHUser == "root" {
		l.errorf(s.rng("ssh_user"), "Invalid ssh_user", "ssh_user %q must be a plain lower-case user name other than root.", e.lab.SSHUser)
	}
	e.mgmt, e.mgmtSet = s.cidr("management_cidr")
	if msg := reservedCIDRError("management_cidr", e.mgmt); e.mgmtSet && msg != "" {
		l.errorf(s.rng("management_cidr"), "Invalid CIDR", "%s", msg)
	}
	return cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(b.name)})
}

func (l *loader) evalNetwork(b *block, ctx *hcl.EvalContext) cty.Value {
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	n := &Network{
		Name:        b.name,
		LibvirtName: l.lab.name + "-" + b.name,
		Mode:        NetMode(enum(s, "mode", "isolated", netModes)),
		DHCP:        s.boolean("dhcp", false),
		MTU:         s.integer("mtu", 0, 0, 65535),
		Domain:      s.str("domain", ""),
		Bridge:      s.str("bridge", ""),
		Range:       b.defRange(),
	}
	if n.MTU != 0 && n.MTU < 576 {
		l.errorf(s.rng("mtu"), "Invalid value", "mtu must be at least 576 (or omitted for the default), got %d.", n.MTU)
	}
	e := &netEval{n: n, s: s}
	l.rejectNullRequired(s, "network")
	n.CIDR, _ = s.cidr("cidr")
	if msg := reservedCIDRError("cidr", n.CIDR); n.CIDR.IsValid() && msg != "" {
		l.errorf(s.rng("cidr"), "Invalid CIDR", "%s", msg)
	}
	if n.CIDR.IsValid() && n.CIDR.Bits() > maxNetworkBits {
		l.errorf(s.rng("cidr"), "Network too small", "%s leaves no room for the host, VMs and VIPs; use at most /29.", n.CIDR)
	}
	if n.Mode == NetBridge {
		if n.Bridge == "" {
			l.errorf(b.defRange(), "Missing bridge", "network %q has mode = \"bridge\", which attaches to an existing host bridge; set bridge = \"<device>\" (e.g. \"kvmbr0\").", b.name)
		}
		n.LibvirtName = n.Bridge
	} else if s.has("bridge") {
		l.errorf(s.rng("bridge"), "Unsupported argument", "bridge is only for mode = \"bridge\"; labctl names the bridge of a %s network itself.", n.Mode)
		n.Bridge = ""
	}
	if len(n.Bridge) > 15 {
		l.errorf(s.rng("bridge"), "Invalid bridge name", "Linux interface names have at most 15 characters; %q has %d.", n.Bridge, len(n.Bridge))
	} else if n.Bridge != "" && !ifNameRe.MatchString(n.Bridge) {
		l.errorf(s.rng("bridge"), "Invalid bridge name", "bridge %q must be a Linux interface name: letters, digits, '_', '.' and '-'.", n.Bridge)
	}
	if n.Domain != "" {
		if msg := domainError(n.Domain); msg != "" {
			l.errorf(s.rng("domain"), "Invalid domain", "%s", msg)
		}
	}
	if a, ok := s.addr("host_ip"); ok {
		if n.Mode != NetNAT && n.Mode != NetRouted {
			l.errorf(s.rng("host_ip"), "Unsupported argument", "host_ip is only for nat and routed networks; on a %s network the host has no address.", n.Mode)
		}
		n.HostIP, e.hostIPSet = a, true
	} else if (n.Mode == NetNAT || n.Mode == NetRouted) && n.CIDR.IsValid() {
		n.HostIP, _ = hostAddr(n.CIDR, 1)
	}
	if n.DHCP && (n.Mode == NetBridge) {
		l.errorf(s.rng("dhcp"), "Unsupported argument", "dhcp is served by libvirt and cannot be enabled on an existing host bridge.")
	}
	if n.DHCP && !n.HostIP.IsValid() {
		l.errorf(s.rng("dhcp"), "Unsupported argument", "dhcp needs a host address on the network; use mode = \"nat\" or \"routed\".")
	}
	l.ev.networks[b.name] = e
	cidr, host := cty.NullVal(cty.String), cty.NullVal(cty.String)
	if n.CIDR.IsValid() {
		cidr = cty.StringVal(n.CIDR.String())
	} else if s.failed("cidr") {
		cidr = failedVal
	}
	if n.HostIP.IsValid() {
		host = cty.StringVal(n.HostIP.String())
	}
	if s.failed("host_ip") || (!s.has("host_ip") && s.failed("cidr")) {
		host = failedVal
	}
	return cty.ObjectVal(map[string]cty.Value{
		"kind":         cty.StringVal("network"),
		"name":         cty.StringVal(b.name),
		"libvirt_name": s.strVal("bridge", n.LibvirtName),
		"mode":         s.strVal("mode", string(n.Mode)),
		"cidr":         cidr,
		"host_ip":      host,
	})
}
