package testbed_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/bench/testbed/testbedtest"
	"github.com/labctl/labctl/topology"
)

// faultBench runs experiment e of s with short fault timings.
func faultBench(t *testing.T, s *testbedtest.Sim, e *topology.Experiment, recoverFor time.Duration) (string, *result.Run, error) {
	t.Helper()
	b := &testbed.Bench{Lab: s.Lab, Hosts: s.Hosts(), Power: s.Power(), ResultsDir: t.TempDir(),
		Agent: func() ([]byte, error) { return []byte("labctl"), nil }, Settle: time.Millisecond,
		FaultHold: 400 * time.Millisecond, FaultAfter: 200 * time.Millisecond, FaultRecover: recoverFor,
		ProbeInterval: 20 * time.Millisecond, ProbeTimeout: 500 * time.Millisecond}
	return b.Run(context.Background(), e)
}

func faultExperiment(s *testbedtest.Sim, repeat int, f topology.Fault) *topology.Experiment {
	e := *s.Lab.Experiments[0]
	e.Name, e.Repeat, e.Requests, e.DurationSec, e.Concurrency = "failover", repeat, 20, 1, 2
	e.Faults = []topology.Fault{f}
	return &e
}

// kill_keepalived three times: the VIP is gone for the backup's
// FailoverLag each time, so three outages, a mean with a 95 % CI, an MTTR
// and an availability, written to results.json and read back.
func TestBenchRepeatsAFault(t *testing.T) {
	s := newSim(t)
	s.FailoverLag = 300 * time.Millisecond
	e := faultExperiment(s, 3, topology.Fault{Kind: topology.KillKeepalived, Target: "director-1", AfterSec: 0.3})
	dir, run, err := faultBench(t, s, e, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Points) != 1 || len(got.Points[0].Samples) != 3 {
		t.Errorf("points %+v", got.Points)
	}
	if len(got.Faults) != 3 {
		t.Fatalf("%d fault results, want 3", len(got.Faults))
	}
	for i, f := range got.Faults {
		if f.Index != 1 || f.Repeat != i+1 || f.During.Outage < 0.2 || f.ClusterRestored == nil || !*f.ClusterRestored || len(f.Probes) == 0 {
			t.Errorf("repetition %d: index %d repeat %d outage %.2fs restored %v, %d probes", i+1, f.Index, f.Repeat, f.During.Outage, f.ClusterRestored, len(f.Probes))
		}
		if _, err := os.Stat(filepath.Join(dir, "raw", "fault-"+string(rune('1'+i))+"-lab.json")); err != nil {
			t.Error(err)
		}
	}
	if len(got.FaultStats) != 1 {
		t.Fatalf("fault stats %+v", got.FaultStats)
	}
	st := got.FaultStats[0]
	if len(st.Repetitions) != 3 || st.Asked != 3 || st.Outage.N != 3 || st.Outage.HalfWidth <= 0 || st.Outage.Mean < 0.2 {
		t.Errorf("outage %+v over %d repetitions", st.Outage, len(st.Repetitions))
	}
	if st.MTTR == nil || st.MTTR.N != 3 || st.MTTR.Mean < 0.2 || st.MTTR.Mean > st.Outage.Mean+0.1 {
		t.Errorf("MTTR %+v (outage mean %.2fs)", st.MTTR, st.Outage.Mean)
	}
	if st.Availability <= 0.3 || st.Availability >= 1 || st.NotRecovered != 0 || st.NotRestored != 0 {
		t.Errorf("availability %v, not recovered %d, not restored %d", st.Availability, st.NotRecovered, st.NotRestored)
	}
	if !strings.Contains(run.Notes, "fault 1 kill_keepalived repetition 3/3 on director-1") ||
		!strings.Contains(run.Notes, "fault 1 kill_keepalived:director-1 over 3 repetitions: outage 0.") {
		t.Errorf("notes:\n%s", run.Notes)
	}
}

// A repetition after which the cluster does not come back (a real server
// the health check takes back only after --fault-recover) is reported as
// such, within the bound, and the remaining repetitions are skipped.
func TestBenchStopsRepeatingWhenNotRestored(t *testing.T) {
	s := newSim(t)
	s.HealthLag = 10 * time.Second
	e := faultExperiment(s, 3, topology.Fault{Kind: topology.StopWeb, Target: "web-1", AfterSec: 0.3})
	_, run, err := faultBench(t, s, e, 500*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "stop_web:web-1 repetition 1/3: the cluster was not as before 500ms after the revert (--fault-recover): 2 repetitions skipped") {
		t.Fatalf("err = %v", err)
	}
	if run == nil || len(run.Faults) != 1 || len(run.FaultStats) != 1 {
		t.Fatalf("run %+v", run)
	}
	// Bounded: the points wait out the health lag (Apply starts Apache),
	// the fault itself ends soon after --fault-recover.
	if took := run.Provenance.End.Sub(run.Faults[0].Start); took > 5*time.Second {
		t.Errorf("fault took %v with --fault-recover 500ms", took)
	}
	st := run.FaultStats[0]
	if st.NotRestored != 1 || st.Skipped() != 2 || st.Outage.N != 1 {
		t.Errorf("stats %+v", st)
	}
	if !strings.Contains(run.Notes, "cluster not as before at the end") || !strings.Contains(run.Notes, "1 with the cluster not as before, 2 skipped") {
		t.Errorf("notes:\n%s", run.Notes)
	}
}
