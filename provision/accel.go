package provision

import (
	"fmt"
	"os"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// AccelProbe reports facts about the local machine that decide whether KVM
// can run a stock guest. Tests replace it.
type AccelProbe struct {
	// Exists reports whether a path exists (default os.Stat).
	Exists func(path string) bool
	// Local is true when libvirt runs on this machine, so /dev/kvm and
	// /sys/module describe the hypervisor host.
	Local bool
}

// ResolveAccel maps the lab's accel setting to a libvirt domain type
// ("kvm" or "qemu") and says why.
func ResolveAccel(want topology.Accel, host libvirt.HostInfo, p AccelProbe) (domainType, reason string, err error) {
	exists := p.Exists
	if exists == nil {
		exists = func(path string) bool { _, err := os.Stat(path); return err == nil }
	}
	libvirtKVM := false
	for _, t := range host.DomainTypes {
		if t == "kvm" {
			libvirtKVM = true
		}
	}
	var whyNot string
	switch {
	case p.Local && exists("/sys/module/kvm_pvm"):
		whyNot = "/dev/kvm is backed by the kvm_pvm module (/sys/module/kvm_pvm exists), which cannot run a stock guest kernel"
	case p.Local && !exists("/dev/kvm"):
		whyNot = "/dev/kvm does not exist (no hardware virtualisation or the kvm module is not loaded)"
	case !libvirtKVM:
		whyNot = "libvirt reports no kvm domain type for x86_64 on " + host.Hostname
	}
	switch want {
	case topology.AccelTCG:
		return "qemu", "accel = \"tcg\" in the lab", nil
	case topology.AccelKVM:
		if whyNot != "" {
			return "", "", fmt.Errorf("accel = \"kvm\" but %s; use accel = \"auto\" or \"tcg\"", whyNot)
		}
		return "kvm", "accel = \"kvm\" in the lab", nil
	case topology.AccelAuto, "":
		if whyNot != "" {
			return "qemu", "TCG (software emulation): " + whyNot, nil
		}
		return "kvm", "KVM: /dev/kvm usable and libvirt supports kvm domains", nil
	}
	return "", "", fmt.Errorf("unknown accel %q (want auto, kvm or tcg)", want)
}
