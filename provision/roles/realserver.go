package roles

import (
	"context"
	"fmt"
	"strings"

	"github.com/labctl/labctl/templates"
	"github.com/labctl/labctl/topology"
)

const (
	rsSysctlConf = "/etc/sysctl.d/60-labctl-realserver.conf"
	rsModules    = "/etc/modules-load.d/labctl-realserver.conf"
	rsScript     = "/usr/local/sbin/labctl-realserver"
	rsUnit       = "/etc/systemd/system/labctl-realserver.service"
)

func realServerRole() *role {
	return &role{
		name:     topology.RoleRealServer,
		packages: []string{"iproute2", "kmod", "procps"},
		files:    realServerFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			d, err := realServerData(lab, vm)
			var steps []step
			if err == nil && d.needsARP() {
				steps = append(steps, step{name: "arp sysctl", writes: []string{rsSysctlConf}, run: realServerSysctlStep})
			}
			files, err := realServerFiles(lab, vm)
			return append(steps, step{name: "addresses and routes", writes: filePaths(addrFiles(files), err), run: realServerAddrStep})
		},
	}
}

type rsData struct {
	Lab, VM   string
	Modes     string // e.g. "dr, nat"
	VIPDevice string
	Tunnel    bool
	Routes    []rsRoute
	Addrs     []rsAddr
}

type rsRoute struct{ Service, Gateway, Device string }

type rsAddr struct{ Mode, Service, VIP, Device string }

func (d *rsData) needsARP() bool { return len(d.Addrs) > 0 }

func realServerData(lab *topology.Lab, vm *topology.VM) (*rsData, error) {
	d := &rsData{Lab: lab.HandoutName(), VM: vm.Name}
	var modes []string
	for _, s := range servicesServedBy(lab, vm) {
		if !strings.Contains(d.Modes, string(s.Mode)) {
			modes = append(modes, string(s.Mode))
			d.Modes = strings.Join(modes, ", ")
		}
		switch s.Mode {
		case topology.LVSNAT:
			nic, err := nicOn(vm, s.GatewayNet)
			if err != nil {
				return nil, fmt.Errorf("LVS service %q (NAT): %w", s.Name, err)
			}
			// cloud-init already sets this gateway from the model; only a
			// contradicting model is an error.
			if nic.Gateway.IsValid() && nic.Gateway != s.GatewayVIP {
				return nil, fmt.Errorf("LVS service %q (NAT): VM %q has gateway %s on network %q, but NAT real servers must route via the gateway VIP %s",
					s.Name, vm.Name, nic.Gateway, nic.Network.Name, s.GatewayVIP)
			}
			for _, r := range d.Routes {
				if r.Gateway != s.GatewayVIP.String() {
					return nil, fmt.Errorf("LVS services %q and %q (NAT) need different default gateways (%s, %s) on VM %q",
						r.Service, s.Name, r.Gateway, s.GatewayVIP, vm.Name)
				}
			}
			if len(d.Routes) == 0 {
				d.Routes = append(d.Routes, rsRoute{Service: s.Name, Gateway: s.GatewayVIP.String(), Device: nic.Device})
			}
		case topology.LVSDR:
			d.Addrs = append(d.Addrs, rsAddr{Mode: "DR", Service: s.Name, VIP: s.VIP.String(), Device: "lo"})
		case topology.LVSTUN:
			d.Tunnel = true
			d.Addrs = append(d.Addrs, rsAddr{Mode: "TUN", Service: s.Name, VIP: s.VIP.String(), Device: "tunl0"})
		default:
			return nil, fmt.Errorf("LVS service %q: unknown forwarding mode %q", s.Name, s.Mode)
		}
	}
	var devs []string
	for _, a := range d.Addrs {
		if !strings.Contains(strings.Join(devs, " "), a.Device) {
			devs = append(devs, a.Device)
		}
	}
	d.VIPDevice = strings.Join(devs, " and ")
	return d, nil
}

// sysctls returns the keys the sysctl file sets, with their values.
func (d *rsData) sysctls() map[string]string {
	m := map[string]string{"net.ipv4.conf.all.arp_ignore": "1", "net.ipv4.conf.all.arp_announce": "2"}
	if d.Tunnel {
		m["net.ipv4.conf.all.rp_filter"] = "2"
		m["net.ipv4.conf.default.rp_filter"] = "2"
	}
	return m
}

func realServerFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	d, err := realServerData(lab, vm)
	if err != nil {
		return nil, err
	}
	var out []file
	if d.needsARP() {
		b, err := templates.Render("sysctl-realserver.conf.tmpl", d)
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: rsSysctlConf, data: b, mode: 0o644})
	}
	if d.Tunnel {
		b, err := templates.Render("modules-load.conf.tmpl", modulesData{Lab: lab.HandoutName(), VM: vm.Name, Modules: []string{"ipip"}})
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: rsModules, data: b, mode: 0o644})
	}
	script, err := templates.Render("realserver.sh.tmpl", d)
	if err != nil {
		return nil, err
	}
	unit, err := templates.Render("labctl-realserver.service.tmpl", d)
	if err != nil {
		return nil, err
	}
	return append(out,
		file{path: rsScript, data: script, mode: 0o755},
		file{path: rsUnit, data: unit, mode: 0o644},
	), nil
}

// addrFiles are the files of the addresses-and-routes step: all but the
// sysctl file, which has its own step.
func addrFiles(files []file) []file {
	var out []file
	for _, f := range files {
		if f.path != rsSysctlConf {
			out = append(out, f)
		}
	}
	return out
}

func realServerSysctlStep(ctx context.Context, h *host) (bool, error) {
	d, err := realServerData(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	files, err := realServerFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureFiles(ctx, pick(files, rsSysctlConf), nil)
	if err != nil {
		return changed, err
	}
	applied, err := ensureSysctls(ctx, h, rsSysctlConf, d.sysctls(), changed)
	return changed || applied, err
}

// realServerAddrStep installs the boot script and unit, and runs the script
// when they changed or when the live state differs (VIP missing, wrong
// default route).
func realServerAddrStep(ctx context.Context, h *host) (bool, error) {
	d, err := realServerData(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	files, err := realServerFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureFiles(ctx, addrFiles(files), nil)
	if err != nil {
		return changed, err
	}
	live, err := realServerLive(ctx, h, d)
	if err != nil {
		return changed, err
	}
	const unit = "labctl-realserver"
	st, err := h.tests(ctx, isEnabled(unit), needsReload(unit))
	if err != nil {
		return changed, err
	}
	enabled, reload := st[0], st[1]
	if changed || !live || !enabled {
		// The script itself sets the addresses now; the unit does it at boot.
		cmds := []string{systemctlEnable(unit), rsScript}
		if reload {
			cmds = append([]string{"systemctl daemon-reload"}, cmds...)
		}
		if _, err := h.run(ctx, strings.Join(cmds, " && ")); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

// realServerLive reports whether the default route and VIPs are in place.
func realServerLive(ctx context.Context, h *host, d *rsData) (bool, error) {
	for _, r := range d.Routes {
		out, err := h.run(ctx, "ip -4 route show default")
		if err != nil {
			return false, err
		}
		if !hasDefaultVia(out, r.Gateway, r.Device) {
			return false, nil
		}
	}
	for _, a := range d.Addrs {
		out, err := h.run(ctx, "ip -4 -o addr show dev "+a.Device)
		if err != nil {
			// tunl0 does not exist until ipip is loaded.
			return false, nil
		}
		if !strings.Contains(out, " "+a.VIP+"/32 ") {
			return false, nil
		}
	}
	return true, nil
}

// hasDefaultVia reports whether `ip route show default` output has exactly
// the default route via gw on dev.
func hasDefaultVia(out, gw, dev string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[0] == "default" && f[1] == "via" && f[2] == gw && f[3] == "dev" && f[4] == dev {
			return true
		}
	}
	return false
}
