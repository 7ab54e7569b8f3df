package testbed

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Timeline is what a Watch has seen so far: when each call to a director
// started and what it answered (and the RAID readings), merged into ClusterStates
// on demand, so the scenario can read it while Watch goes on.
type Timeline struct {
	mu       sync.Mutex
	obs      *Observer
	patience time.Duration
	events   []event
}

// event is a director's call starting (view nil) or its answer, or a RAID
// reading (director -1), at time at.
type event struct {
	director int
	at       time.Time
	view     *view
	raid     string
}

func (t *Timeline) add(e event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e)
}

// States merges the answers in the order they arrived: each ClusterState is the
// cluster as known when one answer arrived. A director's last answer
// counts until its next call has been pending for longer than Patience;
// then (or when the call failed) it is unreachable. So a powered-off
// director, whose SSH call hangs until the timeout, neither delays what
// the other reports nor still counts as holding the VIP when the other
// takes it over (VRRP needs ≥ 3 s), while two directors that both keep
// answering that they hold the VIP show as a split brain. States start
// once every director has answered (or Patience after the first answer).
func (t *Timeline) States() []ClusterState {
	t.mu.Lock()
	events, o, patience := slices.Clone(t.events), t.obs, t.patience
	t.mu.Unlock()
	if o == nil || len(events) == 0 {
		return nil
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	n := len(o.Service.Directors)
	latest, pending, current := make([]*view, n), make([]time.Time, n), make([]*view, n)
	raid := ""
	var first time.Time
	out := make([]ClusterState, 0, len(events))
	for _, e := range events {
		switch {
		case e.director < 0:
			raid = e.raid
		case e.view == nil:
			pending[e.director] = e.at
			continue
		default:
			latest[e.director], pending[e.director] = e.view, time.Time{}
		}
		if first.IsZero() {
			first = e.at
		}
		if slices.Contains(latest, nil) && e.at.Sub(first) < patience {
			continue
		}
		for i, v := range latest {
			current[i] = v
			if !pending[i].IsZero() && e.at.Sub(pending[i]) > patience {
				current[i] = nil
			}
		}
		took := time.Duration(0)
		if e.view != nil {
			took = e.view.took
		}
		out = append(out, o.merge(e.at, took, current, raid))
	}
	return out
}

// Watch looks at every director (and the RAID VM) in a loop of its own,
// one look per interval, until ctx ends, and adds each look's start and
// answer to tl. A director is watched through one streaming command (see
// streamWatch) when its runner can, else polled. A director that does not answer (powered off: its SSH call runs
// into the timeout) thus does not hold back what the others report.
func (o *Observer) Watch(ctx context.Context, interval time.Duration, tl *Timeline) {
	tl.mu.Lock()
	tl.obs, tl.patience = o, o.Patience
	if tl.patience <= 0 {
		tl.patience = 2500 * time.Millisecond
	}
	tl.mu.Unlock()
	every := func(f func()) {
		for {
			next := time.Now().Add(interval)
			f()
			t := time.NewTimer(time.Until(next))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
	var wg sync.WaitGroup
	for i, d := range o.Service.Directors {
		wg.Go(func() {
			if o.streamWatch(ctx, i, d, interval, tl) {
				return
			}
			every(func() {
				tl.add(event{director: i, at: time.Now()})
				if v := o.ask(ctx, d); ctx.Err() == nil {
					tl.add(event{director: i, at: v.end(), view: &v})
				}
			})
		})
	}
	if o.RAIDVM != nil && o.RAIDVM.RAID != nil {
		wg.Go(func() {
			every(func() {
				r := o.raidState(ctx)
				if ctx.Err() == nil {
					tl.add(event{director: -1, at: time.Now(), raid: r})
				}
			})
		})
	}
	wg.Wait()
}
