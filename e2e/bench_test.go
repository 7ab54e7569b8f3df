//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
)

// TestBench runs a short ad-hoc experiment with labctl bench on a lab that
// is already up, for ad-hoc use (CI runs the thesis experiments inside
// TestClusters/lvs-nat-ha): LABCTL_E2E_BENCH_LAB names it, e.g.
//
//	sandbox/run.sh bin/labctl up --yes labs/lvs-nat-ha
//	LABCTL_E2E_BENCH_LAB=labs/lvs-nat-ha sandbox/run.sh go test -tags e2e -run Bench -v ./e2e/
//
// Two points (1 and 2 real servers, 3 s, one repeat) and one stop_web
// fault held 3 s: about two minutes under TCG.
func TestBench(t *testing.T) {
	labDir := os.Getenv("LABCTL_E2E_BENCH_LAB")
	if labDir == "" {
		t.Skip("set LABCTL_E2E_BENCH_LAB to a lab that is up (labctl up labs/lvs-nat-ha)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	// The agent copied to the client VM is labctl itself: it must be static.
	bin := filepath.Join(t.TempDir(), "labctl")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "github.com/labctl/labctl/cmd/labctl")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The lab's keys live in the default state directory, not the suite's.
	cli := quietCLI(t, func(args ...string) *exec.Cmd { return exec.CommandContext(ctx, bin, args...) })
	results := t.TempDir()
	runs := runBench(t, cli, "bench", labDir, "--adhoc", "--real-servers", "1,2", "--repeat", "1", "--duration", "3s",
		"--concurrency", "4", "--fault", "stop_web:web-1", "--fault-hold", "3s", "--fault-after", "2s",
		"--results", results)
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	latest := filepath.Join(results, "latest")
	r, err := result.Read(latest)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != filepath.Base(runs[0].Dir) {
		t.Errorf("latest is %s, bench wrote %s", r.ID, runs[0].Dir)
	}
	if len(r.Points) != 2 {
		t.Fatalf("%d points", len(r.Points))
	}
	checkPoints(t, r)
	if len(r.Faults) != 1 || len(r.Faults[0].Probes) == 0 || r.Faults[0].Revert == nil || r.Faults[0].Revert.Failed != 0 {
		t.Errorf("fault: %+v", r.Faults)
	}
	rep := readFaultReport(t, latest, 1)
	if !rep.Cluster.PoolChanged || slices.Contains(rep.Cluster.PoolDuring, "web-1") || !rep.Cluster.Restored {
		t.Errorf("cluster during stop_web: %+v", rep.Cluster)
	}
	checkProvenance(t, r)
	md, _ := checkReport(t, cli, latest)
	if !strings.Contains(md, "rs=2") {
		t.Errorf("markdown report lacks rs=2:\n%s", md)
	}
}

// labctlFunc runs labctl with args and returns its stdout.
type labctlFunc func(args ...string) (string, error)

// quietCLI runs the commands cmd makes, logging stderr (progress) but not
// stdout (bench's JSON is long; the assertions report what matters).
func quietCLI(t *testing.T, cmd func(args ...string) *exec.Cmd) labctlFunc {
	return func(args ...string) (string, error) {
		c := cmd(args...)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		start := time.Now()
		err := c.Run()
		t.Logf("labctl %s (%.1fs)\n%s", strings.Join(args, " "), time.Since(start).Seconds(), indent(errb.String()))
		return out.String(), err
	}
}

// benchRun is one entry of `labctl bench -o json`.
type benchRun struct {
	Dir string      `json:"dir"`
	Run *result.Run `json:"run"`
	Err string      `json:"error"`
}

// runBench runs `labctl ARGS -o json` (ARGS starting with "bench") and
// returns the runs as read back from each run directory (results.json
// plus the probe CSVs, which -o json leaves out); any error fails the
// test.
func runBench(t *testing.T, cli labctlFunc, args ...string) []benchRun {
	t.Helper()
	out, err := cli(append(args, "-o", "json")...)
	var runs []benchRun
	if jerr := json.Unmarshal([]byte(out), &runs); jerr != nil {
		t.Fatalf("bench: %v; output is not JSON (%v):\n%s", err, jerr, out)
	}
	for i, r := range runs {
		if r.Err != "" {
			t.Errorf("run %s: %s", r.Dir, r.Err)
		}
		if runs[i].Run, err = result.Read(r.Dir); err != nil {
			t.Fatalf("run %s: %v", r.Dir, err)
		}
	}
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	return runs
}

// checkPoints asserts that every point of r measured something without
// errors, served by exactly its number of active real servers (the
// built-in generator names the backend of each response).
func checkPoints(t *testing.T, r *result.Run) {
	t.Helper()
	for _, p := range r.Points {
		for _, s := range p.Samples {
			t.Logf("FIGURE bench %s %s: %.1f req/s, %d errors, p50 %.1f ms, backends %v",
				r.Experiment.Name, p.Variation.Label(), s.Throughput, s.Errors, s.Latency.P50, s.Backends)
			if s.Throughput <= 0 || s.Errors != 0 {
				t.Errorf("%s %s: %.1f req/s, %d errors", r.Experiment.Name, p.Variation.Label(), s.Throughput, s.Errors)
			}
			if r.Experiment.Tool == "builtin" && len(s.Backends) != p.Variation.RealServers {
				t.Errorf("%s %s: responses from %v, want %d real servers", r.Experiment.Name, p.Variation.Label(), s.Backends, p.Variation.RealServers)
			}
		}
	}
}

// onlyFault returns the single fault of r and what the lab saw during it;
// a run with another number of faults fails the test.
func onlyFault(t *testing.T, r benchRun) (*result.FaultResult, *testbed.FaultReport) {
	t.Helper()
	if len(r.Run.Faults) != 1 {
		t.Fatalf("run %s: %d faults, want 1", r.Dir, len(r.Run.Faults))
	}
	return &r.Run.Faults[0], readFaultReport(t, r.Dir, 1)
}

// readFaultReport reads what the lab saw during fault n (1-based) of the
// run in dir: raw/fault-N-lab.json.
func readFaultReport(t *testing.T, dir string, n int) *testbed.FaultReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "raw", "fault-"+strconv.Itoa(n)+"-lab.json"))
	if err != nil {
		t.Fatalf("fault report: %v", err)
	}
	var rep testbed.FaultReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("fault report %d of %s: %v", n, dir, err)
	}
	return &rep
}

func checkProvenance(t *testing.T, r *result.Run) {
	t.Helper()
	if r.Provenance.Accel == "" || r.Provenance.LibvirtVersion == "" || r.Provenance.ImageDigest == "" {
		t.Errorf("provenance %+v", r.Provenance)
	}
}

// checkReport runs `labctl report` on dirs to a markdown file and an HTML
// page, checks that both exist and that the page has SVG charts, and
// returns both.
func checkReport(t *testing.T, cli labctlFunc, dirs ...string) (md, html string) {
	t.Helper()
	out := t.TempDir()
	htmlFile, mdFile := filepath.Join(out, "report.html"), filepath.Join(out, "report.md")
	if _, err := cli(append([]string{"report", "--html", htmlFile, "--markdown", mdFile}, dirs...)...); err != nil {
		t.Fatalf("report: %v", err)
	}
	mb, err := os.ReadFile(mdFile)
	if err != nil || len(mb) == 0 {
		t.Errorf("markdown report: %v (%d bytes)", err, len(mb))
	}
	hb, err := os.ReadFile(htmlFile)
	if err != nil || !bytes.Contains(hb, []byte("<svg")) {
		t.Errorf("html report: %v (%d bytes, no <svg>)", err, len(hb))
	}
	t.Logf("report: %s (%d bytes), %s (%d bytes)", mdFile, len(mb), htmlFile, len(hb))
	return string(mb), string(hb)
}

// failedBetween counts failed probes sent in (from, to); a zero to means
// no end.
func failedBetween(f *result.FaultResult, from, to time.Time) int {
	n := 0
	for _, p := range f.Probes {
		if p.At.After(from) && (to.IsZero() || p.At.Before(to)) && !p.OK {
			n++
		}
	}
	return n
}

// isTimeout reports whether a probe error is the probe's own timeout
// (a slow answer, not a refused or failed one).
func isTimeout(err string) bool {
	e := strings.ToLower(err)
	return strings.Contains(e, "timeout") || strings.Contains(e, "deadline exceeded")
}

// revertStart is when the fault's revert began (zero when it did not).
func revertStart(f *result.FaultResult) time.Time {
	for _, ev := range f.Events {
		if ev.Name == "revert" {
			return ev.Start
		}
	}
	return time.Time{}
}

// raidPhases condenses the watched /proc/mdstat states to their first
// words (clean, degraded, recovery, resync …), repeats dropped.
// stateChanges condenses the watcher's timeline to its changes of VIP
// holder and pool, with seconds since the first observation, so that a
// failed assertion shows what the directors did.
func stateChanges(rep *testbed.FaultReport) []string {
	var out []string
	last := "-"
	for _, s := range rep.Timeline {
		st := fmt.Sprintf("holder=%s pool=%v", s.Holder, s.Pool)
		if len(s.Unreachable) > 0 {
			st += fmt.Sprintf(" unreachable=%v", s.Unreachable)
		}
		if st != last {
			out = append(out, fmt.Sprintf("%.1fs %s", s.At.Sub(rep.Timeline[0].At).Seconds(), st))
			last = st
		}
	}
	return out
}

func raidPhases(rep *testbed.FaultReport) []string {
	var out []string
	for _, p := range rep.Cluster.RAID {
		w := strings.Fields(p.State)[0]
		if len(out) == 0 || out[len(out)-1] != w {
			out = append(out, w)
		}
	}
	return out
}

// rebuiltInOrder reports whether phases go degraded → recovery (or
// resync) → clean, in that order; sawRecovery covers a rebuild too short
// for the watcher that the injector's own polling saw.
func rebuiltInOrder(phases []string, sawRecovery bool) bool {
	d := slices.Index(phases, "degraded")
	if d < 0 {
		return false
	}
	rest := phases[d+1:]
	r := slices.IndexFunc(rest, func(s string) bool { return s == "recovery" || s == "resync" })
	if r < 0 {
		return sawRecovery && slices.Contains(rest, "clean")
	}
	return slices.Contains(rest[r+1:], "clean")
}
