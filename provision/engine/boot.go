package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Intervals of the boot watch: how often a booting guest's console is
// read, and how often up says what it is still waiting for.
var (
	watchEvery     = 2 * time.Second
	heartbeatEvery = 30 * time.Second
)

// StuckError is a boot that made no progress (see BootBounds).
type StuckError struct {
	VM     string
	Reason string
	Stage  Stage
}

func (e *StuckError) Error() string {
	return fmt.Sprintf("boot of %s is stuck: %s", e.VM, e.Reason)
}

// boots is what up knows about the guests booting now, for its
// heartbeat lines.
type boots struct {
	mu      sync.Mutex
	adm     *admission
	bounds  BootBounds
	timeout time.Duration
	waiting map[string]time.Time  // VM → since it waits for a slot
	booting map[string]*bootWatch // VM → its current attempt
}

func newBoots(adm *admission, bounds BootBounds, timeout time.Duration) *boots {
	return &boots{adm: adm, bounds: bounds, timeout: timeout, waiting: map[string]time.Time{}, booting: map[string]*bootWatch{}}
}

// boot starts vm once it is admitted (by rank, see admission) and waits until it answers SSH. A
// boot that makes no progress is destroyed and started again (up to
// Retries times); then, or on any other failure, the error says how far
// the boot got and shows the end of its console.
func (u *upRun) boot(ctx context.Context, vm *VMSpec, rank int) error {
	b := u.boots
	p := u.opts.Progress
	var earlier []string
	for attempt := 0; ; attempt++ {
		p.VM(vm.Name, PhaseAdmit, nil)
		b.setWaiting(vm.Name, true)
		release, err := b.adm.admit(ctx, rank)
		b.setWaiting(vm.Name, false)
		if err != nil {
			return fmt.Errorf("wait for a boot slot: %w", err)
		}
		if attempt == 0 {
			// The bound runs from the first start: waiting for a slot
			// is not the guest's fault.
			if b.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, b.timeout)
				defer cancel()
			}
			p.VM(vm.Name, PhaseStart, nil)
			err = u.hv.StartDomain(ctx, vm.LibvirtName)
			u.result(vm.Name).Seconds = time.Since(u.start).Seconds()
		} else {
			p.VM(vm.Name, PhaseRestart, nil)
			err = u.restart(ctx, vm)
		}
		if err != nil {
			release()
			return err
		}
		started := time.Now()
		p.VM(vm.Name, PhaseBoot, nil)
		w, err := u.waitBoot(ctx, vm, started)
		release()
		if err == nil {
			r := u.result(vm.Name)
			u.mu.Lock()
			r.BootSeconds = time.Since(started).Seconds()
			r.Seconds = time.Since(u.start).Seconds()
			r.Restarts = attempt
			u.mu.Unlock()
			p.VM(vm.Name, PhaseReady, nil)
			return nil
		}
		var stuck *StuckError
		if errors.As(err, &stuck) && attempt < b.bounds.Retries {
			earlier = append(earlier, fmt.Sprintf("attempt %d: %s", attempt+1, stuck.Reason))
			p.Info(fmt.Sprintf("%s: %s; restarting it (attempt %d of %d)", vm.Name, stuck.Reason, attempt+2, b.bounds.Retries+1))
			continue
		}
		return bootFailure(ctx, vm, err, w, started, earlier)
	}
}

// restart powers a stuck guest off and starts it again (a guest that
// crashed or shut itself down is only started).
func (u *upRun) restart(ctx context.Context, vm *VMSpec) error {
	derr := u.hv.DestroyDomain(ctx, u.st.Lab, vm.LibvirtName)
	if err := u.hv.StartDomain(ctx, vm.LibvirtName); err != nil {
		return fmt.Errorf("restart stuck boot: %w", errors.Join(derr, err))
	}
	return nil
}

// waitBoot runs WaitSSH while watching the console; a stuck boot ends the
// wait with a *StuckError.
func (u *upRun) waitBoot(ctx context.Context, vm *VMSpec, started time.Time) (*bootWatch, error) {
	b := u.boots
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := newBootWatch(b.bounds, started)
	// A second of slack: file times may be coarser than the clock.
	f := &consoleFollower{path: vm.ConsoleLog, since: started.Add(-time.Second)}
	b.setBooting(vm.Name, w)
	defer b.setBooting(vm.Name, nil)
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Go(func() {
		t := time.NewTicker(watchEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			out, readable := f.Next()
			b.mu.Lock()
			w.feed(time.Now(), out, readable)
			reason, stage := w.stuck(time.Now()), w.stage
			b.mu.Unlock()
			if reason != "" {
				cancel(&StuckError{VM: vm.Name, Reason: reason, Stage: stage})
				return
			}
		}
	})
	err := u.opts.WaitSSH(actx, vm)
	close(done)
	wg.Wait()
	// Read what the console printed last, for the error.
	out, readable := f.Next()
	b.mu.Lock()
	w.feed(time.Now(), out, readable)
	b.mu.Unlock()
	var stuck *StuckError
	if cause := context.Cause(actx); err != nil && ctx.Err() == nil && errors.As(cause, &stuck) {
		return w, stuck
	}
	return w, err
}

// bootFailure adds to a failed boot how far it got, earlier attempts and
// the end of its console (all rotated pieces of this attempt).
func bootFailure(ctx context.Context, vm *VMSpec, err error, w *bootWatch, started time.Time, earlier []string) error {
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return err // another VM failed, or the user interrupted up
	}
	msg := err.Error()
	if w != nil && w.readable {
		msg += "; the boot reached: " + w.stage.String()
	}
	if len(earlier) > 0 {
		msg += " (after a restart; " + strings.Join(earlier, "; ") + ")"
	}
	if tail := ConsoleTailSince(vm.ConsoleLog, 25, started.Add(-time.Second)); tail != "" {
		msg += fmt.Sprintf("\nlast console lines of %s (%s and its rotated pieces):\n%s", vm.Name, vm.ConsoleLog, indent(tail))
	}
	return &bootError{msg: msg, err: err}
}

type bootError struct {
	msg string
	err error
}

func (e *bootError) Error() string { return e.msg }
func (e *bootError) Unwrap() error { return e.err }

func (b *boots) setWaiting(vm string, on bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if on {
		b.waiting[vm] = time.Now()
	} else {
		delete(b.waiting, vm)
	}
}

func (b *boots) setBooting(vm string, w *bootWatch) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w != nil {
		b.booting[vm] = w
	} else {
		delete(b.booting, vm)
	}
}

// status is one line on what up waits for, or "" when nothing boots.
func (b *boots) status(now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var parts []string
	for vm, w := range b.booting {
		st := w.stage.String()
		if !w.readable {
			st = "console not readable"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s)", vm, st, now.Sub(w.start).Round(time.Second)))
	}
	sort.Strings(parts)
	var queued []string
	for vm := range b.waiting {
		queued = append(queued, vm)
	}
	sort.Strings(queued)
	if len(parts) == 0 && len(queued) == 0 {
		return ""
	}
	s := "waiting for SSH on " + strings.Join(parts, ", ")
	if len(parts) == 0 {
		s = "waiting for a boot slot"
	}
	if len(queued) > 0 {
		s += "; waiting for a boot slot: " + strings.Join(queued, ", ")
	}
	s += fmt.Sprintf("; a guest is restarted after %s without a new stage or %s of console silence", b.bounds.Stall, b.bounds.Silent)
	if b.timeout > 0 {
		s += fmt.Sprintf(", and fails after %s", b.timeout)
	}
	return s
}

// heartbeat prints status every heartbeatEvery until ctx ends or the
// returned stop is called; stop returns once it has stopped printing.
func (b *boots) heartbeat(ctx context.Context, p Progress) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if s := b.status(now); s != "" {
					p.Info(s)
				}
			}
		}
	})
	return func() { cancel(); wg.Wait() }
}

// newBoots sizes boot admission and the stuck-boot bounds, and says so.
func (u *upRun) newBoots(ctx context.Context) *boots {
	adm, msg := bootAdmission(ctx, u.hv, u.opts, u.st.DomainType)
	bounds := u.opts.BootBounds
	if bounds == (BootBounds{}) {
		bounds = DefaultBootBounds(u.st.DomainType)
	}
	u.opts.Progress.Info(msg)
	return newBoots(adm, bounds, u.opts.BootTimeout)
}
