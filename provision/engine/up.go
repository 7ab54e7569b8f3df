package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	// Configure runs after every VM is SSH-ready (guest roles); nil skips.
	Configure func(ctx context.Context, s *State) error
	Progress  Progress
}

// UpResult says what Up did.
type UpResult struct {
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
	Restarts int    `json:"restarts,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Plan computes the desired state of lab and compares it with libvirt.
// It creates nothing. Foreign objects in the way are returned as errors.
func Plan(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab, opts Options) (*State, *Live, *Changes, error) {
	// Use the pools' real directories when they exist, so paths in volume
	// and domain definitions match what libvirt has.
	for _, p := range []struct {
		name string
		dir  *string
	}{{BasePool, &opts.BasePoolPath}, {LabPoolName(lab), &opts.LabPoolPath}} {
		if *p.dir != "" {
			continue
		}
		lp, err := lookupPool(ctx, hv, p.name)
		if err != nil {
			return nil, nil, nil, err
		}
		if lp != nil && lp.Path != "" {
			*p.dir = lp.Path
		}
	}
	if opts.URI == "" {
		opts.URI = hv.URI()
	}
	st, err := Desired(lab, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkBridges(ctx, hv, lab); err != nil {
		return nil, nil, nil, err
	}
	live, err := Observe(ctx, hv, lab.Name, LabPoolName(lab))
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkLabPool(ctx, hv, st, live, lab, opts.ListDir); err != nil {
		return st, live, nil, err
	}
	if errs := live.Clashes(st); len(errs) > 0 {
		return st, live, nil, errors.Join(errs...)
	}
	return st, live, Diff(st, live), nil
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
	res := &UpResult{State: st, Changes: ch}
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
	if u.opts.WaitSSH != nil && u.startsAny() {
		u.boots = u.newBoots(ctx)
		defer u.boots.heartbeat(sctx, p)()
	}
	for _, vm := range u.st.VMs {
		c, _ := u.ch.Get("domain", vm.LibvirtName)
		if c.Action == ActKeep {
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
				return nil
			}
			waits.Go(func() error {
				if err := u.boot(sctx, vm); err != nil {
					p.VM(vm.Name, PhaseFailed, err)
					u.result(vm.Name).Error = err.Error()
					return fmt.Errorf("VM %s: %w", vm.Name, err)
				}
				return nil
			})
			return nil
		})
	}
	werr := work.Wait()
	serr := waits.Wait()
	if err := errors.Join(werr, serr); err != nil {
		return err
	}
	if u.opts.Configure != nil {
		// roles.Apply runs here, once every VM answers SSH (wired by the CLI).
		p.Info("configuring guests")
		if err := u.opts.Configure(ctx, u.st); err != nil {
			return fmt.Errorf("configure guests: %w", err)
		}
	}
	return nil
}

// removeStale deletes what must go before anything is created: domains
// being replaced or dropped, with the volumes their disks use (volumes
// first: an interrupted removal leaves the domain, the record, behind),
// and networks being replaced.
func (u *upRun) removeStale(ctx context.Context) error {
	p := u.opts.Progress
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.opts.Parallel)
	wantVM := map[string]bool{}
	for _, vm := range u.st.VMs {
		wantVM[vm.Name] = true
	}
	for _, c := range u.ch.Items {
		if c.Kind != "domain" || (c.Action != ActRecreate && c.Action != ActDelete) {
			continue
		}
		g.Go(func() error {
			if wantVM[c.Object] {
				p.VM(c.Object, PhaseDelete, nil)
			}
			return deleteDomain(gctx, u.hv, u.live, c.Name)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, c := range u.ch.Items {
		if c.Kind == "network" && (c.Action == ActRecreate || c.Action == ActDelete) {
			p.Info("deleting network " + c.Name)
			if err := u.hv.DeleteNetwork(ctx, c.Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// deleteDomain deletes an owned domain's volumes, then the domain.
func deleteDomain(ctx context.Context, hv libvirt.Hypervisor, live *Live, name string) error {
	for _, vol := range live.DomainVolumes[name] {
		v := live.Volumes[vol]
		if err := hv.DeleteVolume(ctx, v.Pool, v.Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
			return err
		}
	}
	if err := hv.DeleteDomain(ctx, name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
		return err
	}
	return nil
}

// importVolume uploads one base image file into the shared pool, replacing
// an incomplete earlier upload.
func (u *upRun) importVolume(ctx context.Context, v *VolumeSpec) error {
	u.opts.Progress.Info(fmt.Sprintf("importing %s (%s) into pool %s", v.Name, libvirt.FormatBytes(uint64(v.Size)), v.Pool))
	if _, ok := u.live.Base[v.Name]; ok {
		if err := u.hv.DeleteVolume(ctx, v.Pool, v.Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
			return err
		}
	}
	f, err := os.Open(v.Source)
	if err != nil {
		return fmt.Errorf("import %s: %w", v.Name, err)
	}
	defer f.Close()
	_, err = u.hv.CreateVolume(ctx, v.Pool, v.Def, f, v.Size)
	if errors.Is(err, libvirt.ErrExists) {
		return nil // a concurrent labctl imported the same content
	}
	return err
}

// bringUp creates a VM's volumes, defines its domain and, with start,
// starts it.
func (u *upRun) bringUp(ctx context.Context, vm *VMSpec, act Action, start bool) error {
	p := u.opts.Progress
	if act == ActCreate || act == ActRecreate {
		// The domain, defined first, is the record of the volumes labctl
		// creates for it: only those are ever deleted (libvirt defines a
		// domain whose volumes do not exist yet; they must by start).
		p.VM(vm.Name, PhaseDefine, nil)
		if err := u.hv.DefineDomain(ctx, vm.Def); err != nil {
			return err
		}
		p.VM(vm.Name, PhaseVolumes, nil)
		for _, v := range vm.Volumes {
			var src io.Reader
			size := int64(0)
			if v.Purpose == "seed" {
				if vm.Seed == nil {
					return fmt.Errorf("no cloud-init seed for %s", vm.Name)
				}
				src, size = bytes.NewReader(vm.Seed), int64(len(vm.Seed))
			}
			if _, err := u.hv.CreateVolume(ctx, v.Pool, v.Def, src, size); err != nil {
				return err
			}
		}
	}
	if !start {
		return nil
	}
	p.VM(vm.Name, PhaseStart, nil)
	return u.hv.StartDomain(ctx, vm.LibvirtName)
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
