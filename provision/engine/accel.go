package engine

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
	// DomainTypes asks libvirt which x86_64 domain types it supports
	// (slow: called only when local facts do not settle the question).
	DomainTypes func() ([]string, error)
	Host        string // for messages
}

// ResolveAccel maps the lab's accel setting to a libvirt domain type
// ("kvm" or "qemu") and says why.
//
// Whether libvirt supports kvm domains comes from host.DomainTypes when
// set, else from p.DomainTypes (asked lazily), else it is assumed.
func ResolveAccel(want topology.Accel, host libvirt.HostInfo, p AccelProbe) (domainType, reason string, err error) {
	if want == topology.AccelTCG {
		return "qemu", "accel = \"tcg\" in the lab", nil
	}
	exists := p.Exists
	if exists == nil {
		exists = func(path string) bool { _, err := os.Stat(path); return err == nil }
	}
	var whyNot string
	switch {
	case p.Local && exists("/sys/module/kvm_pvm"):
		whyNot = "/dev/kvm is backed by the kvm_pvm module (/sys/module/kvm_pvm exists), which cannot run a stock guest kernel"
	case p.Local && !exists("/dev/kvm"):
		whyNot = "/dev/kvm does not exist (no hardware virtualisation or the kvm module is not loaded)"
	case len(host.DomainTypes) > 0 || p.DomainTypes != nil:
		types := host.DomainTypes
		if len(types) == 0 {
			if types, err = p.DomainTypes(); err != nil {
				return "", "", fmt.Errorf("accel: %w", err)
			}
		}
		libvirtKVM := false
		for _, t := range types {
			libvirtKVM = libvirtKVM || t == "kvm"
		}
		if !libvirtKVM {
			whyNot = "libvirt reports no kvm domain type for x86_64 on " + firstNonEmpty(host.Hostname, p.Host)
		}
	}
	switch want {
	case topology.AccelKVM:
		if whyNot != "" {
			return "", "", fmt.Errorf("accel = \"kvm\" but %s; use accel = \"auto\" or \"tcg\"", whyNot)
		}
		return "kvm", "accel = \"kvm\" in the lab", nil
	case topology.AccelAuto, "":
		if whyNot != "" {
			return "qemu", "software emulation, because " + whyNot, nil
		}
		return "kvm", "/dev/kvm is usable and libvirt supports kvm domains", nil
	}
	return "", "", fmt.Errorf("unknown accel %q (want auto, kvm or tcg)", want)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// AccelName names a domain type for people: KVM or TCG.
func AccelName(domainType string) string {
	if domainType == "kvm" {
		return "KVM"
	}
	return "TCG"
}
