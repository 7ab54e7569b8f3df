package roles

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

func TestAppliedStaleAfterARoleChange(t *testing.T) {
	dir := t.TempDir()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	a, err := LoadApplied(dir)
	if err != nil {
		t.Fatal(err)
	}
	var withRoles []string
	for _, vm := range lab.VMs {
		if len(vm.Roles) > 0 {
			withRoles = append(withRoles, vm.Name)
		}
	}
	// Nothing recorded yet: every VM with roles is stale.
	if got, err := a.Stale(lab); err != nil || !slices.Equal(got, withRoles) {
		t.Fatalf("stale before any run: %v %v, want %v", got, err, withRoles)
	}
	if err := a.Record(lab, nil); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, appliedFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("record file: %v %v", info, err)
	}
	// Read back from disk: nothing stale.
	a, err = LoadApplied(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Stale(lab); err != nil || len(got) != 0 {
		t.Fatalf("stale after Record: %v %v", got, err)
	}

	// Another scheduler changes keepalived.conf on the directors only.
	lab.LVS[0].Scheduler = "sh"
	var directors []string
	for _, d := range lab.LVS[0].Directors {
		directors = append(directors, d.Name)
	}
	if got, _ := a.Stale(lab); !slices.Equal(got, directors) {
		t.Errorf("stale after a scheduler change: %v, want %v", got, directors)
	}

	// A run that is about to configure them forgets them first; a failed
	// run leaves them stale, a successful one records them.
	if err := a.Forget(directors); err != nil {
		t.Fatal(err)
	}
	lab.LVS[0].Scheduler = "wlc"
	if got, _ := a.Stale(lab); !slices.Equal(got, directors) {
		t.Errorf("stale after Forget: %v, want %v", got, directors)
	}
	if err := a.Record(lab, directors); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Stale(lab); len(got) != 0 {
		t.Errorf("stale after recording the directors: %v", got)
	}
}

func TestAppliedBadFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, appliedFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadApplied(dir); err == nil {
		t.Error("a corrupt record was accepted")
	}
}

func TestForgetAll(t *testing.T) {
	dir := t.TempDir()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	a, _ := LoadApplied(dir)
	if err := a.Record(lab, nil); err != nil {
		t.Fatal(err)
	}
	if err := ForgetAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := ForgetAll(dir); err != nil { // nothing left: fine
		t.Fatal(err)
	}
	a, err := LoadApplied(dir)
	if err != nil {
		t.Fatal(err)
	}
	if stale, _ := a.Stale(lab); len(stale) == 0 {
		t.Error("nothing stale after ForgetAll")
	}
}
