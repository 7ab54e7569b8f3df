package topology

import (
	"math"
	"net/netip"
	"slices"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func absPath(l *loader, s scope, name, v string) string {
	if msg := guestPathError(name, v); msg != "" {
		l.errorf(s.rng(name), "Invalid path", "%s", msg)
	}
	return v
}

func (l *loader) evalNFS(b *block, ctx *hcl.EvalContext) cty.Value {
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	x := &NFSExport{Name: b.name, Range: b.defRange()}
	e := &nfsEval{x: x, s: s}
	l.rejectNullRequired(s, "nfs")
	e.server, _ = s.ref("server", "vm")
	x.Path = absPath(l, s, "path", s.str("path", "/srv/"+b.name))
	x.Allow, e.allow = s.cidr("allow")
	x.Options = []string{"rw", "sync", "no_subtree_check"}
	if o, ok := s.strList("options"); ok {
		x.Options = o
	}
	e.clients, e.clientsOK = s.refs("clients", "vm")
	e.clientsOK = e.clientsOK || !s.has("clients")
	x.MountPoint = absPath(l, s, "mount", s.str("mount", x.Path))
	e.mountFailed = mountVal(s, x.MountPoint).IsMarked()
	x.MountOpts = []string{"_netdev", "hard"}
	if o, ok := s.strList("mount_options"); ok {
		x.MountOpts = o
	}
	nfsOptions(l, s, "options", x.Options)
	for i, o := range x.Options {
		if nfsRootOption(o) {
			l.errorf(s.elemRange("options", cty.NumberIntVal(int64(i))), "NFSv4 pseudo-root in options", fsidHint, o, x.Path, e.server, x.Path)
		}
	}
	nfsOptions(l, s, "mount_options", x.MountOpts)
	l.ev.nfs[b.name] = e
	return cty.ObjectVal(map[string]cty.Value{
		"kind":   cty.StringVal("nfs"),
		"name":   cty.StringVal(b.name),
		"server": s.strVal("server", e.server),
		"path":   s.strVal("path", x.Path),
		"mount":  mountVal(s, x.MountPoint),
	})
}

// mountVal is the mount point's value; it defaults to path, so it fails
// with either.
func mountVal(s scope, mount string) cty.Value {
	if !s.has("mount") && s.failed("path") {
		return failedVal
	}
	return s.strVal("mount", mount)
}

// nfsOptions checks one option list; each list's errors point at its own
// attribute (or element) since both end up in different guest files.
func nfsOptions(l *loader, s scope, name string, opts []string) {
	for i, o := range opts {
		if _, bad := unsafePathChar(o); o == "" || bad {
			l.errorf(s.elemRange(name, cty.NumberIntVal(int64(i))), "Invalid option", "NFS option %q in %s must be one word without spaces, control characters, quotes or any of %s.", o, name, badList())
		}
	}
}

func (l *loader) evalWeb(b *block, ctx *hcl.EvalContext) cty.Value {
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	w := &WebSite{Name: b.name, Range: b.defRange()}
	e := &webEval{w: w, s: s}
	l.rejectNullRequired(s, "web")
	e.servers, e.serversOK = s.refs("servers", "vm")
	if s.has("content") {
		e.content, _ = s.ref("content", "nfs")
	}
	w.Docroot = absPath(l, s, "docroot", s.str("docroot", "/var/www/html"))
	w.HealthPath = s.str("health_path", "/health.html")
	if msg := urlPathError("health_path", w.HealthPath); msg != "" {
		l.errorf(s.rng("health_path"), "Invalid path", "%s", msg)
	} else if msg := healthPathError(w.HealthPath); msg != "" {
		l.errorf(s.rng("health_path"), "Invalid path", "%s", msg)
	}
	l.ev.web[b.name] = e
	return cty.ObjectVal(map[string]cty.Value{"kind": cty.StringVal("web"), "name": cty.StringVal(b.name), "docroot": s.strVal("docroot", w.Docroot)})
}

func (l *loader) evalLVS(b *block, ctx *hcl.EvalContext) cty.Value {
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	x := &LVSService{
		Name:      b.name,
		Port:      s.integer("port", 80, 1, 65535),
		Protocol:  enum(s, "protocol", "tcp", protocols),
		Mode:      LVSMode(enum(s, "mode", "nat", lvsModes)),
		Scheduler: enum(s, "scheduler", "rr", Schedulers),
		Stack:     enum(s, "stack", StackKeepalived, DirectorStacks),
		Range:     b.defRange(),
	}
	e := &lvsEval{x: x, s: s, weights: map[string]int{}}
	l.rejectNullRequired(s, "lvs")
	x.VIP, _ = s.addr("vip")
	x.GatewayVIP, _ = s.addr("gateway_vip")
	e.directors, e.dirsOK = s.refs("directors", "vm")
	e.backends, e.backsOK = s.refs("backends", "vm")
	e.routerID = s.integer("router_id", 0, 1, 254)
	if v, ok := s.val("weights", cty.Map(cty.Number)); ok {
		for k, w := range v.AsValueMap() {
			if i, ok := s.toInt("weights", w, 0, 65535); ok {
				e.weights[k] = i
			}
		}
	}
	if ss := s.str("sorry_server", ""); ss != "" {
		if msg := sorryServerError(ss); msg != "" {
			l.errorf(s.rng("sorry_server"), "Invalid sorry_server", "%s", msg)
			ss = ""
		}
		x.SorryServer = ss
	}
	if x.Stack == StackPacemaker {
		x.MigrationThreshold = s.integer("migration_threshold", 3, 1, 1000)
		x.FailureTimeoutSec = wholeSeconds(l, s, "failure_timeout", 120)
		if s.has("router_id") {
			l.errorf(s.rng("router_id"), "Unsupported argument", "router_id is keepalived's VRRP id; with stack = \"pacemaker\" Corosync and Pacemaker move the VIP, not VRRP.")
		}
	} else {
		for _, n := range []string{"migration_threshold", "failure_timeout"} {
			if s.has(n) {
				l.errorf(s.rng(n), "Unsupported argument", "%s is a Pacemaker resource option; it applies only with stack = \"pacemaker\".", n)
			}
		}
	}
	x.Health = HealthCheck{Type: "http", Path: "/", Status: 200, IntervalSec: 5, TimeoutSec: 3, Retries: 2}
	for _, sb := range b.blocks {
		bs := scope{l: l, attrs: sb.attrs, ctx: ctx, def: sb.defRange()}
		switch sb.kind {
		case "persistence":
			p := &Persistence{TimeoutSec: bs.integer("timeout", 300, 1, 86400*7), Netmask: bs.str("netmask", "")}
			if p.Netmask != "" {
				if a, err := netip.ParseAddr(p.Netmask); err != nil || !a.Is4() || !isMask(a) {
					l.errorf(bs.rng("netmask"), "Invalid netmask", "netmask must be a dotted IPv4 mask such as \"255.255.255.0\", got %q.", p.Netmask)
				}
			}
			x.Persistence = p
		case "health_check":
			h := &x.Health
			h.Type = enum(bs, "type", "http", healthTypes)
			h.Path = bs.str("path", "/")
			h.Status = bs.integer("status", 200, 100, 599)
			h.IntervalSec = wholeSeconds(l, bs, "interval", 5)
			h.TimeoutSec = wholeSeconds(l, bs, "timeout", 3)
			h.Retries = bs.integer("retries", 2, 0, 100)
			if h.Type == "tcp" {
				h.Path, h.Status = "", 0
				for _, n := range []string{"path", "status"} {
					if bs.has(n) {
						l.errorf(bs.rng(n), "Unsupported argument", "%s applies only to type = \"http\" health checks.", n)
					}
				}
			} else if msg := urlPathError("path", h.Path); msg != "" {
				l.errorf(bs.rng("path"), "Invalid path", "%s", msg)
			} else if x.Stack == StackPacemaker && (h.Status < 200 || h.Status > 299) {
				l.errorf(bs.rng("status"), "Unsupported status", "ldirectord (stack = \"pacemaker\") counts any 2xx answer as healthy and nothing else; status %d needs stack = \"keepalived\".", h.Status)
			}
		}
	}
	l.ev.lvs[b.name] = e
	vip, gvip := cty.NullVal(cty.String), cty.NullVal(cty.String)
	if x.VIP.IsValid() {
		vip = s.strVal("vip", x.VIP.String())
	} else if s.failed("vip") {
		vip = failedVal
	}
	if x.GatewayVIP.IsValid() {
		gvip = s.strVal("gateway_vip", x.GatewayVIP.String())
	} else if s.failed("gateway_vip") {
		gvip = failedVal
	}
	port := cty.NumberIntVal(int64(x.Port))
	if s.failed("port") {
		port = failedVal
	}
	return cty.ObjectVal(map[string]cty.Value{
		"kind":        cty.StringVal("lvs"),
		"name":        cty.StringVal(b.name),
		"vip":         vip,
		"gateway_vip": gvip,
		"port":        port,
	})
}

func isMask(a netip.Addr) bool {
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	return m == 0 || (^m)&(^m+1) == 0
}

func wholeSeconds(l *loader, s scope, name string, def int) int {
	f := s.seconds(name, float64(def))
	if f < 1 || f != math.Trunc(f) || f > 3600 {
		l.errorf(s.rng(name), "Invalid duration", "%s must be a whole number of seconds between 1s and 1h (keepalived's unit).", name)
		return def
	}
	return int(f)
}

func (l *loader) evalExperiment(b *block, ctx *hcl.EvalContext) {
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	x := &Experiment{
		Name:        b.name,
		Tool:        enum(s, "tool", ToolBuiltin, Tools),
		Concurrency: s.integer("concurrency", 10, 1, 10000),
		Requests:    s.integer("requests", 0, 0, 100000000),
		DurationSec: s.seconds("duration", 20),
		RateRPS:     s.number("rate", 0, 0, 1e6),
		Repeat:      s.integer("repeat", DefaultRepeat, 1, 1000),
		Range:       b.defRange(),
	}
	e := &expEval{e: x, s: s}
	l.rejectNullRequired(s, "experiment")
	e.service, _ = s.ref("service", "lvs")
	x.Service = e.service
	if s.has("client") {
		e.client, _ = s.ref("client", "vm")
	} else {
		l.errorf(b.defRange(), "Missing client", "experiment %q has no client: labctl bench runs the load on a lab VM, never on the host. Add client = vm.<name>, a VM with a NIC on the VIP's network (it gets the client role).", b.name)
	}
	if x.Requests == 0 && x.DurationSec <= 0 {
		l.errorf(s.rng("duration"), "Invalid duration", "An experiment needs requests > 0 or a positive duration.")
	}
	if x.DurationSec > 3600 {
		l.errorf(s.rng("duration"), "Invalid duration", "duration is per point and at most 1h.")
	}
	x.RealServers, _ = s.intList("real_servers", 1, 1000)
	if sc, ok := s.strList("schedulers"); ok {
		for _, v := range sc {
			if !slices.Contains(Schedulers, Scheduler(v)) {
				l.errorf(s.rng("schedulers"), "Invalid value", "scheduler %q is not one of %s.%s", v, quoteList(Schedulers), didYouMean(v, Schedulers))
			}
			x.Schedulers = append(x.Schedulers, Scheduler(v))
		}
	}
	for _, fb := range b.blocks {
		fs := scope{l: l, attrs: fb.attrs, ctx: ctx, def: fb.defRange()}
		if !slices.Contains(FaultKinds, FaultKind(fb.name)) {
			l.errorf(fb.labelRange(), "Unknown fault", "fault %q is not one of %s.%s", fb.name, quoteList(FaultKinds), didYouMean(fb.name, FaultKinds))
			continue
		}
		l.rejectNullRequired(fs, "fault")
		fe := faultEval{f: Fault{Kind: FaultKind(fb.name), AfterSec: fs.seconds("after", 0)}, s: fs}
		fe.target, _ = fs.ref("target", "vm")
		e.faults = append(e.faults, fe)
	}
	l.ev.experiments[b.name] = e
}
