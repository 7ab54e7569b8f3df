package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
	"golang.org/x/sync/errgroup"
)

// ErrDeclined is returned when the user declines a destructive change.
var ErrDeclined = errors.New("declined: nothing changed")

// UpOptions configure Up.
type UpOptions struct {
	Options
	// Force lets up change a lab another owner holds (the CLI allows it
	// only for root).
	Force bool
	// Parallel bounds concurrent libvirt work (volumes, defines); default
	// 4. Starts are bounded by boot admission (see admit.go).
	Parallel int
	// BootParallel bounds guests booting at once (0 = DefaultBootParallel
	// from the host's CPUs); BootSlice is how long one boot holds its slot
	// at most (0 = DefaultBootSlice).
	BootParallel int
	BootSlice    time.Duration
	// BootBounds decide when a boot is stuck (zero = DefaultBootBounds).
	BootBounds BootBounds
	// BootTimeout bounds each VM's boot, restarts included (0 = none).
	BootTimeout time.Duration
	// Confirm is asked before deleting or replacing existing objects; nil
	// means yes.
	Confirm func(*Changes) (bool, error)
	// WaitSSH blocks until vm answers SSH with its pinned host key; nil
	// skips waiting.
	WaitSSH func(ctx context.Context, vm *VMSpec) error
	// BeforeChange runs once up has decided to change the lab (after
	// Confirm), before the first change; nil skips. An error stops up.
	BeforeChange func(*Changes) error
	// Configure configures the guests (roles); nil skips. When up boots
	// VMs it runs while they boot: ready(vm) blocks until vm answers SSH,
	// so the first VMs are configured while later ones still boot.
	// Otherwise it runs once every VM is up, and ready returns at once.
	Configure func(ctx context.Context, s *State, ready func(ctx context.Context, vm string) error) error
	// BootFirst ranks VMs for boot admission: lower boots first (nil =
	// lab order). Up uses it to boot first what Configure needs first.
	BootFirst func(vm string) int
	Progress  Progress
	// Clone, when set, makes every new VM from the same VM of another
	// copy of the class instead of booting it (fast classroom copies).
	Clone *Clone
}

// Clone says how up makes a new VM from another copy's VM: its disk
// volumes are filled from the source's instead of created empty, and
// Restore replaces the boot (no boot admission: nothing boots).
type Clone struct {
	// Volume creates one of vm's disk volumes (root, data, RAID member)
	// with the content of the source VM's.
	Volume func(ctx context.Context, vm *VMSpec, v *VolumeSpec) error
	// Restore brings vm up from the source's memory snapshot and makes it
	// this copy's (addresses, keys); it returns once vm answers SSH.
	Restore func(ctx context.Context, vm *VMSpec) error
}

// UpResult says what Up did.
type UpResult struct {
	Lab     string     `json:"lab"`
	State   *State     `json:"-"`
	Changes *Changes   `json:"plan"`
	NoOp    bool       `json:"no_op"`
	VMs     []VMResult `json:"vms"`
	Seconds float64    `json:"seconds"`
	// Reconfigured lists the VMs whose roles a no-op up re-ran because
	// their role configuration changed (set by the caller that runs them).
	Reconfigured []string `json:"reconfigured,omitempty"`
}

// VMResult is one VM's outcome.
type VMResult struct {
	Name   string `json:"name"`
	Action Action `json:"action"`
	// BootSeconds is from domain start to SSH ready (0 when not waited).
	BootSeconds float64 `json:"boot_seconds,omitempty"`
	// Seconds is from the start of up to SSH ready (or to started).
	Seconds float64 `json:"seconds,omitempty"`
	// Restarts counts restarts of a stuck boot.
	Restarts int `json:"restarts,omitempty"`
	// Cloned: made from another copy's VM, not booted (UpOptions.Clone).
	Cloned bool   `json:"cloned,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Up converges libvirt to lab: it creates what is missing, recreates what
// changed (asking first), starts what is stopped and waits for SSH. A
// second Up on an unchanged lab does nothing (UpResult.NoOp).
func Up(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab, opts UpOptions) (*UpResult, error) {
	start := time.Now()
	if opts.Progress == nil {
		opts.Progress = nopProgress{}
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	st, live, ch, err := Plan(ctx, hv, lab, opts.Options)
	if err != nil {
		return nil, err
	}
	if err := live.checkOwner(opts.Owner, opts.Force); err != nil {
		return nil, err
	}
	if h := live.Holder(opts.Owner); h != "" {
		// Forced: what up recreates stays the holder's, so the lab keeps
		// one owner.
		if err := st.setOwner(h); err != nil {
			return nil, err
		}
		opts.Owner = h
	}
	res := &UpResult{Lab: st.Lab, State: st, Changes: ch}
	if len(ch.Pending()) == 0 {
		res.NoOp = true
		for _, vm := range st.VMs {
			res.VMs = append(res.VMs, VMResult{Name: vm.Name, Action: ActKeep})
		}
		res.Seconds = time.Since(start).Seconds()
		return res, nil
	}
	if live.Owned() > 0 {
		// An existing lab: show what differs before touching it.
		opts.Progress.Info(fmt.Sprintf("lab %s differs from its file:", lab.Name))
		for _, l := range ch.Lines() {
			opts.Progress.Info("  " + l)
		}
	}
	if ch.Destructive() && opts.Confirm != nil {
		ok, err := opts.Confirm(ch)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, ErrDeclined
		}
	}
	if opts.BeforeChange != nil {
		if err := opts.BeforeChange(ch); err != nil {
			return nil, err
		}
	}
	u := &upRun{hv: hv, st: st, live: live, ch: ch, opts: opts, start: start, results: map[string]*VMResult{}}
	err = u.run(ctx)
	for _, vm := range st.VMs {
		if r := u.results[vm.Name]; r != nil {
			res.VMs = append(res.VMs, *r)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("up of lab %q interrupted: %w; what was created stays owned by the lab: run `labctl up` to resume or `labctl down` to remove it", lab.Name, ctx.Err())
		}
		return res, fmt.Errorf("up of lab %q: %w\n(run `labctl up` again to resume, or `labctl down` to remove the lab)", lab.Name, err)
	}
	return res, nil
}

type upRun struct {
	hv    libvirt.Hypervisor
	st    *State
	live  *Live
	ch    *Changes
	opts  UpOptions
	start time.Time

	mu      sync.Mutex
	results map[string]*VMResult
	boots   *boots // set when up waits for SSH
}

func (u *upRun) result(vm string) *VMResult {
	u.mu.Lock()
	defer u.mu.Unlock()
	r := u.results[vm]
	if r == nil {
		r = &VMResult{Name: vm}
		u.results[vm] = r
	}
	return r
}

func (u *upRun) run(ctx context.Context) error {
	p := u.opts.Progress
	for _, vm := range u.st.VMs {
		c, _ := u.ch.Get("domain", vm.LibvirtName)
		u.result(vm.Name).Action = c.Action
		if c.Action == ActKeep {
			p.VM(vm.Name, PhaseUpToDate, nil)
		} else {
			p.VM(vm.Name, PhaseQueued, nil)
		}
	}
	if err := u.removeStale(ctx); err != nil {
		return err
	}
	for _, ps := range u.st.Pools {
		if _, err := u.hv.EnsurePool(ctx, ps.Def); err != nil {
			return err
		}
		if !ps.Shared && u.live.needMark {
			if err := u.markNewPool(ctx, ps); err != nil {
				return err
			}
		}
	}
	// Independent objects: base images and networks.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.opts.Parallel)
	for _, im := range u.st.Images {
		for _, v := range im.volumes() {
			if c, _ := u.ch.Get("image", v.Name); c.Action == ActImport {
				g.Go(func() error { return u.importVolume(gctx, v) })
			}
		}
	}
	for _, ns := range u.st.Networks {
		if c, ok := u.ch.Get("network", ns.LibvirtName); ok && (c.Action == ActCreate || c.Action == ActRecreate) {
			g.Go(func() error {
				p.Info("creating network " + ns.LibvirtName)
				return u.hv.CreateNetwork(gctx, ns.Def)
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}

	// VMs: libvirt work bounded by Parallel, then each is started once
	// boot admission lets it and waits for SSH (boot.go), so boot-to-SSH
	// is measured per VM from its own start. Two groups: work's context
	// ends when work.Wait returns, so the boots get their own (both end
	// early on the first failure).
	all, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	waits, sctx := errgroup.WithContext(all)
	work, wctx := errgroup.WithContext(sctx)
	work.SetLimit(u.opts.Parallel)
	if u.opts.WaitSSH != nil && u.bootCount() > 0 && u.opts.Clone == nil {
		u.boots = u.newBoots(ctx)
		u.boots.adm.holdFor(u.bootCount()) // until every boot is queued
		defer u.boots.heartbeat(sctx, p)()
	}
	ready := newReadiness(u.st.VMs)
	var configured chan error // Configure's result while VMs boot
	if u.opts.Configure != nil && u.boots != nil {
		configured = make(chan error, 1)
		p.Info("configuring guests as they answer SSH")
		go func() { configured <- u.opts.Configure(all, u.st, ready.wait) }()
	}
	for _, vm := range u.bootOrder() {
		c, _ := u.ch.Get("domain", vm.LibvirtName)
		if c.Action == ActKeep {
			ready.done(vm.Name)
			continue
		}
		work.Go(func() error {
			if err := u.bringUp(wctx, vm, c.Action, u.boots == nil); err != nil {
				cancelAll() // stop the other VMs' SSH waits too
				p.VM(vm.Name, PhaseFailed, err)
				u.result(vm.Name).Error = err.Error()
				return fmt.Errorf("VM %s: %w", vm.Name, err)
			}
			if u.boots == nil {
				u.result(vm.Name).Seconds = time.Since(u.start).Seconds()
				ready.done(vm.Name)
				return nil
			}
			waits.Go(func() error {
				if err := u.boot(sctx, vm, u.rank(vm)); err != nil {
					p.VM(vm.Name, PhaseFailed, err)
					u.result(vm.Name).Error = err.Error()
					return fmt.Errorf("VM %s: %w", vm.Name, err)
				}
				ready.done(vm.Name)
				return nil
			})
			return nil
		})
	}
	werr := work.Wait()
	serr := waits.Wait()
	if err := errors.Join(werr, serr); err != nil {
		// Configure's own error is only the cancelled wait for a VM.
		cancelAll()
		if configured != nil {
			<-configured
		}
		return err
	}
	if configured != nil {
		if err := <-configured; err != nil {
			return fmt.Errorf("configure guests: %w", err)
		}
		return nil
	}
	if u.opts.Configure != nil {
		p.Info("configuring guests")
		if err := u.opts.Configure(ctx, u.st, ready.wait); err != nil {
			return fmt.Errorf("configure guests: %w", err)
		}
	}
	return nil
}

// bootCount is how many VMs up starts.
func (u *upRun) bootCount() int {
	n := 0
	for _, vm := range u.st.VMs {
		if c, _ := u.ch.Get("domain", vm.LibvirtName); c.Action != ActKeep {
			n++
		}
	}
	return n
}

// rank is vm's place in boot admission (see UpOptions.BootFirst).
func (u *upRun) rank(vm *VMSpec) int {
	if u.opts.BootFirst == nil {
		return 0
	}
	return u.opts.BootFirst(vm.Name)
}

// bootOrder is the lab's VMs by rank (stable: lab order within a rank),
// so libvirt work, and with it boot admission, starts with the VMs
// Configure needs first.
func (u *upRun) bootOrder() []*VMSpec {
	vms := slices.Clone(u.st.VMs)
	slices.SortStableFunc(vms, func(a, b *VMSpec) int { return u.rank(a) - u.rank(b) })
	return vms
}

// readiness says when each VM answers SSH (or needs no boot).
type readiness map[string]chan struct{}

func newReadiness(vms []*VMSpec) readiness {
	r := readiness{}
	for _, vm := range vms {
		r[vm.Name] = make(chan struct{})
	}
	return r
}

// done marks vm ready; it is called once per VM.
func (r readiness) done(vm string) { close(r[vm]) }

// wait blocks until vm is ready or ctx ends; a VM up does not know about
// is ready.
func (r readiness) wait(ctx context.Context, vm string) error {
	c, ok := r[vm]
	if !ok {
		return nil
	}
	select {
	case <-c:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("VM %s did not come up: %w", vm, context.Cause(ctx))
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
