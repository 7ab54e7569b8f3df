package engine

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/libvirt"
)

// DefaultBootParallel is how many guests up lets boot at once on a host
// with cpus CPUs (libvirt's node info).
//
// Under TCG a booting guest keeps one host core busy for its whole boot
// (~35 s of CPU for labctl's image): more boots than cores only share the
// cores, so every boot gets slower, none finishes sooner, and starved
// guests hit their own timeouts (units, watchdogs) and never reach SSH.
// So TCG admits one boot per CPU. Under KVM a boot costs a few seconds of
// CPU and mostly waits on disk and timers, so 2×CPUs+2 keep the host busy
// without starving anyone.
func DefaultBootParallel(domainType string, cpus int) int {
	cpus = max(1, cpus)
	if domainType == "kvm" {
		return 2*cpus + 2
	}
	return cpus
}

// DefaultBootSlice is how long a boot holds its slot before the next guest
// is admitted anyway, so one slow or stuck guest does not stall the lab:
// about three idle-host boots.
func DefaultBootSlice(domainType string) time.Duration {
	if domainType == "kvm" {
		return 30 * time.Second
	}
	return 2 * time.Minute
}

// admission bounds concurrent boots: a guest starts once it holds a slot,
// and gives the slot back when it answers SSH (or fails), or when its
// time slice has passed, whichever comes first.
type admission struct {
	slots chan struct{}
	slice time.Duration
}

func newAdmission(width int, slice time.Duration) *admission {
	return &admission{slots: make(chan struct{}, max(1, width)), slice: slice}
}

// admit blocks until a slot is free (or ctx ends) and returns the function
// that frees it; calling it more than once frees it once.
func (a *admission) admit(ctx context.Context) (release func(), err error) {
	select {
	case a.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	free := func() { once.Do(func() { <-a.slots }) }
	if a.slice <= 0 {
		return free, nil
	}
	t := time.AfterFunc(a.slice, free)
	return func() { t.Stop(); free() }, nil
}

// bootAdmission sizes the admission of one up from the options, asking
// libvirt for the host's CPUs when the width is not set, and says so.
func bootAdmission(ctx context.Context, hv libvirt.Hypervisor, opts UpOptions, domainType string) (*admission, string) {
	width, why := opts.BootParallel, "--boot-parallel"
	if width <= 0 {
		cpus := 1
		switch n, err := hv.NodeInfo(ctx); {
		case err != nil:
			why = fmt.Sprintf("host CPUs unknown: %v", err)
		case n.CPUs <= 0:
			why = "libvirt reports no CPUs"
		default:
			cpus = n.CPUs
			why = fmt.Sprintf("%d host CPUs", cpus)
		}
		width = DefaultBootParallel(domainType, cpus)
	}
	slice := opts.BootSlice
	if slice <= 0 {
		slice = DefaultBootSlice(domainType)
	}
	msg := fmt.Sprintf("boot admission: up to %d guests boot at once (%s, %s); the next starts when one answers SSH or after %s",
		width, accelLabel(domainType), why, slice)
	return newAdmission(width, slice), msg
}

func accelLabel(domainType string) string {
	if domainType == "kvm" {
		return "KVM"
	}
	return "TCG"
}
