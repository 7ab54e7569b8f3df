package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportCmd(t *testing.T) {
	runs := []string{"../../../bench/report/testdata/runs/lvs-thesis-ab", "../../../bench/report/testdata/runs/lvs-scale-builtin"}
	var out, errb bytes.Buffer
	html := filepath.Join(t.TempDir(), "r.html")
	code := Run(context.Background(), IO{Out: &out, Err: &errb}, append([]string{"report", "--html", html, "--markdown", "-"}, runs...))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "## Comparison") || !strings.Contains(out.String(), "## Fault statistics") {
		t.Errorf("markdown:\n%s", out.String())
	}
	b, err := os.ReadFile(html)
	// throughput, latency CDF and one timeline per failover repetition (2)
	if err != nil || strings.Count(string(b), "<svg") != 4 {
		t.Errorf("html: %v, %d charts", err, strings.Count(string(b), "<svg"))
	}
	errb.Reset()
	if code := Run(context.Background(), IO{Out: &out, Err: &errb}, []string{"report", t.TempDir()}); code == 0 || !strings.Contains(errb.String(), "results.json") {
		t.Errorf("missing run: exit %d, %s", code, errb.String())
	}
}
