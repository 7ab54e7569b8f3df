package testbed

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// FaultScenario is one fault run against the lab:
//
//	verify ─ start prober (client VM) and watcher ─ Before ─ Inject ─ Hold ─ Revert ─ After ─ stop ─ verify
//
// After lasts until the watched cluster is back to its state before the
// fault (VIP holder, pool, scheduler), at least After and at most Recover:
// a health check that takes a real server back a few seconds late is
// measured instead of cut off.
//
// The prober runs on the client VM (traffic to lab addresses never starts
// on the host) and the directors are watched.
type FaultScenario struct {
	Fault  topology.Fault
	Probe  fault.ProberConfig // URL, Interval, Timeout; MaxDuration is set here
	Before time.Duration      // 0 = Fault.AfterSec, else 2 s
	Hold   time.Duration      // > 0
	After  time.Duration      // 0 = 5 s
	// Recover bounds After while the cluster is not back (0 = 60 s).
	Recover time.Duration
	// RevertTimeout bounds Revert, which runs even when ctx is cancelled
	// (default 12 min: a destroyed VM boots under TCG in minutes).
	RevertTimeout time.Duration
	Watch         time.Duration // observer interval, 0 = 500 ms
	Patience      time.Duration // see Observer.Patience (0 = its default)
}

// FaultRunner runs fault scenarios on one lab.
type FaultRunner struct {
	Service  *topology.LVSService
	Hosts    Hosts
	Client   string // VM the prober runs on
	Agent    string // agent path on the client, "" = AgentPath
	Injector *Injector
	// Verify, when set, checks the cluster before and after each fault.
	Verify   func(ctx context.Context) (verify.Result, error)
	Progress func(format string, args ...any)
}

// FaultReport is what a scenario saw besides the probe timeline: it goes
// to raw/fault-N-lab.json next to the probes.
type FaultReport struct {
	Fault        topology.Fault    `json:"fault"`
	Notes        map[string]string `json:"notes"`
	Clock        Clock             `json:"client_clock"`
	Cluster      ClusterAnalysis   `json:"cluster"`
	Timeline     []ClusterState    `json:"timeline"`
	VerifyBefore *verify.Result    `json:"verify_before,omitempty"`
	VerifyAfter  *verify.Result    `json:"verify_after,omitempty"`
}

func (r *FaultRunner) progress(format string, args ...any) {
	if r.Progress != nil {
		r.Progress(format, args...)
	}
}

// Run executes sc. The outcome (probes, events, analyses) is returned even
// when a step failed, with the error.
func (r *FaultRunner) Run(ctx context.Context, sc FaultScenario) (*fault.Outcome, *FaultReport, error) {
	if sc.Hold <= 0 {
		return nil, nil, fmt.Errorf("fault %s:%s: hold %v must be positive", sc.Fault.Kind, sc.Fault.Target, sc.Hold)
	}
	if sc.Before <= 0 {
		sc.Before = time.Duration(sc.Fault.AfterSec * float64(time.Second))
		if sc.Before <= 0 {
			sc.Before = 2 * time.Second
		}
	}
	if sc.After <= 0 {
		sc.After = 5 * time.Second
	}
	if sc.Recover <= 0 {
		sc.Recover = time.Minute
	}
	sc.Recover = max(sc.Recover, sc.After)
	if sc.RevertTimeout <= 0 {
		sc.RevertTimeout = 12 * time.Minute
	}
	if sc.Watch <= 0 {
		sc.Watch = 500 * time.Millisecond
	}
	client, err := r.Hosts.Runner(r.Client)
	if err != nil {
		return nil, nil, err
	}
	rep := &FaultReport{Fault: sc.Fault}
	if r.Verify != nil {
		r.progress("verify before %s", sc.Fault.Kind)
		if v, err := r.Verify(ctx); err == nil {
			rep.VerifyBefore = &v
		}
	}
	if rep.Clock, err = MeasureClock(ctx, client, 5); err != nil {
		return nil, rep, err
	}
	sc.Probe.MaxDuration = sc.Before + sc.Hold + sc.Recover + sc.RevertTimeout + 30*time.Second
	prober := &RemoteProber{Runner: client, Path: r.Agent, Config: sc.Probe, Clock: rep.Clock}
	obs := &Observer{Hosts: r.Hosts, Service: r.Service, Patience: sc.Patience}
	if sc.Fault.Kind == topology.FailRAIDMember {
		obs.RAIDVM = r.Injector.vmOrNil(sc.Fault.Target)
	}

	out := &fault.Outcome{Fault: sc.Fault, Start: time.Now()}
	run, err := prober.Start(ctx)
	if err != nil {
		return nil, rep, err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	tl := &Timeline{}
	wg.Go(func() { obs.Watch(wctx, sc.Watch, tl) })

	stepErr := r.steps(ctx, sc, out, tl)

	stopWatch()
	wg.Wait()
	rep.Timeline = tl.States()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	probes, perr := run.Stop(sctx)
	out.Probes = probes
	out.Analyse()
	rep.Notes = r.Injector.Notes()
	if inject := eventStart(out, "inject"); !inject.IsZero() {
		rep.Cluster = AnalyzeCluster(rep.Timeline, inject, eventStart(out, "revert"))
	}
	if r.Verify != nil && ctx.Err() == nil {
		r.progress("verify after %s", sc.Fault.Kind)
		if v, err := r.Verify(ctx); err == nil {
			rep.VerifyAfter = &v
		}
	}
	return out, rep, errors.Join(stepErr, perr)
}

func (r *FaultRunner) steps(ctx context.Context, sc FaultScenario, out *fault.Outcome, tl *Timeline) error {
	name := string(sc.Fault.Kind) + ":" + sc.Fault.Target
	if err := sleep(ctx, sc.Before); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.RevertTimeout)
	defer cancel()
	err := call(out, "inject", func() error { return r.Injector.Inject(ctx, sc.Fault) })
	out.Events[len(out.Events)-1].Effective = r.Injector.Effective()
	if err != nil {
		rerr := call(out, "revert", func() error { return r.Injector.Revert(rctx, sc.Fault) })
		return errors.Join(fmt.Errorf("inject %s: %w", name, err), wrapErr("revert "+name, rerr))
	}
	holdErr := sleep(ctx, sc.Hold)
	if err := call(out, "revert", func() error { return r.Injector.Revert(rctx, sc.Fault) }); err != nil {
		return errors.Join(holdErr, fmt.Errorf("revert %s: %w", name, err))
	}
	if holdErr != nil {
		return holdErr
	}
	if err := sleep(ctx, sc.After); err != nil {
		return err
	}
	return r.awaitRestored(ctx, sc, out, tl)
}

// awaitRestored extends the observation after the revert until the
// cluster is back to its state before the fault, or Recover has passed
// since the revert ended (then the report says "not restored").
func (r *FaultRunner) awaitRestored(ctx context.Context, sc FaultScenario, out *fault.Outcome, tl *Timeline) error {
	inject, revert := eventStart(out, "inject"), eventStart(out, "revert")
	deadline := out.Events[len(out.Events)-1].End.Add(sc.Recover)
	var said time.Time
	for {
		a := AnalyzeCluster(tl.States(), inject, revert)
		if a.Restored || a.Before.At.IsZero() || time.Now().After(deadline) {
			return nil
		}
		if said.IsZero() {
			r.progress("waiting up to %v for the cluster to be as before %s", time.Until(deadline).Round(time.Second), sc.Fault.Kind)
			said = time.Now()
		} else if time.Since(said) >= stillEvery {
			r.progress("still waiting for the cluster to be as before %s (up to %v more)", sc.Fault.Kind, time.Until(deadline).Round(time.Second))
			said = time.Now()
		}
		if err := sleep(ctx, sc.Watch); err != nil {
			return err
		}
	}
}

// eventStart is when the named event took effect (zero: it did not happen).
func eventStart(o *fault.Outcome, name string) time.Time {
	for _, ev := range o.Events {
		if ev.Name == name {
			return ev.At()
		}
	}
	return time.Time{}
}

func call(o *fault.Outcome, name string, f func() error) error {
	ev := fault.Event{Name: name, Start: time.Now()}
	err := f()
	ev.End = time.Now()
	if err != nil {
		ev.Err = err.Error()
	}
	o.Events = append(o.Events, ev)
	return err
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (in *Injector) vmOrNil(name string) *topology.VM {
	vm, _ := in.vmNamed(name)
	return vm
}
