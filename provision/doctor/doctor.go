// Package doctor checks that a machine can run labs and says how to fix
// what is missing; `labctl doctor` renders its findings.
package doctor

import (
	"context"
	"fmt"
	"os/exec"
	"strings"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// Check is one finding.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // ok | warn | fail
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// Run checks the libvirt host at flagURI (else the lab's, $LABCTL_URI or
// the default) for lab (nil = no lab): libvirt, QEMU, the accelerator,
// bridges, pools, images, disk space and, on a local host, the usual
// permission, AppArmor and network-namespace pitfalls.
func Run(ctx context.Context, flagURI string, lab *topology.Lab) []Check {
	var out []Check
	add := func(name, status, detail, fix string) {
		out = append(out, Check{Name: name, Status: status, Detail: detail, Fix: fix})
	}
	uri := flagURI
	if lab != nil {
		uri = provision.LabURI(flagURI, lab)
	} else if uri == "" {
		uri = provision.LabURI("", &topology.Lab{})
	}
	local := provision.IsLocalURI(uri)

	hv, err := libvirt.Dial(ctx, uri)
	if err != nil {
		add("libvirt", "fail", err.Error(),
			"start libvirtd (no systemd here: `sandbox/setup.sh` starts virtlogd and libvirtd inside the lab namespace); or pass --connect URI")
		return out
	}
	defer hv.Close()
	host, err := hv.Host(ctx)
	if err != nil {
		add("libvirt", "fail", err.Error(), "check /var/log/libvirt/libvirtd.log")
		return out
	}
	add("libvirt", "ok", fmt.Sprintf("reachable at %s (libvirt %s on %s)", uri, host.LibvirtVersion, host.Hostname), "")

	caps, err := hv.Capabilities(ctx)
	if err != nil {
		add("qemu", "fail", err.Error(), "check /var/log/libvirt/libvirtd.log")
		return out
	}
	switch {
	case caps.Emulator == "":
		add("qemu", "fail", "libvirt knows no x86_64 emulator", "apt-get install qemu-system-x86, then restart libvirtd")
	case local && !exists(caps.Emulator):
		add("qemu", "fail", caps.Emulator+" is missing", "apt-get install qemu-system-x86")
	default:
		add("qemu", "ok", caps.Emulator+" (domain types: "+strings.Join(caps.DomainTypes, ", ")+")", "")
	}
	if local {
		if p, err := exec.LookPath("qemu-img"); err != nil {
			add("qemu-img", "fail", "qemu-img not found: libvirt needs it for qcow2 linked clones", "apt-get install qemu-utils")
		} else {
			add("qemu-img", "ok", p, "")
		}
		if _, err := exec.LookPath("dnsmasq"); err != nil {
			add("dnsmasq", "warn", "dnsmasq not found: nat and routed networks with a host address will not start", "apt-get install dnsmasq-base")
		} else {
			add("dnsmasq", "ok", "present (libvirt runs it for networks with a host address)", "")
		}
	}

	want := topology.AccelAuto
	if lab != nil && lab.Accel != "" {
		want = lab.Accel
	}
	host.DomainTypes = caps.DomainTypes
	typ, reason, err := engine.ResolveAccel(want, host, engine.AccelProbe{Local: local})
	if err != nil {
		add("accel", "fail", err.Error(), `set accel = "auto" or "tcg" in the lab`)
	} else {
		st := "ok"
		fix := ""
		if typ != "kvm" {
			st = "warn"
			fix = "guests run under TCG (slow, ~50 s to SSH); use a host with usable KVM for speed"
		}
		add("accel", st, engine.AccelName(typ)+": "+reason, fix)
	}

	out = append(out, bridgeChecks(ctx, hv, lab)...)
	return append(out, storageChecks(ctx, hv, lab, local)...)
}
