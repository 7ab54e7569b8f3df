package engine

import (
	"context"
	"fmt"
	"slices"
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
// time slice has passed, whichever comes first. A freed slot goes to the
// waiting guest of lowest rank (first come within a rank).
type admission struct {
	slice time.Duration

	mu      sync.Mutex
	free    int
	held    int            // admit only queues until this many wait
	waiting []*admitWaiter // by rank, then arrival
}

type admitWaiter struct {
	rank    int
	granted chan struct{}
}

func newAdmission(width int, slice time.Duration) *admission {
	return &admission{free: max(1, width), slice: slice}
}

// admit blocks until a slot is free for a guest of rank (or ctx ends)
// and returns the function that frees it; calling it more than once frees
// it once.
func (a *admission) admit(ctx context.Context, rank int) (release func(), err error) {
	a.mu.Lock()
	if a.free > 0 && len(a.waiting) == 0 && a.held == 0 {
		a.free--
		a.mu.Unlock()
		return a.holder(), nil
	}
	w := &admitWaiter{rank: rank, granted: make(chan struct{})}
	i := len(a.waiting)
	for i > 0 && a.waiting[i-1].rank > rank {
		i--
	}
	a.waiting = slices.Insert(a.waiting, i, w)
	if a.held > 0 && len(a.waiting) >= a.held {
		a.open()
	}
	a.mu.Unlock()
	select {
	case <-w.granted:
		return a.holder(), nil
	case <-ctx.Done():
	}
	a.mu.Lock()
	if j := slices.Index(a.waiting, w); j >= 0 {
		a.waiting = slices.Delete(a.waiting, j, j+1)
		a.mu.Unlock()
	} else {
		a.mu.Unlock()
		a.give() // granted as ctx ended: pass the slot on
	}
	return nil, ctx.Err()
}

// holdFor makes admit queue every guest until n of them wait: up holds
// admission until every VM it boots is defined and queued, so the first
// slots go by rank too, not to whichever definition finished first.
func (a *admission) holdFor(n int) {
	a.mu.Lock()
	a.held = n
	a.mu.Unlock()
}

// open ends a hold: the free slots go to the first waiters. a.mu is held.
func (a *admission) open() {
	a.held = 0
	for a.free > 0 && len(a.waiting) > 0 {
		a.free--
		a.grantFirst()
	}
}

// give frees a slot: to the first waiter, if any.
func (a *admission) give() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.waiting) == 0 || a.held > 0 {
		a.free++
		return
	}
	a.grantFirst()
}

func (a *admission) grantFirst() {
	w := a.waiting[0]
	a.waiting = a.waiting[1:]
	close(w.granted)
}

// holder is the release function of a held slot, also called by the
// time slice.
func (a *admission) holder() func() {
	var once sync.Once
	free := func() { once.Do(a.give) }
	if a.slice <= 0 {
		return free
	}
	t := time.AfterFunc(a.slice, free)
	return func() { t.Stop(); free() }
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
