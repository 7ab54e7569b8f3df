package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/provisiontest"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

// A single lab has no "up" snapshot unless asked (--snapshot); a no-op up
// keeps it, save/list/rm manage others, and reset --no-verify returns a
// powered-off VM to running.
func TestSnapshotCommandsOnFakes(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(provisiontest.Lab(512)), 0o600); err != nil {
		t.Fatal(err)
	}
	hv, g := fake.New(), provisiontest.New("client", "box")
	labctlOnFakes(t, hv, g, "up", dir)
	if n := hv.Calls["CreateSnapshot:sess-box"]; n != 0 {
		t.Errorf("up of a single lab took %d snapshots, want none", n)
	}
	labctlOnFakes(t, hv, g, "up", "--snapshot", dir)
	labctlOnFakes(t, hv, g, "up", "--snapshot", dir)
	if n := hv.Calls["CreateSnapshot:sess-box"]; n != 1 {
		t.Errorf("two ups with --snapshot (both no-ops) took %d snapshots, want 1", n)
	}
	labctlOnFakes(t, hv, g, "snapshot", "save", dir, "exam")
	out := labctlOnFakes(t, hv, g, "snapshot", "list", dir)
	if !strings.Contains(out, "up") || !strings.Contains(out, "exam") {
		t.Errorf("snapshot list:\n%s", out)
	}
	if _, err := runOnFakes(hv, g, "snapshot", "save", dir, "exam"); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("saving exam twice: %v", err)
	}
	labctlOnFakes(t, hv, g, "snapshot", "save", "--replace", dir, "exam")
	if _, err := runOnFakes(hv, g, "snapshot", "save", dir, "Exam 2"); err == nil {
		t.Error("a snapshot name with a space and capitals accepted")
	}
	if err := hv.DestroyDomain(t.Context(), "sess", "sess-box"); err != nil {
		t.Fatal(err)
	}
	if out := labctlOnFakes(t, hv, g, "reset", "--no-verify", dir); !strings.Contains(out, "lab sess: reverted to up in") {
		t.Errorf("reset:\n%s", out)
	}
	if out := labctlOnFakes(t, hv, g, "status", dir); strings.Count(out, "running") != 2 {
		t.Errorf("after reset:\n%s", out)
	}
	labctlOnFakes(t, hv, g, "snapshot", "rm", dir, "exam")
	if out := labctlOnFakes(t, hv, g, "snapshot", "list", dir); strings.Contains(out, "exam") {
		t.Errorf("exam still listed:\n%s", out)
	}
}

func TestResetRequestsSeeEveryBackend(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT) // three real servers, equal weights
	if got := resetRequests(lab); got != 9 {
		t.Errorf("three equal real servers: %d requests, want 9", got)
	}
	lab.LVS[0].Backends[0].Weight = 3
	if got := resetRequests(lab); got != 0 {
		t.Errorf("unequal weights: %d requests, want verify's default (0)", got)
	}
}
