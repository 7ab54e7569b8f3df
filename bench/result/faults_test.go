package result

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/topology"
)

// repetition builds one repetition of a fault at t0+1.05 s: probes every
// 100 ms for 10 s, failing from the fault for down (< 0: to the end).
func repetition(t0 time.Time, index, repeat int, down time.Duration) FaultResult {
	faultAt := t0.Add(1050 * time.Millisecond)
	var probes []fault.Probe
	for k := 0; k < 100; k++ {
		at := t0.Add(time.Duration(k) * 100 * time.Millisecond)
		failing := at.After(faultAt) && (down < 0 || at.Before(faultAt.Add(down)))
		p := fault.Probe{Seq: k, At: at, LatencyMs: 1, OK: !failing, Status: 200, Backend: "web-1"}
		if failing {
			p.Status, p.Backend, p.Err = 0, "", "timeout"
		}
		probes = append(probes, p)
	}
	restored := down >= 0
	return FaultResult{Index: index, Repeat: repeat, ClusterRestored: &restored, Outcome: fault.Outcome{
		Fault:  topology.Fault{Kind: "destroy_director", Target: "director-1"},
		Start:  t0,
		Events: []fault.Event{{Name: "inject", Start: faultAt, End: faultAt.Add(time.Millisecond)}},
		Probes: probes, During: fault.Analyze(probes, faultAt, time.Time{}, 0),
	}}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

// Three repetitions: three outages, their mean and Student-t 95 % CI, the
// MTTR and the availability over all probes.
func TestSummarizeFaultsThreeRepetitions(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	var faults []FaultResult
	for i, d := range []time.Duration{2 * time.Second, 2500 * time.Millisecond, 3 * time.Second} {
		faults = append(faults, repetition(t0.Add(time.Duration(i)*time.Minute), 1, i+1, d))
	}
	got, err := SummarizeFaults(faults, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d fault stats, want 1: %+v", len(got), got)
	}
	s := got[0]
	if s.Index != 1 || s.Asked != 3 || s.Skipped() != 0 || len(s.Repetitions) != 3 || s.Fault.Kind != "destroy_director" {
		t.Fatalf("stats %+v", s)
	}
	// Last success 1.0 s → first success after the failure 3.1/3.6/4.1 s.
	for i, want := range []float64{2.1, 2.6, 3.1} {
		r := s.Repetitions[i]
		if r.Repeat != i+1 || !near(r.OutageSec, want) || !r.Failed || !r.Recovered || !near(r.RepairSec, want-0.05) || r.Probes != 100 {
			t.Errorf("repetition %d: %+v, want outage %.2f s", i+1, r, want)
		}
	}
	// mean 2.6, sd 0.5, half-width t(0.975, 2)·0.5/√3 = 4.302653·0.288675.
	o := s.Outage
	if o.N != 3 || !near(o.Mean, 2.6) || !near(o.SD, 0.5) || math.Abs(o.HalfWidth-1.242070) > 1e-5 || !near(o.CILow, o.Mean-o.HalfWidth) {
		t.Errorf("outage %+v", o)
	}
	if s.MTTR == nil || s.MTTR.N != 3 || !near(s.MTTR.Mean, 2.55) || s.MTTR.HalfWidth <= 0 {
		t.Errorf("MTTR %+v", s.MTTR)
	}
	// 20 + 25 + 30 failed of 300.
	if s.Probes != 300 || s.OKProbes != 225 || !near(s.Availability, 0.75) || s.NotRecovered != 0 || s.NotRestored != 0 {
		t.Errorf("availability %v (%d/%d), not recovered %d, not restored %d", s.Availability, s.OKProbes, s.Probes, s.NotRecovered, s.NotRestored)
	}
}

// A repetition that never recovered is counted as such and left out of
// the MTTR; the one after it was skipped.
func TestSummarizeFaultsNotRecovered(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	faults := []FaultResult{repetition(t0, 1, 1, 2*time.Second), repetition(t0.Add(time.Minute), 1, 2, -1)}
	got, err := SummarizeFaults(faults, 3)
	if err != nil {
		t.Fatal(err)
	}
	s := got[0]
	if r := s.Repetitions[1]; r.Recovered || r.RepairSec != 0 || !r.Failed || r.ClusterRestored == nil || *r.ClusterRestored {
		t.Errorf("repetition 2: %+v", r)
	}
	if s.NotRecovered != 1 || s.NotRestored != 1 || s.Skipped() != 1 || s.MTTR == nil || s.MTTR.N != 1 || s.Outage.N != 2 {
		t.Errorf("stats %+v, MTTR %+v", s, s.MTTR)
	}
	// n = 1: a mean and no interval.
	if s.MTTR.HalfWidth != 0 || s.MTTR.SD != 0 {
		t.Errorf("MTTR of one repetition %+v", s.MTTR)
	}
}

// A v1 run (one entry per fault, no stats) is still read, with its stats
// computed: each fault ran once.
func TestReadV1Run(t *testing.T) {
	run := sampleRun(t)
	run.FaultStats = nil
	run.Faults[0].Index, run.Faults[0].Repeat = 0, 0
	dir, err := Create(t.TempDir(), run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, ResultsJSON)
	b, _ := os.ReadFile(path)
	b = bytes.Replace(b, []byte(`"schema": "labctl.bench/v2"`), []byte(`"schema": "labctl.bench/v1"`), 1)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Schema != "labctl.bench/v1" || len(got.FaultStats) != 1 {
		t.Fatalf("schema %q, stats %+v", got.Schema, got.FaultStats)
	}
	s := got.FaultStats[0]
	if s.Index != 1 || s.Asked != 1 || len(s.Repetitions) != 1 || s.Outage.N != 1 || s.Repetitions[0].Probes != 40 || !near(s.Availability, 0.75) {
		t.Errorf("v1 stats %+v", s)
	}
}
