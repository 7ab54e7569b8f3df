package testbed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/bench"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/tool"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// Bench runs a lab's experiments: load on the client VM, variations
// applied to the cluster, faults injected for real.
type Bench struct {
	Lab        *topology.Lab
	Hosts      Hosts
	Power      Power
	ResultsDir string
	// Agent returns labctl's own static executable, copied to the client
	// VM for the built-in generator and the prober.
	Agent func() ([]byte, error)
	// Provenance returns the lab side of the provenance for a tool.
	Provenance func(ctx context.Context, tool string, client *topology.VM) result.Provenance
	// Verify checks the cluster before and after each fault (nil = skip).
	Verify func(ctx context.Context) (verify.Result, error)
	// Settle is the pause after a variation is in force (default 1 s).
	Settle time.Duration
	// FaultHold is how long a fault stays before it is reverted (default 10 s).
	FaultHold  time.Duration
	FaultAfter time.Duration // observation after the revert (default 5 s)
	// FaultRecover extends FaultAfter until the cluster is as before the
	// fault, up to this long (default 1 min).
	FaultRecover time.Duration
	// ProbeInterval and ProbeTimeout tune the prober (defaults 50 ms, 1 s).
	ProbeInterval, ProbeTimeout time.Duration
	Progress                    io.Writer

	mu        sync.Mutex
	installed map[string]bool // clients with the agent installed
}

func (b *Bench) logf(format string, args ...any) {
	if b.Progress != nil {
		fmt.Fprintf(b.Progress, format+"\n", args...)
	}
}

// Service returns the LVS service an experiment targets.
func Service(lab *topology.Lab, e *topology.Experiment) (*topology.LVSService, error) {
	if s := lab.Service(e.Service); s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("experiment %q: lab %s has no LVS service %q", e.Name, lab.Name, e.Service)
}

// ServiceURL is the URL load and probes go to.
func ServiceURL(s *topology.LVSService) string {
	host := s.VIP.String()
	if s.VIP.Is6() {
		host = "[" + host + "]"
	}
	if s.Port != 80 && s.Port != 0 {
		host = netip.AddrPortFrom(s.VIP, uint16(s.Port)).String()
	}
	return "http://" + host + "/"
}

// Run runs one experiment and writes its run directory. Variations are
// undone afterwards, faults are reverted; on a failure part-way the
// directory holds what was measured.
func (b *Bench) Run(ctx context.Context, e *topology.Experiment) (string, *result.Run, error) {
	svc, err := Service(b.Lab, e)
	if err != nil {
		return "", nil, err
	}
	if e.Client == nil {
		return "", nil, fmt.Errorf("experiment %q: no client VM: labctl bench runs the load on a lab VM (set client = vm.NAME)", e.Name)
	}
	client, err := b.Hosts.Runner(e.Client.Name)
	if err != nil {
		return "", nil, err
	}
	url := ServiceURL(svc)
	if err := b.installAgent(ctx, e); err != nil {
		return "", nil, err
	}
	driver, err := b.driver(e, client, url)
	if err != nil {
		return "", nil, err
	}
	var prov result.Provenance
	if b.Provenance != nil {
		prov = b.Provenance(ctx, driver.Name(), e.Client)
	}
	vars, err := bench.Plan(e, svc)
	if err != nil {
		return "", nil, err
	}
	start := time.Now().UTC()
	run := &result.Run{ID: result.NewID(b.Lab.Name, e.Name, start), Lab: b.Lab.Name, Experiment: result.FromTopology(e)}
	run.Experiment.Tool, run.Experiment.URL = driver.Name(), url
	run.Provenance = mergeProvenance(prov, result.LocalProvenance())
	run.Provenance.Start = start
	dir, err := result.Create(b.ResultsDir, run.ID)
	if err != nil {
		return "", nil, err
	}
	b.logf("experiment %s: %s on %s → %s", e.Name, driver.Name(), e.Client.Name, url)
	err = result.CopySpec(dir, run, b.Lab.SourceFiles)
	vs := &Variations{Service: svc, Hosts: b.Hosts, Progress: b.stepf}
	if err == nil {
		err = b.measurePoints(ctx, e, vars, driver, vs, dir, run)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Minute)
	defer cancel()
	if rerr := vs.Restore(rctx); rerr != nil {
		err = errors.Join(err, fmt.Errorf("restore cluster: %w", rerr))
	}
	if err == nil && len(e.Faults) > 0 {
		err = b.runFaults(ctx, e, svc, dir, run)
	}
	// results.json is written once, with what was measured even after a
	// failure part-way.
	run.Provenance.End = time.Now().UTC()
	if werr := result.Write(dir, run); werr != nil {
		err = errors.Join(err, werr)
	}
	return dir, run, err
}

func (b *Bench) stepf(format string, args ...any) { b.logf("  "+format, args...) }

func (b *Bench) installAgent(ctx context.Context, e *topology.Experiment) error {
	needs := e.Tool == "builtin" || e.Tool == "" || len(e.Faults) > 0
	b.mu.Lock()
	done := b.installed[e.Client.Name]
	b.mu.Unlock()
	if !needs || done {
		return nil
	}
	if b.Agent == nil {
		return errors.New("no load agent binary to install on the client")
	}
	bin, err := b.Agent()
	if err != nil {
		return err
	}
	r, err := b.Hosts.Runner(e.Client.Name)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := InstallAgent(ctx, r, bin); err != nil {
		return err
	}
	b.logf("load agent on %s (%.1f MB, %.1fs)", e.Client.Name, float64(len(bin))/1e6, time.Since(start).Seconds())
	b.mu.Lock()
	if b.installed == nil {
		b.installed = map[string]bool{}
	}
	b.installed[e.Client.Name] = true
	b.mu.Unlock()
	return nil
}

// maxPoint bounds a request-bounded point whose experiment gives no duration.
const maxPoint = 10 * time.Minute

func (b *Bench) driver(e *topology.Experiment, r ssh.Runner, url string) (bench.Driver, error) {
	bound := time.Duration(e.DurationSec * float64(time.Second))
	switch e.Tool {
	case "", "builtin":
		cfg := bench.LoadConfig(url, e.Concurrency, e.Requests, e.DurationSec, e.RateRPS)
		if cfg.MaxDuration <= 0 {
			cfg.MaxDuration = maxPoint
		}
		return &AgentDriver{Runner: r, Config: cfg}, nil
	case "ab":
		if e.Requests <= 0 {
			return nil, fmt.Errorf("experiment %q: ab needs a request count (requests = N or --requests)", e.Name)
		}
		return timeoutDriver{bench.AB{Exec: tool.Remote{Runner: r}, Options: tool.ABOptions{URL: url, Requests: e.Requests, Concurrency: e.Concurrency}}, maxPoint}, nil
	case "siege":
		if bound < time.Second {
			return nil, fmt.Errorf("experiment %q: siege needs a duration of at least 1s (duration = \"20s\" or --duration)", e.Name)
		}
		opts := tool.SiegeOptions{URL: url, Concurrency: e.Concurrency, Duration: bound.Truncate(time.Second), Benchmark: true, JSON: true}
		// Two runs at most (RunSiege retries a hung one), each bounded on
		// the client by `timeout`.
		return timeoutDriver{bench.Siege{Exec: tool.Remote{Runner: r}, Options: opts}, 2*(bound+time.Minute) + time.Minute}, nil
	}
	return nil, fmt.Errorf("experiment %q: tool %q: want builtin, ab or siege", e.Name, e.Tool)
}

// timeoutDriver bounds an external tool's run.
type timeoutDriver struct {
	bench.Driver
	d time.Duration
}

func (t timeoutDriver) Measure(ctx context.Context) (result.Sample, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	return t.Driver.Measure(ctx)
}

// ParseFault reads a "kind:target" flag value.
func ParseFault(s string) (topology.Fault, error) {
	kind, target, ok := strings.Cut(s, ":")
	if !ok || kind == "" || target == "" {
		return topology.Fault{}, fmt.Errorf("--fault %q: want KIND:VM, e.g. destroy_director:director-1", s)
	}
	if !slices.Contains(topology.FaultKinds, topology.FaultKind(kind)) {
		return topology.Fault{}, fmt.Errorf("--fault %q: kind %q is not one of %s", s, kind, kindList())
	}
	return topology.Fault{Kind: topology.FaultKind(kind), Target: target}, nil
}

// kindList is topology.FaultKinds for messages: "a, b, c".
func kindList() string {
	k := make([]string, len(topology.FaultKinds))
	for i, f := range topology.FaultKinds {
		k[i] = string(f)
	}
	return strings.Join(k, ", ")
}

// ParseInts reads "1,2,3".
func ParseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}
