// Package fault measures what a fault does to the service: a fine-grained
// prober records a timeline of single requests, an analyzer turns the
// timeline and the fault time into outage and recovery figures, and an
// Outcome holds one fault's timeline, injector events and analyses.
// bench/testbed runs the prober on the client VM and the faults on the lab.
package fault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/labctl/labctl/bench/load"
)

// Probe is one request of the timeline.
type Probe struct {
	Seq       int       `json:"seq"`
	At        time.Time `json:"at"` // send time
	LatencyMs float64   `json:"latency_ms"`
	OK        bool      `json:"ok"` // status < 400
	Status    int       `json:"status,omitempty"`
	Backend   string    `json:"backend,omitempty"`
	Err       string    `json:"err,omitempty"`
}

// ProberConfig bounds and aims the prober.
type ProberConfig struct {
	URL         string
	Host        string        // Host header override
	Interval    time.Duration // 0 = 50 ms
	Timeout     time.Duration // per probe; 0 = 1 s
	MaxProbes   int           // 0 = MaxDuration/Interval
	MaxDuration time.Duration // required, ≤ 1 h
	Identify    load.Identifier
}

func (c ProberConfig) withDefaults() ProberConfig {
	if c.Interval == 0 {
		c.Interval = 50 * time.Millisecond
	}
	if c.Timeout == 0 {
		c.Timeout = time.Second
	}
	if c.MaxProbes == 0 && c.Interval > 0 {
		c.MaxProbes = int(c.MaxDuration/c.Interval) + 1
	}
	if c.Identify == nil {
		c.Identify = load.DefaultIdentifier()
	}
	return c
}

// Validate reports the first invalid field.
func (c ProberConfig) Validate() error {
	switch {
	case c.URL == "":
		return errors.New("prober: url is empty")
	case c.MaxDuration <= 0 || c.MaxDuration > time.Hour:
		return fmt.Errorf("prober: max duration %v: must be in (0, 1h]", c.MaxDuration)
	case c.Interval < 0 || (c.Interval > 0 && c.Interval < time.Millisecond):
		return fmt.Errorf("prober: interval %v: must be ≥ 1ms", c.Interval)
	case c.Timeout < 0 || c.MaxProbes < 0:
		return errors.New("prober: timeout and max probes must not be negative")
	}
	return nil
}

// RunProber sends one request every Interval, each on a new connection so
// that every probe is scheduled afresh by the director, until ctx ends or a
// bound is hit. It returns the probes in send order.
func RunProber(ctx context.Context, cfg ProberConfig) ([]Probe, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	req, err := http.NewRequest(http.MethodGet, cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("prober: url %q: %w", cfg.URL, err)
	}
	if cfg.Host != "" {
		req.Host = cfg.Host
	}
	client := &http.Client{
		Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true},
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	start := time.Now()
	ctx, cancel := context.WithDeadline(ctx, start.Add(cfg.MaxDuration))
	defer cancel()

	probes := make([]Probe, 0, min(cfg.MaxProbes, 1<<16))
	var mu sync.Mutex
	var wg sync.WaitGroup
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
schedule:
	for i := 0; i < cfg.MaxProbes; i++ {
		at := start.Add(time.Duration(i) * cfg.Interval)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break schedule
			}
		}
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		probes = append(probes, Probe{Seq: i, At: at})
		mu.Unlock()
		wg.Go(func() {
			// Probes in flight when the run ends still finish (bounded by
			// Timeout): they belong to the timeline.
			p := probe(context.WithoutCancel(ctx), client, req, cfg.Identify)
			p.Seq = i
			mu.Lock()
			probes[i] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	return probes, nil
}

func probe(ctx context.Context, client *http.Client, req *http.Request, id load.Identifier) Probe {
	p := Probe{At: time.Now()} // actual send time
	resp, err := client.Do(req.WithContext(ctx))
	if err == nil {
		var body []byte
		body, err = io.ReadAll(io.LimitReader(resp.Body, load.IdentifyBytes))
		resp.Body.Close()
		p.Status = resp.StatusCode
		p.Backend = id.Identify(resp.Header, body)
	}
	p.LatencyMs = float64(time.Since(p.At).Microseconds()) / 1000
	if err != nil {
		p.Err = err.Error()
		return p
	}
	p.OK = p.Status < 400
	return p
}
