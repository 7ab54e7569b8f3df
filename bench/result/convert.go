package result

import (
	"errors"
	"fmt"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/stats"
	"github.com/labctl/labctl/bench/tool"
)

// FromLoad turns a built-in generator result into a Sample.
func FromLoad(r *load.Result) Sample {
	return Sample{
		Tool: "builtin", Start: r.Start, ElapsedSec: r.ElapsedSec,
		Requests: r.Requests, OK: r.OK, Errors: r.Errors,
		Throughput: r.RPS, OKPerSec: r.OKPerSec, Latency: r.Latency,
		Backends: r.Backends, Histogram: r.Histogram, Timeline: r.Timeline, BucketSec: r.BucketSec,
	}
}

// FromAB turns an ab report into a Sample; latency percentiles come from
// ab's table (whole milliseconds).
func FromAB(r *tool.ABReport) Sample {
	// ab's "Length" failures are not errors here: the lab's page names the
	// backend, so its length differs between real servers (web-1, web-10).
	s := Sample{
		Tool: "ab", ElapsedSec: r.TimeTakenSec, Requests: r.Complete,
		Errors:     r.FailedConnect + r.FailedReceive + r.FailedExceptions + r.Non2xx,
		Throughput: r.RequestsPerSec,
		Latency:    load.Latency{Count: r.Complete, Mean: r.TimePerRequest},
	}
	s.OK = max(s.Requests-s.Errors, 0)
	if r.TimeTakenSec > 0 {
		s.OKPerSec = float64(s.OK) / r.TimeTakenSec
	}
	s.Latency.P50, _ = r.Percentile(50)
	s.Latency.P90, _ = r.Percentile(90)
	s.Latency.P99, _ = r.Percentile(99)
	s.Latency.Max, _ = r.Percentile(100)
	if t, ok := r.ConnTimes["Total"]; ok {
		s.Latency.Min, s.Latency.StdDev = t.Min, t.SD
	}
	return s
}

// FromSiege turns a siege report into a Sample.
func FromSiege(r *tool.SiegeReport) Sample {
	s := Sample{
		Tool: "siege", ElapsedSec: r.ElapsedSec, Requests: r.Successful + r.Failed,
		OK: r.Successful, Errors: r.Failed, Throughput: r.TransactionRate,
		Latency: load.Latency{Count: r.Transactions, Mean: r.ResponseTimeSec * 1000, Min: r.ShortestSec * 1000, Max: r.LongestSec * 1000},
	}
	if r.ElapsedSec > 0 {
		s.OKPerSec = float64(r.Successful) / r.ElapsedSec
	}
	return s
}

// Summarize fills the point's summaries (95% CI) from its samples.
func (p *Point) Summarize() error {
	if len(p.Samples) == 0 {
		return fmt.Errorf("point %s: no samples", p.Variation.Label())
	}
	var tput, errRate, p50, p99 []float64
	hist := load.NewHistogram()
	merged := false
	for _, s := range p.Samples {
		tput = append(tput, s.Throughput)
		rate := 0.0
		if s.Requests > 0 {
			rate = float64(s.Errors) / float64(s.Requests)
		}
		errRate = append(errRate, rate)
		if s.Latency.P50 > 0 || s.Latency.P99 > 0 {
			p50 = append(p50, s.Latency.P50)
			p99 = append(p99, s.Latency.P99)
		}
		if s.Histogram != "" {
			h, err := load.DecodeHistogram(s.Histogram)
			if err != nil {
				return fmt.Errorf("point %s repeat %d: %w", p.Variation.Label(), s.Repeat, err)
			}
			hist.Merge(h)
			merged = true
		}
	}
	var err error
	if p.Throughput, err = stats.Summarize(tput, 0.95); err != nil {
		return fmt.Errorf("point %s throughput: %w", p.Variation.Label(), err)
	}
	if p.ErrorRate, err = stats.Summarize(errRate, 0.95); err != nil {
		return fmt.Errorf("point %s error rate: %w", p.Variation.Label(), err)
	}
	p.P50, p.P99 = nil, nil
	if len(p50) == len(p.Samples) {
		a, err1 := stats.Summarize(p50, 0.95)
		b, err2 := stats.Summarize(p99, 0.95)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("point %s latency: %w", p.Variation.Label(), err)
		}
		p.P50, p.P99 = &a, &b
	}
	p.Histogram = ""
	if merged {
		if p.Histogram, err = load.EncodeHistogram(hist); err != nil {
			return err
		}
	}
	return nil
}
