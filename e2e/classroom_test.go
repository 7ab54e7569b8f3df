//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/grade"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// TestClassroom brings up labs/classroom as the class its lab file asks
// for (copies = 3), and checks from outside that the copies are identical
// and isolated, verify's class view, student access, snapshot and reset,
// and that down leaves nothing of any copy.
func TestClassroom(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	l := copyLab(t, clusterCase{src: "classroom", name: "e2ecls"})
	class := loadLab(t, l.dir)
	copies := topology.CopyNames(class.Copies)
	if len(copies) != 3 {
		t.Fatalf("labs/classroom asks for %d copies, want 3", len(copies))
	}
	t.Cleanup(func() {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := labctl(t, dctx, "down", l.dir); err != nil {
			t.Errorf("cleanup: down: %v", err)
		}
	})

	start := time.Now()
	ups := upClass(t, ctx, l)
	t.Logf("FIGURE classroom up of %d copies %.1fs", len(copies), time.Since(start).Seconds())
	if len(ups) != len(copies) {
		t.Fatalf("up reported %d copies, want %d", len(ups), len(copies))
	}
	for i, c := range copies {
		name := class.Name + "-" + c
		if ups[i].Lab != name {
			t.Errorf("up result %d is lab %q, want %q", i, ups[i].Lab, name)
		}
		live := owned(t, name)
		if len(live.Domains) != len(class.VMs) || len(live.Networks) != len(class.Networks) {
			t.Errorf("copy %s owns %d domains and %d networks, want %d and %d", c, len(live.Domains), len(live.Networks), len(class.VMs), len(class.Networks))
		}
		for _, d := range live.Domains {
			if d.Meta.Class != class.Name || d.Meta.Copy != c {
				t.Errorf("domain %s metadata names class %q copy %q", d.Name, d.Meta.Class, d.Meta.Copy)
			}
		}
	}
	for i, r := range ups {
		for _, vm := range r.VMs {
			// Copy 1 boots; the others are cloned from its "up" snapshot.
			if vm.Cloned != (i > 0) || vm.Error != "" {
				t.Errorf("copy %s VM %s: cloned %v (error %q)", copies[i], vm.Name, vm.Cloned, vm.Error)
			}
		}
		t.Logf("FIGURE classroom copy %s up %.1fs (cloned: %v)", copies[i], r.Seconds, i > 0)
	}
	sameAddresses(t, ctx, l, class, copies)
	isolated(t, ctx, l, class, copies)
	verifyClass(t, ctx, l, copies)
	gradeClass(t, ctx, l, copies)
	studentAccess(t, ctx, l, copies)
	resetCopy(t, ctx, l, copies)

	mustLabctl(t, ctx, "down", l.dir)
	for _, c := range copies {
		assertGone(t, class.Name+"-"+c, false)
	}
}

// upClass runs `labctl up --yes -o json` on a class: one result per copy.
func upClass(t *testing.T, ctx context.Context, l *lab) []engine.UpResult {
	t.Helper()
	out := mustLabctl(t, ctx, "up", "--yes", "--timeout", "15m", "-o", "json", l.dir)
	var res []engine.UpResult
	dec := json.NewDecoder(strings.NewReader(out))
	for {
		var r engine.UpResult
		if err := dec.Decode(&r); err == io.EOF {
			return res
		} else if err != nil {
			t.Fatalf("up output is not a JSON stream: %v\n%s", err, out)
		}
		res = append(res, r)
	}
}

// inLab are vm's addresses on the lab's own networks (not management),
// as "a.b.c.d/nn".
func inLab(class *topology.Lab, vm string) []string {
	var out []string
	for _, n := range class.VM(vm).NICs {
		if !n.Management && n.IP.IsValid() {
			out = append(out, fmt.Sprintf("%s/%d", n.IP, n.Prefix))
		}
	}
	return out
}

// sameAddresses asks each copy's director for its in-lab addresses: every
// copy has the lab file's.
func sameAddresses(t *testing.T, ctx context.Context, l *lab, class *topology.Lab, copies []string) {
	t.Helper()
	want := inLab(class, "director")
	if len(want) != 2 {
		t.Fatalf("director's lab addresses %v, want 2", want)
	}
	for _, c := range copies {
		out := mustLabctl(t, ctx, "ssh", "-l", l.dir, "--copy", c, "director", "--", "ip", "-4", "-br", "addr")
		for _, a := range want {
			if !strings.Contains(out, a) {
				t.Errorf("copy %s: director lacks %s:\n%s", c, a, out)
			}
		}
	}
}

// isolated pings from copy 1's client an address that only copy 2 has (its
// client's management address, from status) and, as a control, its own
// director.
func isolated(t *testing.T, ctx context.Context, l *lab, class *topology.Lab, copies []string) {
	t.Helper()
	var st struct {
		VMs []engine.VMStatus `json:"vms"`
	}
	out := mustLabctl(t, ctx, "status", "-o", "json", "--copy", copies[1], l.dir)
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status output: %v\n%s", err, out)
	}
	other := ""
	for _, vm := range st.VMs {
		if vm.Name == "client" && len(vm.IPs) > 0 {
			other = strings.Split(vm.IPs[len(vm.IPs)-1], "/")[0] // the management NIC is last
		}
	}
	if other == "" || slices.Contains(inLab(class, "client"), other+"/24") {
		t.Fatalf("no management address of copy %s's client in status: %s", copies[1], out)
	}
	ping := func(ip string) error {
		_, err := labctl(t, ctx, "ssh", "-l", l.dir, "--copy", copies[0], "client", "--", "ping", "-c", "2", "-W", "2", ip)
		return err
	}
	director := strings.Split(inLab(class, "director")[0], "/")[0]
	if err := ping(director); err != nil {
		t.Errorf("copy %s: client cannot ping its own director at %s: %v", copies[0], director, err)
	}
	if err := ping(other); err == nil {
		t.Errorf("copy %s reached copy %s's client at %s", copies[0], copies[1], other)
	}
}

// verifyClass runs verify on the whole class: one result per copy, all ok,
// and the text view has one ok line per copy.
func verifyClass(t *testing.T, ctx context.Context, l *lab, copies []string) {
	t.Helper()
	start := time.Now()
	out, err := labctl(t, ctx, "verify", "-o", "json", l.dir)
	t.Logf("FIGURE classroom verify of %d copies %.1fs", len(copies), time.Since(start).Seconds())
	var res struct {
		Copies []struct {
			Copy   string        `json:"copy"`
			Result verify.Result `json:"result"`
		} `json:"copies"`
	}
	if jerr := json.Unmarshal([]byte(out), &res); jerr != nil {
		t.Fatalf("verify output is not JSON (%v): %v\n%s", err, jerr, out)
	}
	if err != nil || len(res.Copies) != len(copies) {
		t.Fatalf("verify: %v, %d copies checked", err, len(res.Copies))
	}
	for i, r := range res.Copies {
		if r.Copy != copies[i] || !r.Result.OK() || len(r.Result.Checks) == 0 {
			t.Errorf("copy %s: %d of %d checks failed", r.Copy, r.Result.Failed(), len(r.Result.Checks))
		}
	}
	text := mustLabctl(t, ctx, "verify", l.dir)
	if n := strings.Count(text, "│ ok "); n < len(copies) {
		t.Errorf("class view has %d ok rows, want %d:\n%s", n, len(copies), text)
	}
}

// gradeClass grades every copy (the classroom lab has no drill that
// applies: one director, one real server, no RAID) into one gradebook.
func gradeClass(t *testing.T, ctx context.Context, l *lab, copies []string) {
	t.Helper()
	dir := t.TempDir()
	start := time.Now()
	out := mustLabctl(t, ctx, "grade", "-o", "json", "--gradebook", dir, l.dir)
	t.Logf("FIGURE classroom grade of %d copies %.1fs", len(copies), time.Since(start).Seconds())
	var book grade.Gradebook
	if err := json.Unmarshal([]byte(out), &book); err != nil {
		t.Fatalf("grade output is not JSON: %v\n%s", err, out)
	}
	if book.Schema != grade.GradebookSchema || len(book.Results) != len(copies) {
		t.Fatalf("gradebook: schema %q, %d copies, want %d", book.Schema, len(book.Results), len(copies))
	}
	for _, r := range book.Results {
		if r.Total != r.Max || r.Max == 0 {
			t.Errorf("copy %s: %d of %d points", r.Copy, r.Total, r.Max)
		}
	}
	csv, err := os.ReadFile(filepath.Join(dir, "grades.csv"))
	if err != nil || strings.Count(string(csv), "\n") != len(copies)+1 {
		t.Errorf("grades.csv (%v):\n%s", err, csv)
	}
	if _, err := os.Stat(filepath.Join(dir, "grades.html")); err != nil {
		t.Error(err)
	}
}

// studentAccess writes the class's bundles and uses them with the OpenSSH
// client: copy 1's bundle reaches copy 1's web, and copy 1's key does not
// open copy 2's web (pinned to copy 2's host key, so only the key differs).
func studentAccess(t *testing.T, ctx context.Context, l *lab, copies []string) {
	t.Helper()
	dir := t.TempDir()
	mustLabctl(t, ctx, "access", "--out", dir, l.dir)
	b1, b2 := filepath.Join(dir, copies[0]), filepath.Join(dir, copies[1])
	ssh := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "ssh", append([]string{"-o", "BatchMode=yes", "-o", "ConnectTimeout=20"}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "SSH_AUTH_SOCK=")
		out, err := cmd.CombinedOutput()
		t.Logf("ssh %s: %v\n%s", strings.Join(args, " "), err, indent(string(out)))
		return string(out), err
	}
	if out, err := ssh("-F", filepath.Join(b1, "ssh_config"), "web", "hostname"); err != nil || strings.TrimSpace(lastLine(out)) != "web" {
		t.Errorf("copy %s's bundle does not reach its web: %v %q", copies[0], err, out)
	}
	// Copy 2's bundle with copy 1's key in it: the host is copy 2's,
	// pinned, and only the key is wrong.
	key, err := os.ReadFile(filepath.Join(b1, "id_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b2, "id_ed25519"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := ssh("-F", filepath.Join(b2, "ssh_config"), "web", "hostname"); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("copy %s's key opened copy %s's web: %v %q", copies[0], copies[1], err, out)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// resetCopy saves a snapshot of copy 1, changes it (a file written,
// Apache stopped), resets it to that snapshot and checks the change is
// gone; then times a reset of the whole class to "up".
func resetCopy(t *testing.T, ctx context.Context, l *lab, copies []string) {
	t.Helper()
	c := copies[0]
	mustLabctl(t, ctx, "snapshot", "save", "--copy", c, l.dir, "before")
	mustLabctl(t, ctx, "ssh", "-l", l.dir, "--copy", c, "--root", "web", "--", "echo changed >/root/marker && systemctl stop apache2")
	start := time.Now()
	mustLabctl(t, ctx, "reset", "--copy", c, "--to", "before", l.dir)
	t.Logf("FIGURE classroom reset of copy %s %.1fs (verify included)", c, time.Since(start).Seconds())
	out := mustLabctl(t, ctx, "ssh", "-l", l.dir, "--copy", c, "--root", "web", "--", "test -e /root/marker && echo marker; systemctl is-active apache2 || :")
	if strings.Contains(out, "marker") || !strings.Contains(out, "active") || strings.Contains(out, "inactive") {
		t.Errorf("after reset, copy %s's web: %q (want no marker, apache2 active)", c, out)
	}
	start = time.Now()
	mustLabctl(t, ctx, "reset", l.dir)
	t.Logf("FIGURE classroom reset of %d copies %.1fs (verify included)", len(copies), time.Since(start).Seconds())
}
