package roles

import (
	"context"
	"fmt"
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
					return h.ensureService(ctx, topology.RoleDirector.Unit(), "reload")
				}},
			}
		},
	}
}

type directorSysctl struct {
	Lab, VM                 string
	IPForward               bool
	NAT                     bool
	ReplyGateway            bool // DR/TUN real servers route their replies via this director
	ExpireQuiescentTemplate bool
}

func directorSysctlValues(lab *topology.Lab, vm *topology.VM) directorSysctl {
	d := directorSysctl{Lab: lab.HandoutName(), VM: vm.Name}
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
	base, err := directorBaseFiles(lab, vm)
	if err != nil {
		return nil, err
	}
	return append(base, file{path: keepalivedConf, data: ka, mode: 0o644}), nil
}

// directorBaseFiles are what a director needs whatever its stack: the
// ip_vs module at boot and the forwarding sysctls.
func directorBaseFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	sc, err := templates.Render("sysctl-director.conf.tmpl", directorSysctlValues(lab, vm))
	if err != nil {
		return nil, err
	}
	mods, err := templates.Render("modules-load.conf.tmpl", modulesData{Lab: lab.HandoutName(), VM: vm.Name, Modules: []string{"ip_vs"}})
	if err != nil {
		return nil, err
	}
	return []file{
		{path: directorModules, data: mods, mode: 0o644},
		{path: directorSysctlConf, data: sc, mode: 0o644},
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
	files, err := directorBaseFiles(h.lab, h.vm)
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
	files, err := directorBaseFiles(h.lab, h.vm)
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
	same, err := h.matches(ctx, want)
	if err != nil || same {
		return false, err
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
	if err := h.markPending(ctx, topology.RoleDirector.Unit()); err != nil {
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
