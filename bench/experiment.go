package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
)

// Cluster puts a variation in force on the lab: which real servers are
// active, the scheduler, forwarding mode and persistence. labctl's role
// layer implements it (ipvsadm / keepalived on the directors).
type Cluster interface {
	Apply(ctx context.Context, v result.Variation) error
}

// Spec is everything one experiment run needs.
type Spec struct {
	Lab        string
	Experiment *topology.Experiment
	Service    *topology.LVSService
	Variations []result.Variation // nil = Plan(Experiment, Service)
	URL        string             // service URL, recorded in the results
	KeepAlive  bool               // recorded in the results
	Driver     Driver
	Cluster    Cluster // nil: the cluster is left as it is (one variation only)
	Settle     time.Duration

	// Faults run after the load points when Injector is set.
	Injector   fault.Injector
	Probe      fault.ProberConfig
	FaultLoad  *load.Config // optional background load during each fault
	FaultHold  time.Duration
	FaultAfter time.Duration

	ResultsDir  string   // base directory; the run gets ResultsDir/<id>
	SourceFiles []string // lab files copied into spec/
	Provenance  result.Provenance
	Progress    io.Writer // one line per step; nil = silent
}

// Run executes the experiment and writes its run directory. On a failure
// part-way it still writes what was measured and returns the directory
// with the error.
func Run(ctx context.Context, sp Spec) (string, *result.Run, error) {
	if sp.Experiment == nil || sp.Driver == nil || sp.ResultsDir == "" {
		return "", nil, errors.New("bench: experiment, driver and results directory are required")
	}
	e := sp.Experiment
	vars := sp.Variations
	if vars == nil {
		var err error
		if vars, err = Plan(e, sp.Service); err != nil {
			return "", nil, err
		}
	}
	if sp.Cluster == nil && len(vars) > 1 {
		return "", nil, fmt.Errorf("experiment %q: %d variations need a Cluster to apply them", e.Name, len(vars))
	}
	if len(e.Faults) > 0 && sp.Injector != nil && sp.FaultHold <= 0 {
		return "", nil, fmt.Errorf("experiment %q: faults need a positive hold time", e.Name)
	}
	start := time.Now().UTC()
	run := &result.Run{ID: result.NewID(sp.Lab, e.Name, start), Lab: sp.Lab, Experiment: result.FromTopology(e)}
	run.Experiment.Tool = sp.Driver.Name()
	run.Experiment.URL, run.Experiment.KeepAlive = sp.URL, sp.KeepAlive
	run.Provenance = mergeProvenance(sp.Provenance, result.LocalProvenance())
	run.Provenance.Start = start
	dir, err := result.Create(sp.ResultsDir, run.ID)
	if err != nil {
		return "", nil, err
	}
	if err := result.CopySpec(dir, run, sp.SourceFiles); err != nil {
		return dir, run, err
	}

	err = measurePoints(ctx, sp, vars, dir, run)
	if err == nil && sp.Injector != nil {
		err = runFaults(ctx, sp, run)
	}
	run.Provenance.End = time.Now().UTC()
	if werr := result.Write(dir, run); werr != nil {
		err = errors.Join(err, werr)
	}
	return dir, run, err
}

func measurePoints(ctx context.Context, sp Spec, vars []result.Variation, dir string, run *result.Run) error {
	repeat := max(sp.Experiment.Repeat, 1)
	for _, v := range vars {
		if sp.Cluster != nil {
			sp.progress("apply %s", v.Label())
			if err := sp.Cluster.Apply(ctx, v); err != nil {
				return fmt.Errorf("apply %s: %w", v.Label(), err)
			}
			if err := sleep(ctx, sp.Settle); err != nil {
				return err
			}
		}
		pt := result.Point{Variation: v}
		for rep := 1; rep <= repeat; rep++ {
			s, raw, err := sp.Driver.Measure(ctx)
			if len(raw) > 0 {
				name := fmt.Sprintf("rs%d-%s-rep%d.%s", v.RealServers, safe(v.Scheduler), rep, rawExt(sp.Driver.Name()))
				if rel, werr := result.WriteRaw(dir, name, raw); werr == nil {
					s.Raw = rel
				} else {
					err = errors.Join(err, werr)
				}
			}
			if err != nil {
				return fmt.Errorf("measure %s repeat %d: %w", v.Label(), rep, err)
			}
			s.Repeat = rep
			pt.Samples = append(pt.Samples, s)
			sp.progress("%s repeat %d/%d: %.1f req/s, %d errors", v.Label(), rep, repeat, s.Throughput, s.Errors)
		}
		if err := pt.Summarize(); err != nil {
			return err
		}
		run.Points = append(run.Points, pt)
	}
	return nil
}

func runFaults(ctx context.Context, sp Spec, run *result.Run) error {
	for _, f := range sp.Experiment.Faults {
		sp.progress("fault %s:%s", f.Kind, f.Target)
		out, err := fault.Run(ctx, sp.Injector, fault.Scenario{
			Fault: f, Probe: sp.Probe, Load: sp.FaultLoad, Hold: sp.FaultHold, After: sp.FaultAfter,
		})
		if out != nil {
			run.Faults = append(run.Faults, result.FaultResult{Outcome: *out})
			a := out.During
			sp.progress("fault %s:%s: outage %.2fs, %d failed probes, recovered %v", f.Kind, f.Target, a.Outage, a.Failed, a.Recovered)
		}
		if err != nil {
			return fmt.Errorf("fault %s:%s: %w", f.Kind, f.Target, err)
		}
	}
	return nil
}

func (sp Spec) progress(format string, args ...any) {
	if sp.Progress != nil {
		fmt.Fprintf(sp.Progress, format+"\n", args...)
	}
}

// mergeProvenance keeps the caller's fields and fills the empty ones from
// the local host.
func mergeProvenance(caller, local result.Provenance) result.Provenance {
	p := caller
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&p.LabctlVersion, local.LabctlVersion)
	set(&p.LabctlCommit, local.LabctlCommit)
	set(&p.GoVersion, local.GoVersion)
	set(&p.Hostname, local.Hostname)
	set(&p.HostCPU, local.HostCPU)
	set(&p.HostKernel, local.HostKernel)
	if p.HostCPUs == 0 {
		p.HostCPUs = local.HostCPUs
	}
	return p
}

func rawExt(tool string) string {
	if tool == "builtin" {
		return "json"
	}
	return "txt"
}

// safe keeps a name usable as a file name part.
func safe(s string) string {
	if s == "" {
		return "default"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
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
