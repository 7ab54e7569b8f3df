package bench

import (
	"context"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/tool"
)

// Driver measures one sample of load against the service.
type Driver interface {
	// Measure runs one bounded load and returns the sample and the tool's
	// raw output (stored under raw/ in the run directory).
	Measure(ctx context.Context) (result.Sample, []byte, error)
	// Name is "builtin", "ab" or "siege".
	Name() string
}

// AB runs ab through Exec (locally or on the client VM).
type AB struct {
	Exec    tool.Executor
	Options tool.ABOptions
}

func (d AB) Name() string { return "ab" }

// Measure implements Driver.
func (d AB) Measure(ctx context.Context) (result.Sample, []byte, error) {
	r, raw, err := tool.RunAB(ctx, d.Exec, d.Options)
	if err != nil {
		return result.Sample{}, raw, err
	}
	return result.FromAB(r), raw, nil
}

// Siege runs siege through Exec.
type Siege struct {
	Exec    tool.Executor
	Options tool.SiegeOptions
}

func (d Siege) Name() string { return "siege" }

// Measure implements Driver.
func (d Siege) Measure(ctx context.Context) (result.Sample, []byte, error) {
	r, raw, err := tool.RunSiege(ctx, d.Exec, d.Options)
	if err != nil {
		return result.Sample{}, raw, err
	}
	// An aborted siege (too many failures) is a measurement, not an error.
	s := result.FromSiege(r)
	s.Note = strings.TrimSpace(r.Aborted)
	if r.Retried {
		s.Note = strings.TrimSpace(s.Note + " (second run: the first siege run hung)")
	}
	return s, raw, nil
}

// LoadConfig derives the built-in generator's config from the experiment:
// Requests (0 = duration bound only), DurationSec, RateRPS (open loop).
func LoadConfig(url string, concurrency, requests int, durationSec, rateRPS float64) load.Config {
	return load.Config{
		URL: url, Concurrency: concurrency, MaxRequests: int64(requests),
		MaxDuration: time.Duration(durationSec * float64(time.Second)), RateRPS: rateRPS,
	}
}
