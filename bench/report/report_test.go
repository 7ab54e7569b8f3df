package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
	"gonum.org/v1/plot"
)

var update = flag.Bool("update", false, "rewrite testdata run directories and golden files")

// fixtureRuns builds two deterministic runs: the thesis measurement with
// ab (1 → 2 real servers) and a built-in generator run with latency
// histograms and a director failover.
func fixtureRuns(t *testing.T) []*result.Run {
	t.Helper()
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	prov := result.Provenance{LabctlVersion: "v0.1.0", LabctlCommit: "0123456789ab", GoVersion: "go1.26.8",
		Image: "debian-12", ImageDigest: "sha256:4f2c9a0b1d3e5f60718293a4b5c6d7e8f9", LibvirtVersion: "9.0.0", QEMUVersion: "7.2.0",
		Accel: "tcg", HostCPU: "AMD EPYC", HostCPUs: 2, Start: t0, End: t0.Add(14 * time.Minute)}
	ab := &result.Run{ID: "lvs-thesis-ab", Lab: "lvs", Provenance: prov,
		Experiment: result.Experiment{Name: "thesis", Service: "www", Tool: "ab", Concurrency: 10, Requests: 100000, Repeat: 3, RealServers: []int{1, 2}}}
	for rs, rates := range map[int][]float64{1: {5516, 5480, 5561}, 2: {6310, 6254, 6402}} {
		p := result.Point{Variation: result.Variation{RealServers: rs, Scheduler: "rr", Mode: "nat"}}
		for i, r := range rates {
			p.Samples = append(p.Samples, result.Sample{Repeat: i + 1, Tool: "ab", Start: t0, ElapsedSec: 100000 / r, Requests: 100000, OK: 100000,
				Throughput: r, OKPerSec: r, Latency: load.Latency{Count: 100000, Mean: 10000 / r, P50: 2, P90: 3, P99: float64(5 - rs), Max: 40}})
		}
		ab.Points = append(ab.Points, p)
	}
	// map order is random: sort points by real servers.
	if ab.Points[0].Variation.RealServers != 1 {
		ab.Points[0], ab.Points[1] = ab.Points[1], ab.Points[0]
	}

	bi := &result.Run{ID: "lvs-scale-builtin", Lab: "lvs", Provenance: prov,
		Experiment: result.Experiment{Name: "scale", Service: "www", Tool: "builtin", Concurrency: 10, Requests: 20000, DurationSec: 60,
			Repeat: 2, RealServers: []int{1, 2, 3}, Faults: []topology.Fault{{Kind: "destroy_director", Target: "director-1", AfterSec: 2}}}}
	for rs := 1; rs <= 3; rs++ {
		p := result.Point{Variation: result.Variation{RealServers: rs, Scheduler: "wlc", Mode: "dr"}}
		for rep := 1; rep <= 2; rep++ {
			h := load.NewHistogram()
			for i := int64(1); i <= 1000; i++ {
				_ = h.RecordValue((500 + i*i/(int64(rs)*100)) * int64(rep))
			}
			enc, _ := load.EncodeHistogram(h)
			rate := 4000*float64(rs) - 300*float64(rs*rs) + float64(rep*37)
			back := map[string]int64{}
			for b := 1; b <= rs; b++ {
				back["web-"+string(rune('0'+b))] = 20000 / int64(rs)
			}
			p.Samples = append(p.Samples, result.Sample{Repeat: rep, Tool: "builtin", Start: t0, ElapsedSec: 20000 / rate, Requests: 20000,
				OK: 20000 - int64(rep), Errors: int64(rep), Throughput: rate, OKPerSec: rate, Latency: load.SummarizeHistogram(h), Backends: back, Histogram: enc})
		}
		bi.Points = append(bi.Points, p)
	}
	// The failover twice (the experiment's repeat), outages 3.1 s and 2.6 s.
	restored := true
	for rep, down := range []time.Duration{3100 * time.Millisecond, 2600 * time.Millisecond} {
		start := t0.Add(time.Duration(rep) * time.Minute)
		var probes []fault.Probe
		faultAt := start.Add(2 * time.Second)
		for i := 0; i < 140; i++ {
			at := start.Add(time.Duration(i) * 50 * time.Millisecond)
			p := fault.Probe{Seq: i, At: at, LatencyMs: 2 + float64(i%7)/4, OK: true, Status: 200, Backend: []string{"web-1", "web-2"}[i%2]}
			if at.After(faultAt) && at.Before(faultAt.Add(down)) {
				p = fault.Probe{Seq: i, At: at, LatencyMs: 200, Err: "timeout"}
			}
			probes = append(probes, p)
		}
		revertAt := start.Add(6 * time.Second)
		out := fault.Outcome{Fault: bi.Experiment.Faults[0], Start: start, Probes: probes,
			Events: []fault.Event{{Name: "inject", Start: faultAt, End: faultAt.Add(200 * time.Millisecond)}, {Name: "revert", Start: revertAt, End: revertAt.Add(time.Second)}},
			During: fault.Analyze(probes, faultAt, revertAt, 0)}
		ra := fault.Analyze(probes, revertAt, time.Time{}, 0)
		out.Revert = &ra
		bi.Faults = append(bi.Faults, result.FaultResult{Outcome: out, Index: 1, Repeat: rep + 1, ClusterRestored: &restored, ClusterRestoredSec: 1.5})
	}
	var err error
	if bi.FaultStats, err = result.SummarizeFaults(bi.Faults, 2); err != nil {
		t.Fatal(err)
	}
	runs := []*result.Run{ab, bi}
	for _, r := range runs {
		for i := range r.Points {
			if err := r.Points[i].Summarize(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return runs
}

// testRunDirs returns the fixture run directories, rewriting them with -update.
func testRunDirs(t *testing.T) []string {
	t.Helper()
	base := filepath.Join("testdata", "runs")
	runs := fixtureRuns(t)
	var dirs []string
	for _, r := range runs {
		dir := filepath.Join(base, r.ID)
		if *update {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := result.Create(base, r.ID); err != nil {
				t.Fatal(err)
			}
			if err := result.Write(dir, r); err != nil {
				t.Fatal(err)
			}
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bench/report -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got), refresh with -update:\n%s", name, d)
	}
}

func TestMarkdownGolden(t *testing.T) {
	runs, err := Load(testRunDirs(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.md.golden", buf.Bytes())
	for _, want := range []string{"| rs=1 rr nat | 3 | 5519.0 |", "| rs=2 | 6322.0 ± 185.6 | 6855.5 ± 235.1 | +8.4% |", "| destroy_director:director-1 | 1 | 3.10 | 61 | yes |", "| destroy_director:director-1 | 2 | 2.60 | 51 | yes |",
		"| destroy_director:director-1 | 2 | 2.85 | -0.33 – 6.03 | 2.85 | -0.33 – 6.03 | 60.00% (168 of 280 probes) | 0 | 0 |"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestHTMLGolden(t *testing.T) {
	runs, err := Load(testRunDirs(t))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := HTML(&buf, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.html.golden", buf.Bytes())
	html := buf.String()
	if n := strings.Count(html, "<svg"); n != 4 {
		t.Errorf("%d inline charts, want throughput, latency CDF and two failovers", n)
	}
	for _, want := range []string{"Fault statistics", "repetition 2", "MTTR"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "http://", "https://", "<?xml"} {
		if strings.Contains(strings.ReplaceAll(html, "http://www.w3.org", ""), bad) {
			t.Errorf("page is not self-contained: contains %q", bad)
		}
	}
}

// A run written by labctl.bench/v1 (each fault once) still renders, its
// fault statistics computed on reading: n = 1 says so instead of ± 0.
func TestV1RunReport(t *testing.T) {
	runs, err := Load([]string{filepath.Join("testdata", "v1", "lvs-scale-builtin")})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Markdown(&buf, runs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Fault statistics — lvs-scale-builtin",
		"| destroy_director:director-1 | 1 | 3.15 | n = 1, no interval | 3.10 | n = 1, no interval | 56.43% (79 of 140 probes) | 0 | 0 |"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestSingleRunHasNoComparison(t *testing.T) {
	runs := fixtureRuns(t)[:1]
	var buf bytes.Buffer
	if err := Markdown(&buf, runs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "## Comparison") {
		t.Error("one run: no comparison table expected")
	}
	if _, err := LatencyCDFChart(runs); err != errNoData {
		t.Errorf("ab run has no histograms: err = %v", err)
	}
	if _, err := Load(nil); err == nil {
		t.Error("Load(nil): want error")
	}
	if _, err := Load([]string{t.TempDir()}); err == nil {
		t.Error("Load(empty dir): want error")
	}
}

// TestSavePNG writes the charts as PNG files for a visual check when
// LABCTL_REPORT_PNG names a directory.
func TestSavePNG(t *testing.T) {
	dir := os.Getenv("LABCTL_REPORT_PNG")
	if dir == "" {
		t.Skip("set LABCTL_REPORT_PNG=DIR to write the charts as PNG")
	}
	runs := fixtureRuns(t)
	for name, build := range map[string]func() (*plot.Plot, error){
		"throughput": func() (*plot.Plot, error) { return throughputPlot(runs) },
		"latency":    func() (*plot.Plot, error) { return latencyPlot(runs) },
		"failover":   func() (*plot.Plot, error) { return failoverPlot(&runs[1].Faults[0]) },
	} {
		p, err := build()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Save(chartW, chartH, filepath.Join(dir, name+".png")); err != nil {
			t.Fatal(err)
		}
	}
}
