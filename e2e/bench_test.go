//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/result"
)

// TestBench runs a short ad-hoc experiment with labctl bench on a lab that
// is already up (bringing up the 6–7 VM thesis lab under TCG takes longer
// than the rest of the suite): LABCTL_E2E_BENCH_LAB names it, e.g.
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
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bin, args...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		t.Logf("labctl %s (%.1fs)\n%s", strings.Join(args, " "), time.Since(start).Seconds(), indent(errb.String()))
		return out.String(), err
	}
	results := t.TempDir()
	out, err := run("bench", labDir, "--adhoc", "--real-servers", "1,2", "--repeat", "1", "--duration", "3s",
		"--concurrency", "4", "--fault", "stop_web:web-1", "--fault-hold", "3s", "--fault-after", "2s",
		"--results", results, "-o", "json")
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	var runs []struct {
		Dir string      `json:"dir"`
		Run *result.Run `json:"run"`
	}
	if err := json.Unmarshal([]byte(out), &runs); err != nil || len(runs) != 1 {
		t.Fatalf("bench output: %v\n%s", err, out)
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
	for _, p := range r.Points {
		s := p.Samples[0]
		if s.Throughput <= 0 || s.Errors != 0 || len(s.Backends) != p.Variation.RealServers {
			t.Errorf("%s: %.1f req/s, %d errors, backends %v", p.Variation.Label(), s.Throughput, s.Errors, s.Backends)
		}
	}
	if len(r.Faults) != 1 || len(r.Faults[0].Probes) == 0 || r.Faults[0].Revert == nil || r.Faults[0].Revert.Failed != 0 {
		t.Errorf("fault: %+v", r.Faults)
	}
	var rep struct {
		Cluster struct {
			PoolChanged bool     `json:"pool_changed"`
			PoolDuring  []string `json:"pool_during"`
			Restored    bool     `json:"restored"`
		} `json:"cluster"`
	}
	b, err := os.ReadFile(filepath.Join(latest, "raw", "fault-1-lab.json"))
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("fault report: %v", err)
	}
	if !rep.Cluster.PoolChanged || strings.Contains(strings.Join(rep.Cluster.PoolDuring, ","), "web-1") || !rep.Cluster.Restored {
		t.Errorf("cluster during stop_web: %+v", rep.Cluster)
	}
	if r.Provenance.Accel == "" || r.Provenance.LibvirtVersion == "" || r.Provenance.ImageDigest == "" {
		t.Errorf("provenance %+v", r.Provenance)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	md, err := run("report", "--html", html, "--markdown", "-", latest)
	if err != nil || !strings.Contains(md, "rs=2") {
		t.Errorf("report: %v\n%s", err, md)
	}
	if b, err := os.ReadFile(html); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("html report: %v", err)
	}
}
