//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/grade"
	"github.com/labctl/labctl/topology"
)

var exerciseRe = regexp.MustCompile(`(?ms)^exercise "[^"]+" \{.*?^\}\n`)

// exerciseBlock is the exercise block of labs/<src>/lab.hcl (its topology
// is the thesis cluster's, as topology's TestExerciseLabIsTheThesisCluster
// checks, so the suite grades its own copy of labs/lvs-nat-ha with it
// rather than booting the cluster twice).
func exerciseBlock(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(labsDir(t), src, "lab.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := exerciseRe.FindAllString(string(b), -1)
	if len(blocks) != 1 {
		t.Fatalf("labs/%s/lab.hcl: %d exercise blocks, want 1", src, len(blocks))
	}
	return blocks[0]
}

// gradeLab runs `labctl grade -o json` and decodes the result; grade exits
// 0 whatever the score.
func gradeLab(t *testing.T, ctx context.Context, l *lab, what string, args ...string) *grade.Result {
	t.Helper()
	start := time.Now()
	out := mustLabctl(t, ctx, append([]string{"grade", "-o", "json", l.dir}, args...)...)
	var res grade.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("grade output is not JSON: %v\n%s", err, out)
	}
	t.Logf("FIGURE exercise grade (%s) %d/%d points (%.0f %%) in %.1fs", what, res.Total, res.Max, res.Percent(), time.Since(start).Seconds())
	for _, ln := range res.Lines {
		t.Logf("  %-12s %2d/%-2d %s", ln.Check, ln.Points, ln.Max, ln.Observed)
	}
	if res.Schema != grade.Schema || len(res.Lines) == 0 {
		t.Fatalf("grade result: schema %q, %d lines", res.Schema, len(res.Lines))
	}
	return &res
}

// gradeUnconfigured: up left the student's roles out (no keepalived.conf,
// no export), and grade scores that low, honestly: the checks fail with
// their hints and the drills are not run rather than left to time out.
func gradeUnconfigured(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	// labctl ssh joins its arguments with spaces, as OpenSSH does: one
	// string is one command line for the guest's shell.
	out := mustLabctl(t, ctx, "ssh", "-l", l.dir, "--root", "director-1", "--",
		"test -e /etc/keepalived/keepalived.conf && echo configured; dpkg-query -W -f='${Status}\\n' keepalived")
	if strings.Contains(out, "configured") || !strings.Contains(out, "install ok installed") {
		t.Errorf("director-1 before the student: %q, want keepalived installed and not configured", out)
	}
	res := gradeLab(t, ctx, l, "unconfigured")
	if res.Percent() >= 30 {
		t.Errorf("unconfigured cluster scored %.0f %%, want < 30 %%", res.Percent())
	}
	for _, c := range []topology.GradeCheck{topology.GradeDirectors, topology.GradeVIP, topology.GradeHTTP, topology.GradeNFS} {
		if ln := res.Line(c); ln == nil || ln.OK || ln.Hint == "" {
			t.Errorf("%s: %+v, want failed with a hint", c, ln)
		}
	}
	for _, c := range []topology.GradeCheck{topology.GradeRAID, topology.GradeRealServers} {
		if ln := res.Line(c); ln == nil || !ln.OK { // labctl's own part
			t.Errorf("%s: %+v, want passed (labctl configured it)", c, ln)
		}
	}
	for _, ln := range res.Lines {
		if ln.Drill && (ln.OK || !strings.HasPrefix(ln.Observed, "not run: needs")) {
			t.Errorf("drill %s on an unconfigured cluster: %q", ln.Check, ln.Observed)
		}
	}
}

func solution(t *testing.T, ctx context.Context, l *lab) {
	start := time.Now()
	out := mustLabctl(t, ctx, "provision", "--solution", "-l", l.dir)
	t.Logf("FIGURE exercise provision --solution %.1fs", time.Since(start).Seconds())
	if !strings.Contains(out, "model answer is configured") {
		t.Errorf("provision --solution said %q", out)
	}
}

// gradeHalfDone: directors configured without the internal gateway VIP
// (the real servers' answers have no way back): in between, and the hint
// says what is missing. provision --solution then restores it.
func gradeHalfDone(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	// keepalived.conf lists it as "10.0.10.200/24 dev eth1" (| delimits
	// the sed address: the line has a slash).
	gw := regexp.QuoteMeta(lab.LVS[0].GatewayVIP.String()) + "/"
	for _, d := range lab.LVS[0].Directors {
		mustLabctl(t, ctx, "ssh", "-l", l.dir, "--root", d.Name, "--",
			"sed -i '\\|^ *"+gw+"|d' /etc/keepalived/keepalived.conf && systemctl restart keepalived")
	}
	res := gradeLab(t, ctx, l, "half-done")
	if p := res.Percent(); p <= 30 || p >= 90 {
		t.Errorf("half-done cluster scored %.0f %%, want in between", p)
	}
	if ln := res.Line(topology.GradeGatewayVIP); ln == nil || ln.OK || !strings.Contains(ln.Hint, "gateway VIP") {
		t.Errorf("gateway_vip: %+v, want failed with a hint naming the gateway VIP", ln)
	}
	if ln := res.Line(topology.GradeVIP); ln == nil || !ln.OK {
		t.Errorf("vip: %+v, want passed (the VIP itself is configured)", ln)
	}
	solution(t, ctx, l)
}

// gradeFull: the model answer gets every point, the drills included (each
// injects its fault, reverts it and waits until the cluster is as before).
func gradeFull(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	res := gradeLab(t, ctx, l, "model answer")
	for _, ln := range res.Lines {
		if !ln.OK {
			t.Errorf("%s: %d/%d, observed %q, hint %q", ln.Check, ln.Points, ln.Max, ln.Observed, ln.Hint)
		}
		if ln.Drill {
			t.Logf("FIGURE exercise drill %s %.1fs", ln.Check, ln.Seconds)
		}
	}
	if res.Total != res.Max {
		t.Errorf("model answer: %d of %d points", res.Total, res.Max)
	}
}
