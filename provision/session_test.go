package provision_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/provisiontest"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/topology"
)

// sessionLab writes provisiontest.Lab(memory) into dir; it returns the lab file.
func sessionLab(t *testing.T, dir string, memory int) string {
	t.Helper()
	p := filepath.Join(dir, "lab.hcl")
	if err := os.WriteFile(p, []byte(provisiontest.Lab(memory)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openFake opens the lab file on hv with guests g, as `labctl up` would.
func openFake(t *testing.T, path string, hv *fake.Hypervisor, g *provisiontest.Guests) *provision.Session {
	t.Helper()
	s, err := provision.Open(context.Background(), provision.OpenOptions{
		Load: func(base topology.LoadOptions, _ bool) (*topology.Lab, error) {
			lab, _, diags := topology.Load(path, base)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			return lab, nil
		},
		Connect: func(context.Context, string) (libvirt.Hypervisor, error) { return hv, nil },
		Images:  provisiontest.Image,
		Guests:  g,
		Owner:   "tester",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stale(t *testing.T, s *provision.Session) []string {
	t.Helper()
	applied, err := roles.LoadApplied(s.Keys.Dir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := applied.Stale(s.Lab)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func up(t *testing.T, s *provision.Session, r provision.UpRequest) *engine.UpResult {
	t.Helper()
	res, err := s.Up(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSessionUpConfiguresThenNoOpRunsNoRoles(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), provisiontest.New("client", "box")
	s := openFake(t, path, hv, g)
	if res := up(t, s, provision.UpRequest{}); res.NoOp || len(res.VMs) != 2 {
		t.Fatalf("first up: no-op %v, %d VMs", res.NoOp, len(res.VMs))
	}
	if !g.Ran("client") || len(g.Booted()) != 2 {
		t.Fatalf("first up: client ran roles %v, booted %v", g.Ran("client"), g.Booted())
	}
	if st := stale(t, s); len(st) != 0 {
		t.Errorf("after a full up, stale roles %v", st)
	}
	g.Reset()
	res := up(t, openFake(t, path, hv, g), provision.UpRequest{})
	if !res.NoOp || len(res.Reconfigured) != 0 || g.Ran("client") || g.Ran("box") {
		t.Errorf("second up: no-op %v, reconfigured %v, client ran %v", res.NoOp, res.Reconfigured, g.Ran("client"))
	}
	res = up(t, openFake(t, path, hv, g), provision.UpRequest{Reconfigure: true})
	if !res.NoOp || !slices.Equal(res.Reconfigured, []string{"client"}) || !g.Ran("client") {
		t.Errorf("up --reconfigure: no-op %v, reconfigured %v, client ran %v", res.NoOp, res.Reconfigured, g.Ran("client"))
	}
}

// A changed VM is recreated with a fresh disk: every role runs again.
func TestSessionUpRecreatedVMRerunsItsRoles(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	dir, hv, g := t.TempDir(), fake.New(), provisiontest.New("client", "box")
	up(t, openFake(t, sessionLab(t, dir, 512), hv, g), provision.UpRequest{})
	g.Reset()
	res := up(t, openFake(t, sessionLab(t, dir, 768), hv, g), provision.UpRequest{})
	if res.NoOp || !slices.ContainsFunc(res.VMs, func(r engine.VMResult) bool { return r.Name == "client" && r.Action == engine.ActRecreate }) {
		t.Fatalf("up after a change: no-op %v, VMs %+v; want client recreated", res.NoOp, res.VMs)
	}
	if !g.Ran("client") {
		t.Error("the recreated client did not run its roles")
	}
	if st := stale(t, openFake(t, sessionLab(t, dir, 768), hv, g)); len(st) != 0 {
		t.Errorf("after the roles re-ran, stale roles %v", st)
	}
}

// An up that changes libvirt but runs no roles leaves no VM counted as
// configured, so the next (no-op) up runs them.
func TestSessionUpWithoutRolesLeavesTheVMUnconfigured(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	dir, hv, g := t.TempDir(), fake.New(), provisiontest.New("client", "box")
	up(t, openFake(t, sessionLab(t, dir, 512), hv, g), provision.UpRequest{})
	g.Reset()
	s := openFake(t, sessionLab(t, dir, 768), hv, g)
	if res := up(t, s, provision.UpRequest{NoConfigure: true}); res.NoOp || g.Ran("client") {
		t.Fatalf("up --no-configure: no-op %v, client ran roles %v", res.NoOp, g.Ran("client"))
	}
	if st := stale(t, s); !slices.Equal(st, []string{"client"}) {
		t.Errorf("after up --no-configure changed libvirt, stale roles %v, want [client]", st)
	}
	res := up(t, openFake(t, sessionLab(t, dir, 768), hv, g), provision.UpRequest{})
	if !res.NoOp || !slices.Equal(res.Reconfigured, []string{"client"}) || !g.Ran("client") {
		t.Errorf("next up: no-op %v, reconfigured %v, client ran %v", res.NoOp, res.Reconfigured, g.Ran("client"))
	}
}

func TestTeardownRemovesMachinesAndRecord(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Setenv(keys.EnvStateDir, t.TempDir())
		path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), provisiontest.New("client", "box")
		s := openFake(t, path, hv, g)
		up(t, s, provision.UpRequest{})
		res, err := provision.Teardown(context.Background(), hv, s.Lab, provision.TeardownOptions{Owner: "tester", KeepKeys: keep})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Domains) != 2 {
			t.Errorf("keep keys %v: removed domains %v", keep, res.Domains)
		}
		if doms, _ := hv.ListDomains(context.Background()); len(doms) != 0 {
			t.Errorf("keep keys %v: %d domains left", keep, len(doms))
		}
		_, err = os.Stat(s.Keys.UserKeyPath())
		if keep != (err == nil) {
			t.Errorf("keep keys %v: user key stat: %v", keep, err)
		}
		if st := stale(t, s); !slices.Equal(st, []string{"client"}) {
			t.Errorf("keep keys %v: after down, stale roles %v, want [client]", keep, st)
		}
	}
}

func TestSessionStatus(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), provisiontest.New("client", "box")
	s := openFake(t, path, hv, g)
	if _, rows, err := s.Status(context.Background(), time.Now()); err != nil || len(rows) != 2 || rows[0].State != "absent" {
		t.Fatalf("before up: %+v, %v", rows, err)
	}
	up(t, s, provision.UpRequest{})
	st, rows, err := s.Status(context.Background(), time.Now())
	if err != nil || st.Lab != "sess" || len(rows) != 2 {
		t.Fatalf("after up: %+v, %v", rows, err)
	}
	for _, r := range rows {
		if r.State != "running" || !r.UpToDate || r.Orphan {
			t.Errorf("after up: %+v", r)
		}
	}
}
