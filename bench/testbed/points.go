package testbed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labctl/labctl/bench"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
)

// measurePoints puts each variation in force through vs and measures it
// Repeat times with d, appending one summarised point per variation to
// run; the tools' raw output goes under dir/raw.
func (b *Bench) measurePoints(ctx context.Context, e *topology.Experiment, vars []result.Variation, d bench.Driver, vs *Variations, dir string, run *result.Run) error {
	settle := b.Settle
	if settle <= 0 {
		settle = time.Second
	}
	repeat := max(e.Repeat, 1)
	for _, v := range vars {
		b.logf("apply %s", v.Label())
		if err := vs.Apply(ctx, v); err != nil {
			return fmt.Errorf("apply %s: %w", v.Label(), err)
		}
		if err := sleep(ctx, settle); err != nil {
			return err
		}
		pt := result.Point{Variation: v}
		for rep := 1; rep <= repeat; rep++ {
			s, raw, err := d.Measure(ctx)
			if len(raw) > 0 {
				name := fmt.Sprintf("rs%d-%s-rep%d.%s", v.RealServers, safe(v.Scheduler), rep, rawExt(d.Name()))
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
			b.logf("%s repeat %d/%d: %.1f req/s, %d errors", v.Label(), rep, repeat, s.Throughput, s.Errors)
		}
		if err := pt.Summarize(); err != nil {
			return err
		}
		run.Points = append(run.Points, pt)
	}
	return nil
}

// mergeProvenance keeps the lab's fields and fills the empty ones from
// the local host.
func mergeProvenance(lab, local result.Provenance) result.Provenance {
	p := lab
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
