package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/tool"
	"github.com/labctl/labctl/provision/ssh"
)

// Driver measures one sample of load against the service.
type Driver interface {
	// Measure runs one bounded load and returns the sample and the tool's
	// raw output (stored under raw/ in the run directory).
	Measure(ctx context.Context) (result.Sample, []byte, error)
	// Name is "builtin", "ab" or "siege".
	Name() string
}

// InProcess runs the built-in generator in this process (load from the
// host).
type InProcess struct{ Config load.Config }

func (d InProcess) Name() string { return "builtin" }

// Measure implements Driver.
func (d InProcess) Measure(ctx context.Context) (result.Sample, []byte, error) {
	r, err := load.Run(ctx, d.Config)
	if err != nil {
		return result.Sample{}, nil, err
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return result.Sample{}, nil, fmt.Errorf("encode load result: %w", err)
	}
	return result.FromLoad(r), raw, nil
}

// Remote runs labctl-load (bench/cmd/labctl-load) on a lab VM over SSH.
// Binary is its path on the VM; Upload, when set, is copied there first
// (once per Driver value: set it to nil after the first run if wanted).
type Remote struct {
	Runner ssh.Runner
	Binary string // e.g. /usr/local/bin/labctl-load
	Upload []byte // static binary to install at Binary, or nil if present
	Config load.Config
}

func (d *Remote) Name() string { return "builtin" }

// Measure implements Driver.
func (d *Remote) Measure(ctx context.Context) (result.Sample, []byte, error) {
	if err := d.Config.Validate(); err != nil {
		return result.Sample{}, nil, err
	}
	if d.Upload != nil {
		if err := d.Runner.WriteFile(ctx, d.Binary, d.Upload, 0o755); err != nil {
			return result.Sample{}, nil, fmt.Errorf("install %s on %s: %w", d.Binary, d.Runner.Host(), err)
		}
		d.Upload = nil
	}
	cmd := tool.ShellJoin(append([]string{d.Binary}, d.Config.Args()...))
	// The remote run stops by itself; the extra minute covers SSH latency.
	ctx, cancel := context.WithTimeout(ctx, d.Config.MaxDuration+time.Minute)
	defer cancel()
	res, err := d.Runner.Run(ctx, cmd)
	if err != nil {
		return result.Sample{}, res.Stdout, fmt.Errorf("labctl-load on %s: %w", d.Runner.Host(), err)
	}
	var r load.Result
	if err := json.Unmarshal(res.Stdout, &r); err != nil {
		return result.Sample{}, res.Stdout, fmt.Errorf("labctl-load on %s: parse result: %w", d.Runner.Host(), err)
	}
	if r.Schema != load.ResultSchema {
		return result.Sample{}, res.Stdout, fmt.Errorf("labctl-load on %s: schema %q, want %q", d.Runner.Host(), r.Schema, load.ResultSchema)
	}
	return result.FromLoad(&r), res.Stdout, nil
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
