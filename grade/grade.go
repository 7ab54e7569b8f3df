package grade

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// Env is a running lab to grade.
type Env struct {
	Lab   *topology.Lab
	Hosts testbed.Hosts
	Power testbed.Power
	// Agent returns labctl's static executable, installed on the client
	// VM as the drills' prober.
	Agent func() ([]byte, error)
	// Verify runs the checks (nil: verify.Run over Hosts; tests pass
	// canned results).
	Verify func(ctx context.Context) (verify.Result, error)
}

// Options tune Run.
type Options struct {
	// NoDrills scores the checks only (drills count as failed, "not run").
	NoDrills bool
	// MaxOutage is the longest outage a drill may cause and still pass
	// (0 = by the service's director stack, see maxOutage).
	MaxOutage time.Duration
	// Hold is how long each fault stays before it is reverted (default 15 s:
	// a health check of 2 s interval and 2 retries drops a real server after
	// up to ~7 s, and 8.9 s was seen on a busy TCG host).
	Hold time.Duration
	// Before and After are the probing before a fault and after its
	// revert (defaults 2 s and 3 s).
	Before, After time.Duration
	// Recover bounds the wait after a revert for the cluster to be as
	// before the drill (default 90 s).
	Recover time.Duration
	// ProbeInterval is the time between the prober's requests (default 100 ms).
	ProbeInterval time.Duration
	Verify        verify.Options
	// Progress, when set, gets one line per action.
	Progress func(format string, args ...any)
}

func (o *Options) defaults() {
	if o.Hold <= 0 {
		o.Hold = 15 * time.Second
	}
	if o.Before <= 0 {
		o.Before = 2 * time.Second
	}
	if o.After <= 0 {
		o.After = 3 * time.Second
	}
	if o.Recover <= 0 {
		o.Recover = 90 * time.Second
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 100 * time.Millisecond
	}
}

// Run grades env's lab: the verify checks, then (unless opts.NoDrills) the
// drills whose prerequisites passed. A failed check or drill is a line
// without points, never an error; the error is for a cancelled ctx or a
// drill that could not put the lab back as it was.
func Run(ctx context.Context, env Env, opts Options) (*Result, error) {
	opts.defaults()
	g := &grader{env: env, opts: opts}
	start := time.Now()
	g.progress("checks of lab %s", env.Lab.Name)
	check := env.Verify
	if check == nil {
		check = func(ctx context.Context) (verify.Result, error) {
			return verify.Run(ctx, env.Lab, env.Hosts.Runner, opts.Verify)
		}
	}
	v, err := check(ctx)
	if err != nil {
		return nil, err
	}
	byKind := map[topology.GradeCheck][]verify.Check{}
	for _, c := range v.Checks {
		byKind[c.Kind] = append(byKind[c.Kind], c)
	}
	passed := map[topology.GradeCheck]bool{}
	res := &Result{Schema: Schema, Lab: env.Lab.Name, Class: env.Lab.Class, Copy: env.Lab.Copy, At: start.UTC()}
	if env.Lab.Exercise != nil {
		res.Exercise = env.Lab.Exercise.Name
	}
	rubric := Rubric(env.Lab)
	for _, it := range rubric {
		if it.Drill {
			continue
		}
		l := scoreChecks(it, byKind[it.Check])
		passed[it.Check] = l.OK
		res.Lines = append(res.Lines, l)
	}
	// A prerequisite worth no points in this rubric still gates its drills.
	for k, cs := range byKind {
		if _, ok := passed[k]; !ok {
			passed[k] = scoreChecks(Item{Check: k}, cs).OK
		}
	}
	var errs []error
	stopped := ""
	for _, it := range rubric {
		if !it.Drill {
			continue
		}
		if stopped != "" {
			res.Lines = append(res.Lines, Line{Check: it.Check, Title: it.Title, Max: it.Points, Drill: true, Hint: it.Hint, Observed: stopped})
			continue
		}
		l, err := g.drill(ctx, it, passed)
		res.Lines = append(res.Lines, l)
		if err != nil {
			errs = append(errs, err)
			var rev *RevertError
			switch {
			case ctx.Err() != nil:
				stopped = "not run: grading was interrupted"
			case errors.As(err, &rev):
				// The next drill would start from a lab the fault left.
				stopped = "not run: drill " + string(rev.Drill) + " could not revert its fault"
			}
		}
	}
	res.order(rubric)
	res.total()
	res.Seconds = time.Since(start).Seconds()
	if ctx.Err() != nil {
		return res, errors.Join(append(errs, ctx.Err())...)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("grade %s: %w", env.Lab.Name, errors.Join(errs...))
	}
	return res, nil
}

// scoreChecks scores a check line: its points when every verify check of
// its kind passed.
func scoreChecks(it Item, cs []verify.Check) Line {
	l := Line{Check: it.Check, Title: it.Title, Max: it.Points}
	var failed []verify.Check
	for _, c := range cs {
		if !c.OK {
			failed = append(failed, c)
		}
	}
	switch {
	case len(cs) == 0:
		l.Observed = "not checked: verify has no check of this kind for the lab"
	case len(failed) == 0:
		l.OK, l.Points = true, it.Points
		l.Observed = fmt.Sprintf("%d of %d checks ok", len(cs), len(cs))
	default:
		f := failed[0]
		l.Observed = fmt.Sprintf("%s on %s: expected %s, observed %s", f.Name, f.VM, f.Expected, f.Observed)
		if len(failed) > 1 {
			l.Observed += fmt.Sprintf(" (and %d more of %d checks failed)", len(failed)-1, len(cs))
		}
	}
	if !l.OK {
		l.Hint = it.Hint
	}
	return l
}

type grader struct {
	env       Env
	opts      Options
	installed bool
	agentErr  error // why the prober could not be installed
}

func (g *grader) progress(format string, args ...any) {
	if g.opts.Progress != nil {
		g.opts.Progress(format, args...)
	}
}

// maxOutage is Options.MaxOutage, or the default for svc's director stack:
// 15 s for keepalived (a failover takes ~4 s, a TCG host is slow), 90 s
// for Pacemaker (a move stops and starts the group's resource agents in
// turn, ldirectord's Perl taking tens of seconds each under TCG).
func (o *Options) maxOutage(svc *topology.LVSService) time.Duration {
	switch {
	case o.MaxOutage > 0:
		return o.MaxOutage
	case svc.Stack == topology.StackPacemaker:
		return 90 * time.Second
	}
	return 15 * time.Second
}
