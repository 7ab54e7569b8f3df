package roles

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// count returns how many commands of g start with prefix.
func count(g *guest, prefix string) int {
	n := 0
	for _, c := range g.Commands() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// One dpkg-query per VM answers the packages steps of all its roles; a
// package missing for a later role still fails that role's step.
func TestPackagesAskedOncePerVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	gs["web-1"].Missing = []string{"php-cli"}
	rep, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	if err == nil || !strings.Contains(err.Error(), "web-1: role web: step packages: packages not installed: php-cli (") {
		t.Fatalf("err = %v", err)
	}
	for _, s := range rep.Steps {
		if s.VM == "web-1" && s.Role == topology.RoleNFSClient && s.Step == "packages" && s.Status != StatusUnchanged {
			t.Errorf("nfs_client packages of web-1: %s", s.Status)
		}
	}
	// web-1's failure cancels the other web servers wherever they are, so
	// they asked at most once.
	for vm, want := range map[string]int{"storage": 1, "web-1": 1, "web-2": -1, "web-3": -1} {
		if n := count(gs[vm], "dpkg-query "); n != want && (want >= 0 || n > 1) {
			t.Errorf("%s: %d dpkg-query calls, want %d", vm, n, max(want, 1))
		}
	}
	if c := gs["web-1"].Commands(); !strings.Contains(c[0], " apache2 ") || !strings.Contains(c[0], " nfs-common ") || !strings.Contains(c[0], " procps") {
		t.Errorf("web-1's first command does not ask for every role's packages: %q", c[0])
	}
}

// noOpBudget is the most SSH round trips a run that changes nothing may
// cost per VM of the thesis lab (before batching: client 4, directors 9,
// storage 17, web servers 22).
var noOpBudget = map[string]int{"client": 2, "director-1": 5, "director-2": 5, "storage": 12, "web-1": 10, "web-2": 10, "web-3": 10}

// A run that changes nothing reads no rendered file one by one: one hash
// command per VM and stage answers them.
func TestNoOpRunStaysInRoundTripBudget(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	ctx := context.Background()
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		g.ResetCommands()
	}
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	for vm, g := range gs {
		if n := g.RoundTrips(); n > noOpBudget[vm] {
			t.Errorf("%s: %d round trips, budget %d: %q", vm, n, noOpBudget[vm], g.Commands())
		}
	}
}

// Paths from the lab file reach the hash command quoted, and a file whose
// hash matches is left alone.
func TestBatchedHashQuotesLabPaths(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	lab.Web[0].Content = nil
	lab.Web[0].Docroot = "/var/www/it's"
	gs := guests(lab)
	ctx := context.Background()
	opts := Options{Only: []string{"web-1"}}
	if _, err := Apply(ctx, lab, hostsOf(gs), opts); err != nil {
		t.Fatal(err)
	}
	g := gs["web-1"]
	if _, ok := g.Files["/var/www/it's/index.php"]; !ok {
		t.Fatalf("index.php not written: %v", g.Writes)
	}
	g.ResetCommands()
	rep, err := Apply(ctx, lab, hostsOf(gs), opts)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Count(StatusUnchanged) != len(rep.Steps) || len(g.Writes) > 0 {
		t.Errorf("second run: %d of %d steps unchanged, wrote %v", rep.Count(StatusUnchanged), len(rep.Steps), g.Writes)
	}
	if !slices.ContainsFunc(g.Commands(), func(c string) bool { return strings.Contains(c, `'/var/www/it'\''s/index.php'`) }) {
		t.Errorf("no hash command with the quoted docroot: %q", g.Commands())
	}
	// Edited on the guest: the hash differs, the file is put back.
	g.Files["/var/www/it's/index.php"] = []byte("edited\n")
	if rep, err = Apply(ctx, lab, hostsOf(gs), opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(g.Writes, "/var/www/it's/index.php") {
		t.Errorf("edited index.php not rewritten: %v", g.Writes)
	}
}

// The hash command gives the same answers under a real sh as the fake
// gives: a hash per file, missing, unknown for a directory.
func TestSumsCmdUnderRealShell(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "it's a file")
	if err := os.WriteFile(file, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	paths := []string{file, filepath.Join(dir, "nope"), dir}
	out, err := (&host{r: shellRunner{}}).run(context.Background(), sumsCmd(paths))
	if err != nil {
		t.Fatal(err)
	}
	f := rolestest.New("x")
	f.Files[file] = []byte("hello\n")
	f.SetPath(dir, true)
	h := &host{r: f}
	fake, err := h.run(context.Background(), sumsCmd(paths))
	if err != nil {
		t.Fatal(err)
	}
	want := sum([]byte("hello\n")) + "  -\nmissing\nunknown\n"
	if out != want || fake != want {
		t.Errorf("sh printed %q, fake %q, want %q", out, fake, want)
	}
}

// Batched predicates report each exit status under a real sh as the fake
// does, a failing one not hiding the next.
func TestTestsUnderRealShell(t *testing.T) {
	dir := t.TempDir()
	cmds := []string{"test -d " + shq(dir), "test -e " + shq(filepath.Join(dir, "nope")), "command -v sh", "false | true"}
	want := []bool{true, false, true, true}
	real := &host{r: shellRunner{}}
	f := rolestest.New("x")
	f.SetPath(dir, true)
	f.Reply(`false \| true`, "")
	for name, h := range map[string]*host{"sh": real, "fake": {r: f}} {
		got, err := h.tests(context.Background(), cmds...)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %v, %v; want %v", name, got, err, want)
		}
	}
}

// shellRunner runs commands under the local sh.
type shellRunner struct{ ssh.Runner }

func (shellRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	out, err := exec.CommandContext(ctx, "sh", "-c", cmd).Output()
	return ssh.Result{Stdout: out}, err
}
