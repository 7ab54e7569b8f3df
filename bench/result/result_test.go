package result

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/tool"
	"github.com/labctl/labctl/topology"
)

// sampleRun builds a run like the thesis experiment: 1 and 2 real servers,
// three repeats each, and one director failover.
func sampleRun(t *testing.T) *Run {
	t.Helper()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	mk := func(rep int, rps float64, p50, p99 int64) Sample {
		h := load.NewHistogram()
		for i := 0; i < 90; i++ {
			_ = h.RecordValue(p50 * 1000)
		}
		for i := 0; i < 10; i++ {
			_ = h.RecordValue(p99 * 1000)
		}
		enc, err := load.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		return Sample{Repeat: rep, Tool: "builtin", Start: t0.Add(time.Duration(rep) * time.Minute), ElapsedSec: 20,
			Requests: int64(rps * 20), OK: int64(rps * 20), Throughput: rps, OKPerSec: rps,
			Latency: load.SummarizeHistogram(h), Backends: map[string]int64{"web-1": int64(rps * 20)}, Histogram: enc}
	}
	run := &Run{
		ID: NewID("lvs", "scale", t0), Lab: "lvs",
		Experiment: FromTopology(&topology.Experiment{Name: "scale", Service: "www", Tool: "builtin", Concurrency: 10,
			Requests: 100000, Repeat: 3, RealServers: []int{1, 2}, Schedulers: []topology.Scheduler{"rr"},
			Faults: []topology.Fault{{Kind: "destroy_director", Target: "director-1", AfterSec: 5}},
			Client: &topology.VM{Name: "client"}}),
		Provenance: Provenance{LabctlVersion: "v0.1.0", LabctlCommit: "abc123", Accel: "tcg", ImageDigest: "sha256:00",
			Start: t0, End: t0.Add(time.Hour)},
		Points: []Point{
			{Variation: Variation{RealServers: 1, Scheduler: "rr", Mode: "nat"}, Samples: []Sample{mk(1, 5400, 2, 9), mk(2, 5500, 2, 10), mk(3, 5600, 3, 11)}},
			{Variation: Variation{RealServers: 2, Scheduler: "rr", Mode: "nat"}, Samples: []Sample{mk(1, 6200, 1, 6), mk(2, 6300, 2, 7), mk(3, 6400, 2, 8)}},
		},
	}
	for i := range run.Points {
		if err := run.Points[i].Summarize(); err != nil {
			t.Fatal(err)
		}
	}
	var probes []fault.Probe
	for i := 0; i < 40; i++ {
		p := fault.Probe{Seq: i, At: t0.Add(time.Duration(i) * 50 * time.Millisecond), LatencyMs: 1.25, OK: i < 20 || i >= 30, Status: 200, Backend: "web-1"}
		if !p.OK {
			p.Status, p.Backend, p.Err = 0, "", "dial tcp 192.0.2.1:80: i/o timeout, \"quoted\""
		}
		probes = append(probes, p)
	}
	faultAt := t0.Add(time.Second)
	run.Faults = []FaultResult{{Outcome: fault.Outcome{
		Fault: run.Experiment.Faults[0], Start: t0,
		Events: []fault.Event{{Name: "inject", Start: faultAt, End: faultAt.Add(time.Millisecond)}},
		Probes: probes, During: fault.Analyze(probes, faultAt, time.Time{}, 0),
	}, Index: 1, Repeat: 1}}
	var err error
	if run.FaultStats, err = SummarizeFaults(run.Faults, 1); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestWriteReadRoundTrip(t *testing.T) {
	run := sampleRun(t)
	base := t.TempDir()
	spec := filepath.Join(t.TempDir(), "lab.hcl")
	if err := os.WriteFile(spec, []byte("lab \"lvs\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir, err := Create(base, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(base, run.ID); err == nil {
		t.Error("second Create of the same run: want error")
	}
	if err := CopySpec(dir, run, []string{spec}); err != nil {
		t.Fatal(err)
	}
	if run.Points[0].Samples[0].Raw, err = WriteRaw(dir, "rs1-rep1.json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteRaw(dir, "../escape", nil); err == nil {
		t.Error("WriteRaw with a path: want error")
	}
	if err := Write(dir, run); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(run, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if got.Schema != "labctl.bench/v2" || got.Faults[0].ProbesFile != "raw/fault-1-probes.csv" || got.SpecFiles[0] != "spec/lab.hcl" {
		t.Errorf("schema %q probes %q spec %v", got.Schema, got.Faults[0].ProbesFile, got.SpecFiles)
	}
	for _, f := range []string{"samples.csv", "points.csv", "spec/lab.hcl", "raw/rs1-rep1.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	pts, _ := os.ReadFile(filepath.Join(dir, "points.csv"))
	if !strings.Contains(string(pts), "rs=1 rr nat,1,rr,nat,,3,5500,100,5251.58") {
		t.Errorf("points.csv:\n%s", pts)
	}
}

func TestReadRejectsOtherSchema(t *testing.T) {
	dir := t.TempDir()
	_ = os.WriteFile(filepath.Join(dir, ResultsJSON), []byte(`{"schema":"labctl.bench/v9"}`), 0o644)
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), `schema "labctl.bench/v9", this labctl reads labctl.bench/v2 and labctl.bench/v1`) {
		t.Errorf("err = %v", err)
	}
	if _, err := Read(t.TempDir()); err == nil {
		t.Error("missing results.json: want error")
	}
}

func TestPointSummaries(t *testing.T) {
	run := sampleRun(t)
	p := run.Points[0]
	// 5400, 5500, 5600: mean 5500, sd 100, t(0.975,2)·100/√3 = 248.414.
	if p.Throughput.Mean != 5500 || p.Throughput.SD != 100 || p.Throughput.HalfWidth < 248.41 || p.Throughput.HalfWidth > 248.42 {
		t.Errorf("throughput %+v", p.Throughput)
	}
	h, err := load.DecodeHistogram(p.Histogram)
	if err != nil || h.TotalCount() != 300 {
		t.Fatalf("merged histogram: %v", err)
	}
	if p.P50 == nil || p.P50.N != 3 {
		t.Errorf("p50 %+v", p.P50)
	}
	if err := (&Point{}).Summarize(); err == nil {
		t.Error("no samples: want error")
	}
}

func TestFromTools(t *testing.T) {
	b, err := os.ReadFile("../tool/testdata/ab-failures-c10-n5000.txt")
	if err != nil {
		t.Fatal(err)
	}
	ab, err := tool.ParseAB(b)
	if err != nil {
		t.Fatal(err)
	}
	s := FromAB(ab)
	if s.Requests != 5000 || s.Errors != 500 || s.OK != 4500 || s.Throughput != 10041.53 || s.Latency.P99 != 3 || s.Latency.Max != 5 {
		t.Errorf("ab sample %+v", s)
	}
	b, err = os.ReadFile("../tool/testdata/siege-text-failures-c10-t3s.txt")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := tool.ParseSiege(b)
	if err != nil {
		t.Fatal(err)
	}
	s = FromSiege(sg)
	if s.Requests != 10251 || s.Errors != 1025 || s.Throughput != 7885.47 || s.Latency.Max != 10 {
		t.Errorf("siege sample %+v", s)
	}
}

func TestLocalProvenance(t *testing.T) {
	p := LocalProvenance()
	if p.LabctlVersion == "" || p.GoVersion == "" || p.HostCPUs < 1 {
		t.Errorf("%+v", p)
	}
}
