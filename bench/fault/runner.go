package fault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/topology"
)

// Fault is one fault of an experiment, as the lab declares it.
type Fault = topology.Fault

// Injector executes faults (virsh destroy, kill keepalived, …). labctl's
// lab layer implements it; tests use fakes.
type Injector interface {
	Inject(ctx context.Context, f Fault) error
	Revert(ctx context.Context, f Fault) error
}

// Scenario is one fault experiment: baseline, fault held for Hold, revert,
// observation.
type Scenario struct {
	Fault  Fault
	Probe  ProberConfig  // MaxDuration is set by Run
	Load   *load.Config  // optional background load; MaxDuration is set by Run
	Before time.Duration // baseline before injecting; 0 = Fault.AfterSec or 2 s
	Hold   time.Duration // how long the fault stays before Revert (> 0)
	After  time.Duration // observation after Revert; 0 = 2 s
	// RevertTimeout bounds Revert, which also runs when ctx was cancelled
	// so that a fault is never left behind; 0 = 2 min.
	RevertTimeout time.Duration
}

// Event is an injector call on the timeline.
type Event struct {
	Name  string    `json:"name"` // inject | revert
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Err   string    `json:"err,omitempty"`
	// Effective is when the fault itself took effect, when the injector
	// knows (after finding its target, e.g. the VIP holder): the analyses
	// count from it rather than from Start.
	Effective time.Time `json:"effective,omitempty"`
}

// At is when the event took effect: Effective, else Start.
func (e *Event) At() time.Time {
	if !e.Effective.IsZero() {
		return e.Effective
	}
	return e.Start
}

// Outcome is everything one scenario measured.
type Outcome struct {
	Fault  Fault        `json:"fault"`
	Start  time.Time    `json:"start"`
	Events []Event      `json:"events"`
	Probes []Probe      `json:"-"` // stored beside results.json (probes CSV)
	Load   *load.Result `json:"load,omitempty"`
	// During: from the start of Inject to the start of Revert.
	// Revert: from the start of Revert to the end (e.g. failback).
	During Analysis  `json:"fault_analysis"`
	Revert *Analysis `json:"revert_analysis,omitempty"`
}

func (sc Scenario) withDefaults() Scenario {
	if sc.Before == 0 {
		sc.Before = time.Duration(sc.Fault.AfterSec * float64(time.Second))
		if sc.Before <= 0 {
			sc.Before = 2 * time.Second
		}
	}
	if sc.After == 0 {
		sc.After = 2 * time.Second
	}
	if sc.RevertTimeout == 0 {
		sc.RevertTimeout = 2 * time.Minute
	}
	return sc
}

// Run executes sc: start the prober (and load), wait Before, Inject, wait
// Hold, Revert, wait After, stop and analyse. An injector error ends the
// scenario early but the timeline up to it is still returned.
func Run(ctx context.Context, inj Injector, sc Scenario) (*Outcome, error) {
	sc = sc.withDefaults()
	if sc.Hold <= 0 {
		return nil, fmt.Errorf("fault %s:%s: hold %v must be positive", sc.Fault.Kind, sc.Fault.Target, sc.Hold)
	}
	total := sc.Before + sc.Hold + sc.After + sc.RevertTimeout + 5*time.Second
	sc.Probe.MaxDuration = total
	if err := sc.Probe.Validate(); err != nil {
		return nil, err
	}
	if sc.Load != nil {
		lc := *sc.Load
		lc.MaxDuration = total
		if err := lc.Validate(); err != nil {
			return nil, err
		}
		sc.Load = &lc
	}

	out := &Outcome{Fault: sc.Fault, Start: time.Now()}
	measure, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var probeErr, loadErr error
	wg.Go(func() { out.Probes, probeErr = RunProber(measure, sc.Probe) })
	if sc.Load != nil {
		wg.Go(func() { out.Load, loadErr = load.Run(measure, *sc.Load) })
	}

	err := steps(ctx, inj, sc, out)
	stop()
	wg.Wait()
	if err == nil {
		err = errors.Join(probeErr, loadErr)
	}
	out.Analyse()
	return out, err
}

func steps(ctx context.Context, inj Injector, sc Scenario, out *Outcome) error {
	name := string(sc.Fault.Kind) + ":" + sc.Fault.Target
	if err := sleep(ctx, sc.Before); err != nil {
		return err
	}
	if err := out.call("inject", func() error { return inj.Inject(ctx, sc.Fault) }); err != nil {
		// A half-applied fault is reverted too.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.RevertTimeout)
		defer cancel()
		rerr := out.call("revert", func() error { return inj.Revert(rctx, sc.Fault) })
		return errors.Join(fmt.Errorf("inject %s: %w", name, err), wrap("revert "+name, rerr))
	}
	holdErr := sleep(ctx, sc.Hold)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.RevertTimeout)
	defer cancel()
	if err := out.call("revert", func() error { return inj.Revert(rctx, sc.Fault) }); err != nil {
		return errors.Join(holdErr, fmt.Errorf("revert %s: %w", name, err))
	}
	if holdErr != nil {
		return holdErr
	}
	return sleep(ctx, sc.After)
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (o *Outcome) call(name string, f func() error) error {
	ev := Event{Name: name, Start: time.Now()}
	err := f()
	ev.End = time.Now()
	if err != nil {
		ev.Err = err.Error()
	}
	o.Events = append(o.Events, ev)
	return err
}

// Analyse fills the analyses from the events and the timeline (callers
// that run their own scenario, like bench/lab, use it too).
func (o *Outcome) Analyse() {
	var inject, revert *Event
	for i := range o.Events {
		switch o.Events[i].Name {
		case "inject":
			inject = &o.Events[i]
		case "revert":
			revert = &o.Events[i]
		}
	}
	if inject == nil {
		return
	}
	var until time.Time
	if revert != nil {
		until = revert.Start
	}
	o.During = Analyze(o.Probes, inject.At(), until, 0)
	if revert != nil {
		a := Analyze(o.Probes, revert.Start, time.Time{}, 0)
		o.Revert = &a
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
