package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed/testbedtest"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

// simOpener serves a simulated running thesis lab.
func simOpener(s *testbedtest.Sim) benchOpener {
	return func(ctx context.Context, arg string, f lifecycleFlags) (*benchEnv, error) {
		return &benchEnv{lab: s.Lab, hosts: s.Hosts(), power: s.Power(), close: func() {},
			provenance: func(ctx context.Context, tool string, client *topology.VM) result.Provenance {
				return result.Provenance{Image: "debian-12", ImageDigest: "sha256:test", Accel: "tcg", LibvirtVersion: "9.0.0"}
			}}, nil
	}
}

func fakeAgent() ([]byte, error) { return []byte("labctl"), nil }

func TestBenchCmdAdhocVariationsAndFault(t *testing.T) {
	s := testbedtest.New(rolestest.ThesisLab(topology.LVSNAT))
	defer s.Close()
	results := filepath.Join(t.TempDir(), "results")
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	_, _, err := execute(benchCmd(a, simOpener(s), fakeAgent), "--adhoc", "--results", results,
		"--real-servers", "1,2", "--scheduler", "rr,wlc", "--repeat", "2", "--duration", "300ms", "--concurrency", "2",
		"--settle", "0s", "--fault", "stop_web:web-1", "--fault-hold", "400ms", "--fault-after", "200ms", "--verify=false")
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	latest, err := os.Readlink(filepath.Join(results, "latest"))
	if err != nil || !strings.HasPrefix(latest, "thesis-adhoc-") {
		t.Fatalf("latest → %q, %v", latest, err)
	}
	run, err := result.Read(filepath.Join(results, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Points) != 4 || run.Points[0].Variation.Label() != "rs=1 rr nat" || run.Points[3].Variation.Label() != "rs=2 wlc nat" {
		t.Fatalf("points %+v", run.Points)
	}
	for _, p := range run.Points {
		if len(p.Samples) != 2 || p.Throughput.Mean <= 0 || len(p.Samples[0].Backends) != p.Variation.RealServers {
			t.Errorf("%s: %d samples, %.0f req/s, backends %v", p.Variation.Label(), len(p.Samples), p.Throughput.Mean, p.Samples[0].Backends)
		}
	}
	// --repeat 2 repeats the fault too.
	if len(run.Faults) != 2 || run.Faults[0].During.Failed != 0 || len(run.Faults[1].Probes) == 0 || run.Faults[1].Repeat != 2 {
		t.Errorf("faults %+v", run.Faults)
	}
	if len(run.FaultStats) != 1 || run.FaultStats[0].Outage.N != 2 || run.FaultStats[0].Availability != 1 {
		t.Errorf("fault stats %+v", run.FaultStats)
	}
	if run.Provenance.ImageDigest != "sha256:test" || run.Provenance.LabctlVersion == "" || run.Provenance.End.IsZero() {
		t.Errorf("provenance %+v", run.Provenance)
	}
	for _, f := range []string{"fault-1-lab.json", "fault-2-lab.json"} {
		if _, err := os.Stat(filepath.Join(results, latest, "raw", f)); err != nil {
			t.Error(err)
		}
	}
	// Everything undone: all real servers up, declared scheduler back.
	for _, w := range []string{"web-1", "web-2", "web-3"} {
		if !s.Apache(w) {
			t.Errorf("%s left stopped", w)
		}
	}
	if s.Scheduler() != "wlc" {
		t.Errorf("scheduler left at %s", s.Scheduler())
	}
	for _, want := range []string{"rs=2 wlc nat", "± ", "fault 1 stop_web repetition 2/2 on web-1",
		"fault 1 stop_web:web-1 over 2 repetitions: outage 0.00s ± 0.00s (95% CI), MTTR – (no repetition failed and recovered), availability 100.00%"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	// labctl report reads the run through the latest link.
	var rep, reperr bytes.Buffer
	if code := Run(context.Background(), IO{Out: &rep, Err: &reperr}, []string{"report", filepath.Join(results, "latest")}); code != 0 {
		t.Fatalf("report: %s", reperr.String())
	}
	if !strings.Contains(rep.String(), "rs=1 rr nat") {
		t.Errorf("report:\n%s", rep.String())
	}
}

func TestBenchCmdLabExperimentJSON(t *testing.T) {
	s := testbedtest.New(rolestest.ThesisLab(topology.LVSNAT))
	defer s.Close()
	results := t.TempDir()
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	// "baseline": builtin, 1000 requests, 3 real servers; bounded here.
	if _, _, err := execute(benchCmd(a, simOpener(s), fakeAgent), "baseline", "--results", results, "--repeat", "1",
		"--requests", "50", "--duration", "2s", "-o", "json"); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var runs []benchRun
	if err := json.Unmarshal(out.Bytes(), &runs); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(runs) != 1 || runs[0].Run.Experiment.Name != "baseline" || runs[0].Run.Points[0].Samples[0].Requests != 50 {
		t.Fatalf("runs %+v", runs)
	}
	if !strings.Contains(errb.String(), "load agent on client") {
		t.Errorf("progress:\n%s", errb.String())
	}
}

func TestBenchCmdBadInput(t *testing.T) {
	s := testbedtest.New(rolestest.ThesisLab(topology.LVSNAT))
	defer s.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `lab thesis has no experiment "nope" (it has: baseline)`},
		{[]string{"--adhoc", "--fault", "melt:web-1"}, `kind "melt" is not one of`},
		{[]string{"--adhoc", "--fault", "stop_web:web-9"}, `lab thesis has no VM "web-9"`},
		{[]string{"--adhoc", "--fault", "kill_ldirectord:director-1"}, `fault kill_ldirectord needs directors running pacemaker, but lvs "www" runs keepalived`},
		{[]string{"--adhoc", "--fault", "stop_web:director-1"}, `fault stop_web needs a web server`},
		{[]string{"--adhoc", "--real-servers", "1,x"}, `--real-servers "1,x"`},
		{[]string{"--adhoc", "--client", "ghost"}, `--client "ghost"`},
		{[]string{"--adhoc", "baseline"}, "--adhoc builds its own experiment"},
		{[]string{"baseline", "--tool", "ab", "--requests", "0"}, "ab needs a request count"},
		{[]string{"baseline", "-o", "yaml"}, `--output "yaml"`},
	} {
		var out, errb bytes.Buffer
		a := &App{IO: IO{Out: &out, Err: &errb}}
		_, _, err := execute(benchCmd(a, simOpener(s), fakeAgent), append(tc.args, "--results", t.TempDir())...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

// One sample gives no interval, and the summary says so instead of ± 0.
func TestBenchSummaryOneSample(t *testing.T) {
	p := result.Point{Variation: result.Variation{RealServers: 1, Scheduler: "rr"}, Samples: []result.Sample{{Repeat: 1, Throughput: 120, Requests: 10}}}
	if err := p.Summarize(); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := writeBenchSummary(&out, []benchRun{{Dir: "results/x", Run: &result.Run{Points: []result.Point{p}}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "n = 1, no interval") || strings.Contains(out.String(), "± ") {
		t.Errorf("summary:\n%s", out.String())
	}
}

func TestSplitBenchArgs(t *testing.T) {
	dir := t.TempDir()
	if l, n := splitBenchArgs([]string{dir, "a", "b"}); l != dir || len(n) != 2 {
		t.Errorf("%q %v", l, n)
	}
	if l, n := splitBenchArgs([]string{"scaling_ab"}); l != "" || len(n) != 1 {
		t.Errorf("%q %v", l, n)
	}
}
