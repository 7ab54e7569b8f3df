package testbed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/tool"
	"github.com/labctl/labctl/provision/ssh"
)

// Clock is the client VM's clock against this host's: guest = host + Offset,
// known to ±Uncertainty (half the best SSH round trip). Guests have no NTP
// in an isolated lab and read the RTC with 1 s resolution at boot, so
// their clock is off by up to seconds; probe times are corrected with it.
type Clock struct {
	OffsetMs      float64 `json:"offset_ms"`
	UncertaintyMs float64 `json:"uncertainty_ms"`
}

// MeasureClock reads the guest clock n times over SSH and keeps the
// reading with the shortest round trip.
func MeasureClock(ctx context.Context, r ssh.Runner, n int) (Clock, error) {
	best := Clock{UncertaintyMs: -1}
	for range max(n, 1) {
		t0 := time.Now()
		res, err := r.Run(ctx, "date +%s.%N")
		t1 := time.Now()
		if err != nil {
			return Clock{}, fmt.Errorf("read clock of %s: %w", r.Host(), err)
		}
		g, err := parseEpoch(strings.TrimSpace(string(res.Stdout)))
		if err != nil {
			return Clock{}, fmt.Errorf("read clock of %s: %w", r.Host(), err)
		}
		rtt := t1.Sub(t0)
		mid := t0.Add(rtt / 2)
		c := Clock{OffsetMs: ms(g.Sub(mid)), UncertaintyMs: ms(rtt / 2)}
		if best.UncertaintyMs < 0 || c.UncertaintyMs < best.UncertaintyMs {
			best = c
		}
	}
	return best, nil
}

func parseEpoch(s string) (time.Time, error) {
	sec, frac, _ := strings.Cut(s, ".")
	a, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("date output %q: %w", s, err)
	}
	frac = (frac + "000000000")[:9]
	b, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("date output %q: %w", s, err)
	}
	return time.Unix(a, b), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// RemoteProber runs the fault prober on the client VM through the agent.
type RemoteProber struct {
	Runner ssh.Runner
	Path   string // AgentPath unless set
	Config fault.ProberConfig
	Clock  Clock // probe times are shifted by -Clock.Offset
}

// ProbeRun is a prober running on the client.
type ProbeRun struct {
	p        *RemoteProber
	stopFile string
	done     chan probeResult
}

type probeResult struct {
	out []byte
	err error
}

// Start launches the prober; it runs until Stop or Config.MaxDuration.
func (p *RemoteProber) Start(ctx context.Context) (*ProbeRun, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	path := p.Path
	if path == "" {
		path = AgentPath
	}
	var id [6]byte
	_, _ = rand.Read(id[:])
	pr := &ProbeRun{p: p, stopFile: "/tmp/labctl-probe-" + hex.EncodeToString(id[:]) + ".stop", done: make(chan probeResult, 1)}
	c := p.Config
	argv := []string{path, "load-agent", "probe", "-url", c.URL, "-d", c.MaxDuration.String(), "-stop-file", pr.stopFile}
	if c.Interval > 0 {
		argv = append(argv, "-interval", c.Interval.String())
	}
	if c.Timeout > 0 {
		argv = append(argv, "-timeout", c.Timeout.String())
	}
	if c.Host != "" {
		argv = append(argv, "-host", c.Host)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.MaxDuration+time.Minute)
	go func() {
		defer cancel()
		res, err := p.Runner.Run(rctx, tool.ShellJoin(argv))
		pr.done <- probeResult{res.Stdout, err}
	}()
	return pr, nil
}

// Stop ends the prober and returns its probes on this host's clock.
func (pr *ProbeRun) Stop(ctx context.Context) ([]fault.Probe, error) {
	r := pr.p.Runner
	_, terr := r.Run(ctx, "touch "+pr.stopFile)
	wait := time.NewTimer(30 * time.Second)
	defer wait.Stop()
	var res probeResult
	select {
	case res = <-pr.done:
	case <-wait.C:
		return nil, fmt.Errorf("prober on %s did not stop (touch: %v)", r.Host(), terr)
	}
	_, _ = r.Run(ctx, "rm -f "+pr.stopFile)
	if res.err != nil {
		return nil, fmt.Errorf("prober on %s: %w", r.Host(), res.err)
	}
	var out ProbeOutput
	if err := json.Unmarshal(res.out, &out); err != nil {
		return nil, fmt.Errorf("prober on %s: parse output: %w", r.Host(), err)
	}
	if out.Schema != ProbesSchema {
		return nil, fmt.Errorf("prober on %s: schema %q, want %q", r.Host(), out.Schema, ProbesSchema)
	}
	shift := time.Duration(pr.p.Clock.OffsetMs * float64(time.Millisecond))
	for i := range out.Probes {
		out.Probes[i].At = out.Probes[i].At.Add(-shift)
	}
	return out.Probes, nil
}
