package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/report"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/tool"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// director is a fake LVS service on 127.0.0.1: round robin over the first
// `active` of its real servers. Apply changes active; Inject/Revert stop
// and start the listener on the same port (a director outage).
type director struct {
	mu      sync.Mutex
	addr    string
	srv     *http.Server
	active  int
	next    int
	applied []result.Variation
}

func (d *director) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	b := d.next%d.active + 1
	d.next++
	d.mu.Unlock()
	fmt.Fprintf(w, "<html><body><p>backend: web-%d</p></body></html>\n", b)
}

func (d *director) start() error {
	ln, err := net.Listen("tcp", d.addr)
	if err != nil {
		return err
	}
	d.addr = ln.Addr().String()
	srv := &http.Server{Handler: d}
	go func() { _ = srv.Serve(ln) }()
	d.mu.Lock()
	d.srv = srv
	d.mu.Unlock()
	return nil
}

func (d *director) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv != nil {
		d.srv.Close()
		d.srv = nil
	}
}

func (d *director) Apply(ctx context.Context, v result.Variation) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.active, d.next = v.RealServers, 0
	d.applied = append(d.applied, v)
	return nil
}

func (d *director) Inject(ctx context.Context, f fault.Fault) error { d.stop(); return nil }
func (d *director) Revert(ctx context.Context, f fault.Fault) error { return d.start() }

func lab() (*topology.Experiment, *topology.LVSService) {
	svc := &topology.LVSService{Name: "www", Mode: topology.LVSNAT, Scheduler: "rr",
		Backends: []*topology.Backend{{}, {}, {}}}
	exp := &topology.Experiment{Name: "scale", Service: "www", Tool: "builtin", Concurrency: 4, Requests: 600,
		DurationSec: 10, Repeat: 3, RealServers: []int{1, 3},
		Faults: []topology.Fault{{Kind: "destroy_director", Target: "director-1"}}}
	return exp, svc
}

func TestRunExperimentEndToEnd(t *testing.T) {
	d := &director{addr: "127.0.0.1:0", active: 3}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	url := "http://" + d.addr + "/"
	exp, svc := lab()
	specFile := filepath.Join(t.TempDir(), "lab.hcl")
	_ = os.WriteFile(specFile, []byte("# lab\n"), 0o644)
	var progress bytes.Buffer
	dir, run, err := Run(context.Background(), Spec{
		Lab: "lvs", Experiment: exp, Service: svc, URL: url,
		Driver:  InProcess{Config: LoadConfig(url, exp.Concurrency, exp.Requests, exp.DurationSec, exp.RateRPS)},
		Cluster: d, Injector: d,
		Probe:     fault.ProberConfig{URL: url, Timeout: 200 * time.Millisecond},
		FaultHold: 400 * time.Millisecond, FaultAfter: 300 * time.Millisecond,
		ResultsDir: t.TempDir(), SourceFiles: []string{specFile},
		Provenance: result.Provenance{Accel: "tcg", QEMUVersion: "7.2.0"},
		Progress:   &progress,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	want := []result.Variation{{RealServers: 1, Scheduler: "rr", Mode: "nat"}, {RealServers: 3, Scheduler: "rr", Mode: "nat"}}
	if d := cmp.Diff(want, d.applied); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	if len(run.Points) != 2 || run.Points[1].Throughput.N != 3 {
		t.Fatalf("points: %+v", run.Points)
	}
	// rr over three backends: 200 of the 600 requests each, every repeat.
	for _, s := range run.Points[1].Samples {
		if s.Requests != 600 || s.Errors != 0 || len(s.Backends) != 3 || s.Backends["web-2"] != 200 || s.Raw == "" {
			t.Errorf("sample %d: requests=%d errors=%d backends=%v raw=%q", s.Repeat, s.Requests, s.Errors, s.Backends, s.Raw)
		}
	}
	if len(run.Faults) != 1 || run.Faults[0].During.Failed == 0 || run.Faults[0].During.Outage < 0.35 {
		t.Errorf("fault: %+v", run.Faults)
	}
	if run.Provenance.Accel != "tcg" || run.Provenance.LabctlVersion == "" || !run.Provenance.End.After(run.Provenance.Start) {
		t.Errorf("provenance %+v", run.Provenance)
	}
	// The directory is complete and renders.
	back, err := result.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Faults[0].Probes) == 0 || back.SpecFiles[0] != "spec/lab.hcl" {
		t.Errorf("read back: probes=%d spec=%v", len(back.Faults[0].Probes), back.SpecFiles)
	}
	var html bytes.Buffer
	if err := report.HTML(&html, []*result.Run{back}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "<svg"); n != 3 {
		t.Errorf("%d charts", n)
	}
	t.Logf("progress:\n%s", progress.String())

}

func TestPlan(t *testing.T) {
	exp, svc := lab()
	exp.Schedulers = []topology.Scheduler{"rr", "wlc"}
	svc.Persistence = &topology.Persistence{TimeoutSec: 300}
	got, err := Plan(exp, svc)
	if err != nil {
		t.Fatal(err)
	}
	want := []result.Variation{
		{RealServers: 1, Scheduler: "rr", Mode: "nat", Persistence: "300s"}, {RealServers: 1, Scheduler: "wlc", Mode: "nat", Persistence: "300s"},
		{RealServers: 3, Scheduler: "rr", Mode: "nat", Persistence: "300s"}, {RealServers: 3, Scheduler: "wlc", Mode: "nat", Persistence: "300s"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	exp.RealServers, exp.Schedulers = nil, nil
	if got, _ := Plan(exp, svc); len(got) != 1 || got[0].RealServers != 3 || got[0].Scheduler != "rr" {
		t.Errorf("defaults: %+v", got)
	}
	exp.RealServers = []int{4}
	if _, err := Plan(exp, svc); err == nil {
		t.Error("4 of 3 real servers: want error")
	}
	if _, _, err := Run(context.Background(), Spec{Experiment: exp, Driver: InProcess{}, ResultsDir: t.TempDir(), Service: svc,
		Variations: []result.Variation{{RealServers: 1}, {RealServers: 2}}}); err == nil {
		t.Error("two variations without a Cluster: want error")
	}
}

// loopRunner is an ssh.Runner that "runs" labctl-load by parsing its
// command line and calling load.Run in process, so the remote driver's
// argument and JSON round trip is exercised for real.
type loopRunner struct {
	files map[string][]byte
	cmds  []string
}

func (r *loopRunner) Host() string { return "client" }

func (r *loopRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	r.cmds = append(r.cmds, cmd)
	f := strings.Fields(cmd)
	if _, ok := r.files[f[0]]; !ok {
		return ssh.Result{ExitCode: 127}, &ssh.CommandError{Host: "client", Cmd: cmd, ExitCode: 127}
	}
	var cfg load.Config
	fs := flag.NewFlagSet("labctl-load", flag.ContinueOnError)
	load.BindFlags(fs, &cfg)
	if err := fs.Parse(f[1:]); err != nil {
		return ssh.Result{ExitCode: 2}, err
	}
	res, err := load.Run(ctx, cfg)
	if err != nil {
		return ssh.Result{ExitCode: 2}, err
	}
	out, _ := json.Marshal(res)
	return ssh.Result{Stdout: out}, nil
}

func (r *loopRunner) WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error {
	r.files[path] = data
	return nil
}

func (r *loopRunner) ReadFile(ctx context.Context, path string) ([]byte, error) {
	return r.files[path], nil
}

func TestRemoteDriver(t *testing.T) {
	d := &director{addr: "127.0.0.1:0", active: 2}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	r := &loopRunner{files: map[string][]byte{}}
	drv := &Remote{Runner: r, Binary: "/usr/local/bin/labctl-load", Upload: []byte("ELF"),
		Config: load.Config{URL: "http://" + d.addr + "/", Concurrency: 2, MaxRequests: 100, MaxDuration: 5 * time.Second}}
	for i := 0; i < 2; i++ {
		s, raw, err := drv.Measure(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.Requests != 100 || s.Backends["web-1"] != 50 || s.Tool != "builtin" || len(raw) == 0 {
			t.Errorf("sample %+v", s)
		}
	}
	if len(r.files) != 1 || len(r.cmds) != 2 || !strings.HasPrefix(r.cmds[0], "/usr/local/bin/labctl-load -url http://127.0.0.1:") {
		t.Errorf("files %d cmds %q", len(r.files), r.cmds)
	}
}

// TestDemoRealTools runs the same experiment with the built-in generator,
// the installed ab and siege against a loopback "director", writes three
// run directories under $LABCTL_BENCH_DEMO and a report comparing them.
func TestDemoRealTools(t *testing.T) {
	base := os.Getenv("LABCTL_BENCH_DEMO")
	if base == "" {
		t.Skip("set LABCTL_BENCH_DEMO=DIR to run ab, siege and the built-in generator for real")
	}
	d := &director{addr: "127.0.0.1:0", active: 2}
	if err := d.start(); err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	url := "http://" + d.addr + "/"
	exp, svc := lab()
	exp.Repeat, exp.RealServers, exp.Requests, exp.Concurrency = 3, []int{1, 2}, 5000, 10
	drivers := []Driver{
		InProcess{Config: LoadConfig(url, 10, 5000, 30, 0)},
		AB{Exec: tool.Local{}, Options: tool.ABOptions{URL: url, Requests: 5000, Concurrency: 10}},
		Siege{Exec: tool.Local{}, Options: tool.SiegeOptions{URL: url, Concurrency: 10, Duration: 2 * time.Second, Benchmark: true, JSON: true}},
	}
	var dirs []string
	for _, drv := range drivers {
		e := *exp
		e.Name = "demo-" + drv.Name()
		dir, _, err := Run(context.Background(), Spec{
			Lab: "loopback", Experiment: &e, Service: svc, URL: url, Driver: drv, Cluster: d, Injector: d,
			Probe: fault.ProberConfig{URL: url}, FaultHold: time.Second, FaultAfter: time.Second,
			ResultsDir: base, Progress: os.Stderr,
		})
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	runs, err := report.Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	var md, html bytes.Buffer
	if err := report.Markdown(&md, runs); err != nil {
		t.Fatal(err)
	}
	if err := report.HTML(&html, runs); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(base, "report.md"), md.Bytes(), 0o644)
	_ = os.WriteFile(filepath.Join(base, "report.html"), html.Bytes(), 0o644)
	t.Logf("\n%s", md.String())
}
