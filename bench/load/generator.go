// Package load is labctl's HTTP load generator: closed loop (N clients) or
// open loop (fixed arrival rate, latency from the intended send time),
// always bounded by a request count and a duration. It records throughput,
// errors, an HDR latency histogram, a timeline and which backend answered.
package load

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Run generates load as cfg says and returns what it measured. It returns an
// error only for an invalid config; failed requests are counted in Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	return run(ctx, cfg, engineAuto)
}

// engine picks how requests are sent; tests force each one.
type engine int

const (
	engineAuto  engine = iota // the epoll loop where it can, else engineConns
	engineConns               // one goroutine per client on net.Conn
)

func run(ctx context.Context, cfg Config, eng engine) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	tg, err := newTarget(cfg)
	if err != nil {
		return nil, err
	}
	var lp *loopPlan
	if eng == engineAuto {
		lp = planLoop(ctx, cfg, tg) // nil when the loop cannot serve this run
	}
	start := time.Now()
	runCtx, cancel := context.WithDeadline(ctx, start.Add(cfg.MaxDuration))
	defer cancel()
	g := &gen{cfg: cfg, start: start, end: start.Add(cfg.MaxDuration), runCtx: runCtx}
	tallies := make([]*tally, cfg.Concurrency)
	for i := range tallies {
		tallies[i] = newTally()
	}

	var dispatched int64
	switch {
	case lp != nil:
		if err := g.runLoops(lp, tallies); err != nil {
			return nil, err
		}
	case cfg.RateRPS > 0:
		dispatched = g.runOpen(tg, tallies)
	default:
		g.runClosed(tg, tallies)
	}
	end := time.Now()
	return g.result(tallies, end, dispatched, ctx.Err() != nil)
}

type gen struct {
	cfg        Config
	start, end time.Time // end: start + MaxDuration
	runCtx     context.Context
	issued     atomic.Int64 // closed loop: requests started
}

// claim reserves the next closed-loop request at now; false once the run
// is over (the clock is checked too: runCtx's timer may fire late).
func (g *gen) claim(now time.Time) bool {
	return now.Before(g.end) && g.runCtx.Err() == nil && g.issued.Add(1) <= g.cfg.MaxRequests
}

// deadline is when a request sent at now times out: after Timeout, and no
// later than the end of the run.
func (g *gen) deadline(now time.Time) time.Time {
	d := now.Add(g.cfg.Timeout)
	if g.end.Before(d) {
		d = g.end
	}
	return d
}

// runClosed: each client sends its next request when the last one is done.
func (g *gen) runClosed(tg *target, tallies []*tally) {
	var wg sync.WaitGroup
	for _, t := range tallies {
		c := newConn(g.runCtx, tg, g.cfg.KeepAlive)
		wg.Go(func() {
			defer c.close()
			for at := time.Now(); g.claim(at); at = time.Now() {
				resp, err := c.roundTrip(g.deadline(at))
				g.record(t, at, time.Now(), resp, err)
			}
		})
	}
	wg.Wait()
}

// runOpen: clients take due times from a dispatcher; it returns how many
// were dispatched.
func (g *gen) runOpen(tg *target, tallies []*tally) int64 {
	var wg sync.WaitGroup
	due := make(chan time.Time)
	for _, t := range tallies {
		c := newConn(g.runCtx, tg, g.cfg.KeepAlive)
		wg.Go(func() {
			defer c.close()
			for at := range due {
				resp, err := c.roundTrip(g.deadline(time.Now()))
				g.record(t, at, time.Now(), resp, err)
			}
		})
	}
	n := g.dispatch(due)
	close(due)
	wg.Wait()
	return n
}

// dispatch sends due times on a fixed schedule until the deadline, the
// request bound or cancellation, and returns how many it sent.
func (g *gen) dispatch(due chan<- time.Time) int64 {
	deadline := g.start.Add(g.cfg.MaxDuration)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var n int64
	for ; n < g.cfg.MaxRequests; n++ {
		at := g.start.Add(time.Duration(float64(n) * float64(time.Second) / g.cfg.RateRPS))
		if !at.Before(deadline) {
			break
		}
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-g.runCtx.Done():
				return n
			}
		}
		// Blocks while every client is busy; the due time stays the
		// scheduled one, so the wait is counted as latency.
		select {
		case due <- at:
		case <-g.runCtx.Done():
			return n
		}
	}
	return n
}

// record adds one request that was due at `at` and finished at done to t.
func (g *gen) record(t *tally, at, done time.Time, resp *response, err error) {
	if err != nil && (g.runCtx.Err() != nil || !done.Before(g.end)) {
		t.incomplete++ // cut off by the end of the run, not a server failure
		return
	}
	b := t.bucket(int(at.Sub(g.start) / g.cfg.Bucket))
	t.requests++
	if err != nil {
		t.errors++
		b.Errors++
		t.errKinds[classify(err)]++
		return
	}
	t.bytes += resp.Bytes
	t.status[resp.Status]++
	if resp.Status >= 400 {
		t.errors++
		b.Errors++
	} else {
		t.ok++
		b.OK++
	}
	t.backends[g.cfg.Identify.Identify(resp.Header, resp.Body)]++
	us := done.Sub(at).Microseconds()
	if us < histLowest {
		us = histLowest
	}
	if us > histHighest {
		us = histHighest
	}
	_ = t.hist.RecordValue(us) // in range by construction
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection_refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection_reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	return "other"
}

// tally is one client's counters, merged after the run (no locks on the
// hot path).
type tally struct {
	hist                                    *hdrhistogram.Histogram
	requests, ok, errors, incomplete, bytes int64
	status                                  map[int]int64
	errKinds                                map[string]int64
	backends                                map[string]int64
	timeline                                []Bucket
}

func newTally() *tally {
	return &tally{
		hist:     NewHistogram(),
		status:   map[int]int64{},
		errKinds: map[string]int64{},
		backends: map[string]int64{},
	}
}

func (t *tally) bucket(i int) *Bucket {
	if i < 0 {
		i = 0
	}
	for len(t.timeline) <= i {
		t.timeline = append(t.timeline, Bucket{})
	}
	return &t.timeline[i]
}

func (g *gen) result(tallies []*tally, end time.Time, dispatched int64, canceled bool) (*Result, error) {
	cfg := g.cfg
	r := &Result{
		Schema: ResultSchema, Label: cfg.Label, Mode: cfg.Mode(), URL: cfg.URL,
		Concurrency: cfg.Concurrency, RateRPS: cfg.RateRPS, KeepAlive: cfg.KeepAlive,
		Start: g.start.UTC(), Status: map[int]int64{}, ErrorKinds: map[string]int64{},
		Backends: map[string]int64{}, BucketSec: cfg.Bucket.Seconds(),
	}
	hist := NewHistogram()
	for _, t := range tallies {
		hist.Merge(t.hist)
		r.Requests += t.requests
		r.OK += t.ok
		r.Errors += t.errors
		r.Incomplete += t.incomplete
		r.Bytes += t.bytes
		for k, v := range t.status {
			r.Status[k] += v
		}
		for k, v := range t.errKinds {
			r.ErrorKinds[k] += v
		}
		for k, v := range t.backends {
			r.Backends[k] += v
		}
		for len(r.Timeline) < len(t.timeline) {
			r.Timeline = append(r.Timeline, Bucket{})
		}
		for i, b := range t.timeline {
			r.Timeline[i].OK += b.OK
			r.Timeline[i].Errors += b.Errors
		}
	}
	elapsed := end.Sub(g.start)
	if limit := cfg.MaxDuration; elapsed > limit {
		elapsed = limit // requests cut at the deadline add no work
	}
	r.ElapsedSec = elapsed.Seconds()
	if r.ElapsedSec > 0 {
		r.RPS = float64(r.Requests) / r.ElapsedSec
		r.OKPerSec = float64(r.OK) / r.ElapsedSec
	}
	if cfg.RateRPS > 0 {
		due := int64(cfg.MaxDuration.Seconds() * cfg.RateRPS)
		if float64(due) < cfg.MaxDuration.Seconds()*cfg.RateRPS {
			due++ // the request due at t=0 counts too
		}
		if due > cfg.MaxRequests {
			due = cfg.MaxRequests
		}
		if canceled || due < dispatched {
			due = dispatched
		}
		r.Unsent = due - dispatched
	}
	switch {
	case canceled:
		r.StopReason = "canceled"
	case r.Requests+r.Incomplete >= cfg.MaxRequests:
		r.StopReason = "max_requests"
	default:
		r.StopReason = "max_duration"
	}
	r.Latency = SummarizeHistogram(hist)
	var err error
	if r.Histogram, err = EncodeHistogram(hist); err != nil {
		return nil, err
	}
	return r, nil
}
