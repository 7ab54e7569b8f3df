package provision_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/provisiontest"
	"github.com/labctl/labctl/topology"
)

func states(t *testing.T, hv *fake.Hypervisor, prefix string) map[string]libvirt.DomainState {
	t.Helper()
	doms, err := hv.ListDomains(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]libvirt.DomainState{}
	for _, d := range doms {
		if strings.HasPrefix(d.Name, prefix) {
			out[d.Name] = d.State
		}
	}
	return out
}

// A lab snapshot pauses every VM, snapshots each and resumes them all;
// reverting brings back the state it had (a powered-off VM runs again)
// and sets each guest's clock.
func TestSnapshotSaveAndRevert(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	ctx := context.Background()
	path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), provisiontest.New("client", "box")
	s := openFake(t, path, hv, g)
	up(t, s, provision.UpRequest{})
	if err := s.SaveSnapshot(ctx, "class1", false); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"sess-client", "sess-box"} {
		if hv.Calls["SuspendDomain:"+d] != 1 || hv.Calls["ResumeDomain:"+d] != 1 || hv.Calls["CreateSnapshot:"+d] != 1 {
			t.Errorf("%s: suspend %d, snapshot %d, resume %d", d, hv.Calls["SuspendDomain:"+d], hv.Calls["CreateSnapshot:"+d], hv.Calls["ResumeDomain:"+d])
		}
	}
	snaps, err := s.Snapshots(ctx)
	if err != nil || len(snaps) != 1 || snaps[0].Name != "class1" || len(snaps[0].VMs) != 2 || len(snaps[0].Missing) != 0 {
		t.Fatalf("snapshots %+v, %v", snaps, err)
	}
	if err := s.SaveSnapshot(ctx, "class1", false); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second save of the same name: %v", err)
	}
	if err := hv.DestroyDomain(ctx, "sess", "sess-box"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevertSnapshot(ctx, "class1"); err != nil {
		t.Fatal(err)
	}
	for d, st := range states(t, hv, "sess-") {
		if st != libvirt.StateRunning {
			t.Errorf("after revert %s is %s", d, st)
		}
	}
	if n := len(hv.AgentCalls); n != 2 || !strings.HasSuffix(hv.AgentCalls[0], "set-time") {
		t.Errorf("agent calls %v, want a clock set per VM", hv.AgentCalls)
	}
	if err := s.DeleteSnapshot(ctx, "class1"); err != nil {
		t.Fatal(err)
	}
	if err := s.RevertSnapshot(ctx, "class1"); err == nil || !strings.Contains(err.Error(), "no snapshot") {
		t.Errorf("revert of a removed snapshot: %v", err)
	}
}

// A snapshot that fails on one VM leaves none behind, and every VM runs.
func TestSnapshotFailureLeavesNothing(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	ctx := context.Background()
	path, hv, g := sessionLab(t, t.TempDir(), 512), fake.New(), provisiontest.New("client", "box")
	s := openFake(t, path, hv, g)
	up(t, s, provision.UpRequest{})
	hv.Fail["CreateSnapshot:sess-client"] = errors.New("disk full")
	if err := s.SaveSnapshot(ctx, "x", false); err == nil || !strings.Contains(err.Error(), "VM client: disk full") {
		t.Fatalf("err = %v", err)
	}
	if snaps, _ := hv.ListSnapshots(ctx, "sess-box"); len(snaps) != 0 {
		t.Errorf("sess-box kept %v", snaps)
	}
	for d, st := range states(t, hv, "sess-") {
		if st != libvirt.StateRunning {
			t.Errorf("%s is %s after a failed snapshot", d, st)
		}
	}
	if err := provision.CheckSnapshotName("up; rm -rf /"); err == nil {
		t.Error("a snapshot name with a shell command accepted")
	}
}

// openCopy opens copy c of the session lab as a class, with an image that
// runs labctl's first boot and the guest agent.
func openCopy(t *testing.T, path, c string, hv *fake.Hypervisor, g *provisiontest.Guests) *provision.Session {
	t.Helper()
	s, err := provision.Open(context.Background(), provision.OpenOptions{
		Load: func(base topology.LoadOptions, _ bool) (*topology.Lab, error) {
			base.Copy = c
			lab, _, diags := topology.Load(path, base)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			return lab, nil
		},
		Connect: func(context.Context, string) (libvirt.Hypervisor, error) { return hv, nil },
		Images: func(name string) (*engine.BaseImage, error) {
			im, err := provisiontest.Image(name)
			im.Firstboot, im.Agent = true, true
			return im, err
		},
		Guests: g,
		Owner:  "tester",
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Copy 2 of a class is cloned from copy 1's "up" snapshot: its disks are
// copies of copy 1's (taken while copy 1 is paused), nothing boots, each
// guest is re-addressed through its agent, and copy 1 runs again after.
func TestUpClonesACopyFromTheFirst(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	ctx := context.Background()
	path, hv := sessionLab(t, t.TempDir(), 512), fake.New()
	g1 := provisiontest.New("client", "box")
	first := openCopy(t, path, "1", hv, g1)
	up(t, first, provision.UpRequest{})
	if err := first.SaveUpSnapshot(ctx, true); err != nil {
		t.Fatal(err)
	}
	g2 := provisiontest.New("client", "box")
	second := openCopy(t, path, "2", hv, g2)
	res := up(t, second, provision.UpRequest{From: first})
	for _, vm := range res.VMs {
		if !vm.Cloned || vm.Error != "" {
			t.Errorf("VM %s: cloned %v, error %q", vm.Name, vm.Cloned, vm.Error)
		}
	}
	if hv.Calls["StartDomain:sess-2-client"] != 0 || hv.Calls["RevertSnapshot:sess-2-client"] != 1 || hv.Calls["SuspendDomain:sess-1-client"] != 2 {
		t.Errorf("calls: start %d, revert %d, source paused %d (once for its snapshot, once for the copy)",
			hv.Calls["StartDomain:sess-2-client"], hv.Calls["RevertSnapshot:sess-2-client"], hv.Calls["SuspendDomain:sess-1-client"])
	}
	if !slices.ContainsFunc(hv.AgentCalls, func(c string) bool {
		return strings.HasPrefix(c, "sess-2-box: /bin/sh -c") && strings.HasSuffix(c, "labctl-readdress eth1")
	}) {
		t.Errorf("no re-address of sess-2-box through the agent: %v", hv.AgentCalls)
	}
	for d, st := range states(t, hv, "sess-") {
		if st != libvirt.StateRunning {
			t.Errorf("%s is %s after the clone", d, st)
		}
	}
	if !g2.Ran("client") {
		t.Error("the clone's roles did not run (they record it as configured)")
	}
	// A copy that exists is not cloned again: up converges it as usual.
	again := up(t, openCopy(t, path, "2", hv, g2), provision.UpRequest{From: first})
	if !again.NoOp {
		t.Errorf("second up of copy 2: %+v", again.VMs)
	}
}
