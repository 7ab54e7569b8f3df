package roles

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/labctl/labctl/templates"
	"github.com/labctl/labctl/topology"
)

const (
	keepalivedConf     = "/etc/keepalived/keepalived.conf"
	directorSysctlConf = "/etc/sysctl.d/60-labctl-director.conf"
	directorModules    = "/etc/modules-load.d/labctl-director.conf"
)

// VRRP priorities: the first director starts as MASTER, about 50 above the
// backups as keepalived.conf(5) suggests.
const (
	masterPriority = 150
	backupPriority = 100
)

func directorRole() *role {
	return &role{
		name:     topology.RoleDirector,
		packages: []string{"keepalived", "ipvsadm", "kmod", "procps"},
		files:    directorFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			return []step{
				{name: "ip_vs module", writes: []string{directorModules}, run: directorModulesStep},
				{name: "sysctl", writes: []string{directorSysctlConf}, run: directorSysctlStep},
				{name: "keepalived.conf", writes: []string{keepalivedConf}, run: keepalivedConfStep},
				{name: "keepalived service", run: func(ctx context.Context, h *host) (bool, error) {
					return h.ensureService(ctx, "keepalived", "reload")
				}},
			}
		},
	}
}

type kaData struct {
	Lab, VM    string
	RouterID   string
	SyncDaemon *kaSync
	Groups     []kaGroup
	Instances  []kaInstance
	Services   []kaService
}

type kaSync struct{ Interface, Instance string }

type kaGroup struct {
	Name      string
	Instances []string
}

type kaInstance struct {
	Name      string
	State     string
	Interface string
	RouterID  int
	Priority  int
	VIPs      []string // "addr/prefix dev ifname"
}

type kaService struct {
	Name                   string
	VIP                    string
	Port                   int
	DelayLoop              int
	Scheduler              topology.Scheduler
	Kind                   string
	Protocol               string
	PersistenceTimeout     int
	PersistenceGranularity string
	SorryServer            string // "ip port"
	Reals                  []kaReal
}

type kaReal struct {
	IP     string
	Port   int
	Weight int
	Check  *kaCheck
}

type kaCheck struct {
	Type             string // http | tcp
	Path             string
	Status           int
	ConnectTimeout   int
	Retry            int
	DelayBeforeRetry int
}

// vrrpName turns an LVS service name into a keepalived identifier.
func vrrpName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, s)
}

func keepalivedData(lab *topology.Lab, vm *topology.VM) (*kaData, error) {
	d := &kaData{Lab: lab.Name, VM: vm.Name, RouterID: vm.Hostname}
	if d.RouterID == "" {
		d.RouterID = vm.Name
	}
	for _, s := range servicesDirectedBy(lab, vm) {
		if err := addService(d, s, vm); err != nil {
			return nil, fmt.Errorf("LVS service %q on director %q: %w", s.Name, vm.Name, err)
		}
	}
	return d, nil
}

func addService(d *kaData, s *topology.LVSService, vm *topology.VM) error {
	pos := slices.IndexFunc(s.Directors, func(x *topology.VM) bool { return x.Name == vm.Name })
	state, prio := "MASTER", masterPriority
	if pos > 0 {
		state, prio = "BACKUP", backupPriority-10*(pos-1)
	}
	if s.RouterID < 1 || s.RouterID > 254 {
		// NAT uses RouterID+1 for the internal instance.
		return fmt.Errorf("virtual_router_id %d out of range 1-254", s.RouterID)
	}
	ext, err := nicOn(vm, s.VIPNetwork)
	if err != nil {
		return err
	}
	base := vrrpName(s.Name)
	extInst := kaInstance{
		Name: "VI_" + base + "_EXT", State: state, Interface: ext.Device, RouterID: s.RouterID, Priority: prio,
		VIPs: []string{fmt.Sprintf("%s/%d dev %s", s.VIP, s.VIPNetwork.CIDR.Bits(), ext.Device)},
	}
	d.Instances = append(d.Instances, extInst)
	syncIf, syncInst := ext.Device, extInst.Name

	kind := strings.ToUpper(string(s.Mode))
	switch s.Mode {
	case topology.LVSNAT:
		if !s.GatewayVIP.IsValid() || s.GatewayNet == nil {
			return fmt.Errorf("NAT needs a gateway VIP on the internal network")
		}
		in, err := nicOn(vm, s.GatewayNet)
		if err != nil {
			return err
		}
		intInst := kaInstance{
			Name: "VI_" + base + "_INT", State: state, Interface: in.Device, RouterID: s.RouterID + 1, Priority: prio,
			VIPs: []string{fmt.Sprintf("%s/%d dev %s", s.GatewayVIP, s.GatewayNet.CIDR.Bits(), in.Device)},
		}
		d.Instances = append(d.Instances, intInst)
		// Both VIPs move together: the external one alone would strand replies.
		d.Groups = append(d.Groups, kaGroup{Name: "VG_" + base, Instances: []string{extInst.Name, intInst.Name}})
		syncIf, syncInst = in.Device, intInst.Name
	case topology.LVSDR, topology.LVSTUN:
	default:
		return fmt.Errorf("unknown forwarding mode %q (want nat, dr or tun)", s.Mode)
	}
	// keepalived runs one sync daemon; the first service drives it.
	if d.SyncDaemon == nil {
		d.SyncDaemon = &kaSync{Interface: syncIf, Instance: syncInst}
	}
	if !slices.Contains(topology.Schedulers, s.Scheduler) {
		return fmt.Errorf("unknown scheduler %q (want one of %s)", s.Scheduler, strings.Trim(fmt.Sprint(topology.Schedulers), "[]"))
	}
	proto := strings.ToUpper(s.Protocol)
	if proto == "" {
		proto = "TCP"
	}
	if proto != "TCP" && proto != "UDP" {
		return fmt.Errorf("unknown protocol %q (want tcp or udp)", s.Protocol)
	}
	ks := kaService{
		Name: s.Name, VIP: s.VIP.String(), Port: s.Port, DelayLoop: orDefault(s.Health.IntervalSec, 6),
		Scheduler: s.Scheduler, Kind: kind, Protocol: proto,
	}
	if p := s.Persistence; p != nil {
		ks.PersistenceTimeout = orDefault(p.TimeoutSec, 300)
		ks.PersistenceGranularity = p.Netmask
	}
	if s.SorryServer != "" {
		ap, err := netip.ParseAddrPort(s.SorryServer)
		if err != nil {
			return fmt.Errorf("sorry_server %q: want ip:port", s.SorryServer)
		}
		if s.Mode != topology.LVSNAT && int(ap.Port()) != s.Port {
			// keepalived -t: "virtual server and sorry server ports don't match".
			return fmt.Errorf("sorry_server %q: %s cannot change the port, use port %d", s.SorryServer, strings.ToUpper(string(s.Mode)), s.Port)
		}
		ks.SorryServer = fmt.Sprintf("%s %d", ap.Addr(), ap.Port())
	}
	check, err := healthCheck(s)
	if err != nil {
		return err
	}
	for _, b := range s.Backends {
		if b.Weight < 0 {
			return fmt.Errorf("backend %s: negative weight %d", b.IP, b.Weight)
		}
		ks.Reals = append(ks.Reals, kaReal{IP: b.IP.String(), Port: s.Port, Weight: b.Weight, Check: check})
	}
	d.Services = append(d.Services, ks)
	return nil
}

func healthCheck(s *topology.LVSService) (*kaCheck, error) {
	h := s.Health
	c := &kaCheck{
		Type:             h.Type,
		ConnectTimeout:   orDefault(h.TimeoutSec, 3),
		Retry:            orDefault(h.Retries, 1),
		DelayBeforeRetry: 1,
	}
	switch h.Type {
	case "http", "":
		c.Type = "http"
		c.Path = h.Path
		if c.Path == "" {
			c.Path = "/"
		}
		c.Status = orDefault(h.Status, 200)
	case "tcp":
	default:
		return nil, fmt.Errorf("unknown health check %q (want http or tcp)", h.Type)
	}
	return c, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

type directorSysctl struct {
	Lab, VM                 string
	IPForward               bool
	NAT                     bool
	ReplyGateway            bool // DR/TUN real servers route their replies via this director
	ExpireQuiescentTemplate bool
}

func directorSysctlValues(lab *topology.Lab, vm *topology.VM) directorSysctl {
	d := directorSysctl{Lab: lab.Name, VM: vm.Name}
	for _, s := range servicesDirectedBy(lab, vm) {
		d.NAT = d.NAT || s.Mode == topology.LVSNAT
		d.ReplyGateway = d.ReplyGateway || (s.Mode != topology.LVSNAT && routesVia(s, vm))
		d.ExpireQuiescentTemplate = d.ExpireQuiescentTemplate || s.Persistence != nil
	}
	d.IPForward = d.NAT || d.ReplyGateway
	return d
}

// routesVia reports whether a real server of s has a default gateway that
// is one of vm's addresses (labs/lvs-tun: the real servers sit on a network
// only the director joins).
func routesVia(s *topology.LVSService, vm *topology.VM) bool {
	for _, b := range s.Backends {
		if b.VM == nil {
			continue
		}
		for _, bn := range b.VM.NICs {
			if !bn.Gateway.IsValid() {
				continue
			}
			for _, n := range vm.NICs {
				if n.IP == bn.Gateway {
					return true
				}
			}
		}
	}
	return false
}

func (d directorSysctl) keys() map[string]string {
	m := map[string]string{"net.ipv4.vs.expire_nodest_conn": "1"}
	if d.IPForward {
		m["net.ipv4.ip_forward"] = "1"
	}
	if d.ReplyGateway {
		m["net.ipv4.conf.all.accept_local"] = "1"
	}
	if d.ExpireQuiescentTemplate {
		m["net.ipv4.vs.expire_quiescent_template"] = "1"
	}
	return m
}

type modulesData struct {
	Lab, VM string
	Modules []string
}

func directorFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	kd, err := keepalivedData(lab, vm)
	if err != nil {
		return nil, err
	}
	ka, err := templates.Render("keepalived.conf.tmpl", kd)
	if err != nil {
		return nil, err
	}
	sc, err := templates.Render("sysctl-director.conf.tmpl", directorSysctlValues(lab, vm))
	if err != nil {
		return nil, err
	}
	mods, err := templates.Render("modules-load.conf.tmpl", modulesData{Lab: lab.Name, VM: vm.Name, Modules: []string{"ip_vs"}})
	if err != nil {
		return nil, err
	}
	return []file{
		{path: directorModules, data: mods, mode: 0o644},
		{path: directorSysctlConf, data: sc, mode: 0o644},
		{path: keepalivedConf, data: ka, mode: 0o644},
	}, nil
}

// pick returns the file rendered for path.
func pick(files []file, path string) []file {
	for _, f := range files {
		if f.path == path {
			return []file{f}
		}
	}
	return nil
}

func directorModulesStep(ctx context.Context, h *host) (bool, error) {
	files, err := directorFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureFiles(ctx, pick(files, directorModules), nil)
	if err != nil {
		return changed, err
	}
	m, err := ensureModule(ctx, h, "ip_vs")
	return changed || m, err
}

// ensureModule loads a kernel module unless it is loaded.
func ensureModule(ctx context.Context, h *host, mod string) (bool, error) {
	loaded, err := h.test(ctx, "test -d /sys/module/"+mod)
	if err != nil || loaded {
		return false, err
	}
	if _, err := h.run(ctx, "modprobe "+mod); err != nil {
		return false, err
	}
	return true, nil
}

func directorSysctlStep(ctx context.Context, h *host) (bool, error) {
	files, err := directorFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureFiles(ctx, pick(files, directorSysctlConf), nil)
	if err != nil {
		return changed, err
	}
	applied, err := ensureSysctls(ctx, h, directorSysctlConf, directorSysctlValues(h.lab, h.vm).keys(), changed)
	return changed || applied, err
}

// ensureSysctls loads file with `sysctl -p` when it changed or when a live
// value differs from want.
func ensureSysctls(ctx context.Context, h *host, file string, want map[string]string, force bool) (bool, error) {
	if !force {
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		out, err := h.run(ctx, "sysctl -n "+strings.Join(keys, " "))
		if err != nil {
			return false, err
		}
		got := strings.Fields(out)
		for i, k := range keys {
			if i >= len(got) || got[i] != want[k] {
				force = true
				break
			}
		}
	}
	if !force {
		return false, nil
	}
	if _, err := h.run(ctx, "sysctl -q -p "+file); err != nil {
		return false, err
	}
	return true, nil
}

func keepalivedConfStep(ctx context.Context, h *host) (bool, error) {
	files, err := directorFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	want := pick(files, keepalivedConf)[0]
	cur, _, err := h.read(ctx, keepalivedConf)
	if err != nil {
		return false, err
	}
	if bytes.Equal(cur, want.data) {
		return false, nil
	}
	// Check a side file first: the live path only ever holds a config
	// keepalived accepted, even if keepalived restarts on its own meanwhile.
	tmp := keepalivedConf + ".labctl-new"
	if err := h.write(ctx, tmp, want.data, want.mode); err != nil {
		return false, err
	}
	if _, err := h.run(ctx, "keepalived -t -f "+tmp); err != nil {
		_, _ = h.run(context.WithoutCancel(ctx), "rm -f "+tmp)
		return false, fmt.Errorf("validate new config (live config untouched): %w", err)
	}
	// Marked before the live file changes: a run cut off after the write
	// would otherwise find the file current and never reload.
	if err := h.markPending(ctx, "keepalived"); err != nil {
		return false, err
	}
	if err := h.write(ctx, keepalivedConf, want.data, want.mode); err != nil {
		return true, err
	}
	if _, err := h.run(ctx, "rm -f "+tmp); err != nil {
		return true, err
	}
	return true, nil
}
