package testbed_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/report"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/topology"
)

// Bench.Run is what labctl bench runs: every variation in force on the
// simulated lab in plan order, Repeat samples each from the client VM's
// agent, the tools' raw output and the lab files in the run directory,
// the cluster restored afterwards, and one results.json that reads back
// and renders.
func TestBenchMeasuresEachVariation(t *testing.T) {
	s := newSim(t)
	spec := filepath.Join(t.TempDir(), "lab.hcl")
	if err := os.WriteFile(spec, []byte("# lab\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Lab.SourceFiles = []string{spec}
	e := *s.Lab.Experiments[0]
	e.Name, e.Tool, e.Repeat, e.Requests, e.DurationSec, e.Concurrency = "scale", "builtin", 2, 30, 1, 2
	e.RealServers, e.Schedulers, e.Faults = []int{1, 3}, []topology.Scheduler{"rr", "wlc"}, nil
	var progress bytes.Buffer
	b := &testbed.Bench{Lab: s.Lab, Hosts: s.Hosts(), Power: s.Power(), ResultsDir: t.TempDir(),
		Agent: func() ([]byte, error) { return []byte("labctl"), nil }, Settle: time.Millisecond, Progress: &progress,
		Provenance: func(context.Context, string, *topology.VM) result.Provenance { return result.Provenance{Accel: "tcg"} }}
	dir, run, err := b.Run(context.Background(), &e)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	want := []string{"rs=1 rr nat", "rs=1 wlc nat", "rs=3 rr nat", "rs=3 wlc nat"}
	if len(run.Points) != len(want) {
		t.Fatalf("%d points, want %d", len(run.Points), len(want))
	}
	for i, p := range run.Points {
		if p.Variation.Label() != want[i] || p.Throughput.N != 2 {
			t.Errorf("point %d: %s with %d samples, want %s with 2", i, p.Variation.Label(), p.Throughput.N, want[i])
		}
		for _, smp := range p.Samples {
			// Round robin over the active real servers: each one answers.
			if smp.Requests != 30 || smp.Errors != 0 || len(smp.Backends) != p.Variation.RealServers || smp.Raw == "" {
				t.Errorf("%s repeat %d: requests %d errors %d backends %v raw %q", p.Variation.Label(), smp.Repeat, smp.Requests, smp.Errors, smp.Backends, smp.Raw)
			}
			if _, err := os.Stat(filepath.Join(dir, smp.Raw)); err != nil {
				t.Error(err)
			}
		}
	}
	if !s.Apache("web-2") || !s.Apache("web-3") || s.Scheduler() != s.Service.Scheduler {
		t.Errorf("not restored: web-2 %v web-3 %v scheduler %s", s.Apache("web-2"), s.Apache("web-3"), s.Scheduler())
	}
	back, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := back.Provenance
	if len(back.Points) != 4 || back.SpecFiles[0] != "spec/lab.hcl" || back.Experiment.Tool != "builtin" || !strings.HasPrefix(back.Experiment.URL, "http://") {
		t.Errorf("read back: %d points, spec %v, tool %q, url %q", len(back.Points), back.SpecFiles, back.Experiment.Tool, back.Experiment.URL)
	}
	if p.Accel != "tcg" || p.LabctlVersion == "" || !p.End.After(p.Start) {
		t.Errorf("provenance %+v", p)
	}
	var html bytes.Buffer
	if err := report.HTML(&html, []*result.Run{back}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<svg") {
		t.Error("report has no chart")
	}
}
