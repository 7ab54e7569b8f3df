package provision

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// fakeGuests boots every VM at once and runs its commands on a
// rolestest.Fake.
type fakeGuests struct {
	mu     sync.Mutex
	fakes  map[string]*rolestest.Fake
	booted []string
}

func newFakeGuests(vms ...string) *fakeGuests {
	g := &fakeGuests{fakes: map[string]*rolestest.Fake{}}
	for _, vm := range vms {
		g.fakes[vm] = rolestest.New(vm)
	}
	return g
}

func (g *fakeGuests) WaitBooted(_ context.Context, cfg ssh.Config, _ time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.booted = append(g.booted, cfg.Host)
	return nil
}

func (g *fakeGuests) Transport() Transport { return fakeTransport{g} }

// ran reports whether vm ran any command since the last reset.
func (g *fakeGuests) ran(vm string) bool { return len(g.fakes[vm].Commands()) > 0 }

func (g *fakeGuests) reset() {
	for _, f := range g.fakes {
		f.ResetCommands()
	}
}

type fakeTransport struct{ g *fakeGuests }

func (fakeTransport) Add(ssh.Config)                                     {}
func (t fakeTransport) Runner(vm string) ssh.Runner                      { return t.g.fakes[vm] }
func (fakeTransport) Ready(context.Context, string, time.Duration) error { return nil }
func (fakeTransport) Close() error                                       { return nil }

// sessionLab writes a lab of two VMs, client (role client, memory MiB)
// and box (no roles); it returns the lab file.
func sessionLab(t *testing.T, dir string, memory int) string {
	t.Helper()
	src := `lab "sess" {
  accel = "tcg"
  image = "base"
}
network "lan" {
  mode = "nat"
  cidr = "192.168.151.0/24"
}
vm "client" {
  roles  = ["client"]
  memory = "` + strconv.Itoa(memory) + `MiB"
  nic "lan" {}
}
vm "box" {
  nic "lan" {}
}
`
	p := filepath.Join(dir, "lab.hcl")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// baseImage is the lab's image "base", never read by the fake.
func baseImage(name string) (*engine.BaseImage, error) {
	return &engine.BaseImage{Name: name, SHA256: strings.Repeat("ab", 32), Disk: "/dev/null", DiskFormat: "qcow2",
		VirtualSize: 2 << 30, Kernel: "/dev/null", Initrd: "/dev/null", Cmdline: "root=/dev/vda console=ttyS0"}, nil
}

// openFake opens the lab file on hv with guests g, as `labctl up` would.
func openFake(t *testing.T, path string, hv *fake.Hypervisor, g *fakeGuests) *Session {
	t.Helper()
	s, err := Open(context.Background(), OpenOptions{
		Load: func(base topology.LoadOptions, _ bool) (*topology.Lab, error) {
			lab, _, diags := topology.Load(path, base)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			return lab, nil
		},
		Connect: func(context.Context, string) (libvirt.Hypervisor, error) { return hv, nil },
		Images:  baseImage,
		Guests:  g,
		Owner:   "tester",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stale(t *testing.T, s *Session) []string {
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

func up(t *testing.T, s *Session, r UpRequest) *engine.UpResult {
	t.Helper()
	res, err := s.Up(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSessionUpConfiguresThenNoOpRunsNoRoles(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), newFakeGuests("client", "box")
	s := openFake(t, path, hv, g)
	if res := up(t, s, UpRequest{}); res.NoOp || len(res.VMs) != 2 {
		t.Fatalf("first up: no-op %v, %d VMs", res.NoOp, len(res.VMs))
	}
	if !g.ran("client") || len(g.booted) != 2 {
		t.Fatalf("first up: client ran roles %v, booted %v", g.ran("client"), g.booted)
	}
	if st := stale(t, s); len(st) != 0 {
		t.Errorf("after a full up, stale roles %v", st)
	}
	g.reset()
	res := up(t, openFake(t, path, hv, g), UpRequest{})
	if !res.NoOp || len(res.Reconfigured) != 0 || g.ran("client") || g.ran("box") {
		t.Errorf("second up: no-op %v, reconfigured %v, client ran %v", res.NoOp, res.Reconfigured, g.ran("client"))
	}
	res = up(t, openFake(t, path, hv, g), UpRequest{Reconfigure: true})
	if !res.NoOp || !slices.Equal(res.Reconfigured, []string{"client"}) || !g.ran("client") {
		t.Errorf("up --reconfigure: no-op %v, reconfigured %v, client ran %v", res.NoOp, res.Reconfigured, g.ran("client"))
	}
}

// A changed VM is recreated with a fresh disk: every role runs again.
func TestSessionUpRecreatedVMRerunsItsRoles(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	dir, hv, g := t.TempDir(), fake.New(), newFakeGuests("client", "box")
	up(t, openFake(t, sessionLab(t, dir, 512), hv, g), UpRequest{})
	g.reset()
	res := up(t, openFake(t, sessionLab(t, dir, 768), hv, g), UpRequest{})
	if res.NoOp || !slices.ContainsFunc(res.VMs, func(r engine.VMResult) bool { return r.Name == "client" && r.Action == engine.ActRecreate }) {
		t.Fatalf("up after a change: no-op %v, VMs %+v; want client recreated", res.NoOp, res.VMs)
	}
	if !g.ran("client") {
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
	dir, hv, g := t.TempDir(), fake.New(), newFakeGuests("client", "box")
	up(t, openFake(t, sessionLab(t, dir, 512), hv, g), UpRequest{})
	g.reset()
	s := openFake(t, sessionLab(t, dir, 768), hv, g)
	if res := up(t, s, UpRequest{NoConfigure: true}); res.NoOp || g.ran("client") {
		t.Fatalf("up --no-configure: no-op %v, client ran roles %v", res.NoOp, g.ran("client"))
	}
	if st := stale(t, s); !slices.Equal(st, []string{"client"}) {
		t.Errorf("after up --no-configure changed libvirt, stale roles %v, want [client]", st)
	}
	res := up(t, openFake(t, sessionLab(t, dir, 768), hv, g), UpRequest{})
	if !res.NoOp || !slices.Equal(res.Reconfigured, []string{"client"}) || !g.ran("client") {
		t.Errorf("next up: no-op %v, reconfigured %v, client ran %v", res.NoOp, res.Reconfigured, g.ran("client"))
	}
}

func TestTeardownRemovesMachinesAndRecord(t *testing.T) {
	for _, keep := range []bool{true, false} {
		t.Setenv(keys.EnvStateDir, t.TempDir())
		path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), newFakeGuests("client", "box")
		s := openFake(t, path, hv, g)
		up(t, s, UpRequest{})
		res, err := Teardown(context.Background(), hv, s.Lab, TeardownOptions{Owner: "tester", KeepKeys: keep})
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
	path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), newFakeGuests("client", "box")
	s := openFake(t, path, hv, g)
	if _, rows, err := s.Status(context.Background(), time.Now()); err != nil || len(rows) != 2 || rows[0].State != "absent" {
		t.Fatalf("before up: %+v, %v", rows, err)
	}
	up(t, s, UpRequest{})
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
