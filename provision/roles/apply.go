package roles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/labctl/labctl/topology"
)

// stage is one role applied to every VM that has it.
type stage struct {
	role topology.Role
	work []vmWork
}

type vmWork struct {
	vm    *topology.VM
	steps []step
	paths []string // what the steps read, hashed in one round trip first
	// withheld: the role is the student's (lab.Exercise): only its
	// packages are checked.
	withheld bool
}

// plan builds the stages for lab, limited to the VMs named in only
// (nil or empty = all). Stages without work are dropped. Roles an
// exercise leaves to the student keep only their packages step, unless
// solution is set (the teacher's model answer).
func plan(lab *topology.Lab, only []string, solution bool) []stage {
	var stages []stage
	for _, name := range topology.RoleOrder {
		r := roleByName(name)
		if r == nil {
			continue
		}
		st := stage{role: name}
		for _, vm := range lab.VMs {
			if !vm.HasRole(name) {
				continue
			}
			if len(only) > 0 && !slices.Contains(only, vm.Name) {
				continue
			}
			w := vmWork{vm: vm, steps: []step{packagesStep(r.packages, lab, vm)}}
			if !solution && lab.Exercise.Withholds(vm, name) {
				w.withheld = true
			} else {
				w.steps = append(w.steps, r.steps(lab, vm)...)
				w.paths = stagePaths(r, lab, vm)
			}
			st.work = append(st.work, w)
		}
		if len(st.work) > 0 {
			stages = append(stages, st)
		}
	}
	return stages
}

func apply(ctx context.Context, lab *topology.Lab, hosts Hosts, opts Options) (Report, error) {
	for _, name := range opts.Only {
		if lab.VM(name) == nil {
			return Report{}, fmt.Errorf("lab %q has no VM %q", lab.Name, name)
		}
	}
	var (
		rep   Report
		fails []error    // every failed step, not just the first
		mu    sync.Mutex // guards rep, fails and opts.Out
	)
	record := func(r StepResult, err error) {
		mu.Lock()
		defer mu.Unlock()
		rep.Steps = append(rep.Steps, r)
		if err != nil {
			fails = append(fails, err)
		}
		if opts.Out != nil {
			progress(opts.Out, r)
		}
	}
	// Each VM runs its stages in order, without waiting for other VMs,
	// except where a stage needs another VM's (stageAfter): a VM's
	// nfs_client stage mounts the export, so it waits until every
	// nfs_server stage is done, and directors wait for the web servers.
	// The client needs nothing and runs beside the rest, the directors
	// beside the real servers' own settings.
	stages := plan(lab, opts.Only, opts.Solution)
	finished := map[topology.Role]*stageDone{}
	type vmStage struct {
		role topology.Role
		w    vmWork
	}
	var order []string // VMs in first-stage order
	perVM := map[string][]vmStage{}
	for _, st := range stages {
		finished[st.role] = &stageDone{left: len(st.work), done: make(chan struct{})}
		for _, w := range st.work {
			if perVM[w.vm.Name] == nil {
				order = append(order, w.vm.Name)
			}
			perVM[w.vm.Name] = append(perVM[w.vm.Name], vmStage{st.role, w})
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	// --parallel caps VMs at work, not VMs waiting for another VM's stage
	// (a VM holding a slot while it waits could starve the one it waits for).
	var slots *semaphore.Weighted // nil: no cap
	if opts.Parallel > 0 {
		slots = semaphore.NewWeighted(int64(opts.Parallel))
	}
	for _, name := range order {
		g.Go(func() error {
			sl := &slot{sem: slots}
			defer sl.release()
			st := &vmState{}
			for _, s := range perVM[name] {
				for _, dep := range stageAfter[s.role] {
					if d := finished[dep]; d != nil {
						select {
						case <-d.done:
						case <-gctx.Done():
							return gctx.Err()
						}
					}
				}
				if err := sl.acquire(gctx); err != nil {
					return err
				}
				err := applyStage(gctx, lab, hosts, opts.Secret, sl, s.role, s.w, st, record)
				sl.release()
				if err != nil {
					return err
				}
				finished[s.role].finish()
			}
			return nil
		})
	}
	err := g.Wait()
	sortReport(lab, &rep)
	if len(fails) > 0 {
		return rep, errors.Join(fails...)
	}
	return rep, err
}

// stageAfter lists, for a role, the roles whose stages on every VM must
// be done before any VM starts it. A director waits for the web servers:
// keepalived drops a real server whose first health check fails and adds
// it back only a check interval later, so starting it before Apache
// answers would leave the pool short for a while after up returns.
var stageAfter = map[topology.Role][]topology.Role{
	topology.RoleNFSClient: {topology.RoleNFSServer},
	topology.RoleDirector:  {topology.RoleWeb},
	topology.RolePacemaker: {topology.RoleWeb},
}

// stageDone closes done when the last VM of a stage finished it.
type stageDone struct {
	mu   sync.Mutex
	left int
	done chan struct{}
}

func (d *stageDone) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.left--; d.left == 0 {
		close(d.done)
	}
}

// applyStage runs one role's steps on one VM: one hash round trip, then
// the steps in order, stopping at the first failure.
func applyStage(ctx context.Context, lab *topology.Lab, hosts Hosts, secret func(string, int) ([]byte, error), sl *slot, role topology.Role, w vmWork, st *vmState, record func(StepResult, error)) error {
	r, err := hosts(w.vm.Name)
	if err != nil {
		err = &StepError{VM: w.vm.Name, Role: role, Step: "connect", Err: err}
		record(StepResult{StepID: StepID{VM: w.vm.Name, Role: role, Step: "connect"}, Status: StatusFailed, Error: err.Error()}, err)
		return err
	}
	h := &host{r: r, vm: w.vm, lab: lab, st: st, secret: secret, slot: sl}
	h.prefetch(ctx, w.paths)
	for _, s := range w.steps {
		if err := runStep(ctx, h, role, s, record); err != nil {
			return err
		}
	}
	return nil
}

func runStep(ctx context.Context, h *host, role topology.Role, s step, record func(StepResult, error)) error {
	ps := StepID{VM: h.vm.Name, Role: role, Step: s.name}
	if err := ctx.Err(); err != nil {
		return err
	}
	start := time.Now()
	changed, err := s.run(ctx, h)
	res := StepResult{StepID: ps, Duration: time.Since(start), Status: StatusUnchanged}
	if changed {
		res.Status = StatusChanged
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// A sibling failed or the user interrupted: not this step's fault.
			return ctx.Err()
		}
		err = &StepError{VM: h.vm.Name, Role: role, Step: s.name, Err: err}
		res.Status = StatusFailed
		res.Error = err.Error()
	}
	record(res, err)
	return err
}

// sortReport puts results in plan order so reports are deterministic
// although VMs finish their steps in any order.
func sortReport(lab *topology.Lab, rep *Report) {
	order := map[StepID]int{}
	for i, p := range Steps(lab, true) {
		order[p.StepID] = i
	}
	slices.SortStableFunc(rep.Steps, func(a, b StepResult) int {
		ia, oka := order[a.StepID]
		ib, okb := order[b.StepID]
		switch {
		case oka && okb:
			return ia - ib
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
}

func progress(w io.Writer, r StepResult) {
	// A failure's details come once, in the error Apply returns.
	fmt.Fprintf(w, "[%s] %s/%s: %s (%s)\n", r.VM, r.Role, r.Step, r.Status, r.Duration.Round(time.Millisecond))
}

// slot is one VM's share of --parallel (sem nil: no cap).
type slot struct {
	sem  *semaphore.Weighted
	held bool
}

func (s *slot) acquire(ctx context.Context) error {
	if s == nil || s.sem == nil || s.held {
		return nil
	}
	if err := s.sem.Acquire(ctx, 1); err != nil {
		return err
	}
	s.held = true
	return nil
}

func (s *slot) release() {
	if s != nil && s.sem != nil && s.held {
		s.sem.Release(1)
		s.held = false
	}
}

// idle runs wait, which waits for other VMs, without holding the slot:
// with --parallel 1 the VM waited for could not run otherwise.
func (s *slot) idle(ctx context.Context, wait func(context.Context) error) error {
	s.release()
	err := wait(ctx)
	if aerr := s.acquire(ctx); err == nil {
		err = aerr
	}
	return err
}
