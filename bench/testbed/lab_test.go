package testbed_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/bench/testbed/testbedtest"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

func newSim(t *testing.T) *testbedtest.Sim {
	t.Helper()
	s := testbedtest.New(rolestest.ThesisLab(topology.LVSNAT))
	t.Cleanup(s.Close)
	return s
}

func TestClusterApplyAndRestore(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	c := &testbed.Variations{Service: s.Service, Hosts: s.Hosts(), Timeout: 5 * time.Second}
	if err := c.Apply(ctx, result.Variation{RealServers: 1, Scheduler: "wlc", Mode: "nat"}); err != nil {
		t.Fatal(err)
	}
	if !s.Apache("web-1") || s.Apache("web-2") || s.Apache("web-3") {
		t.Errorf("rs=1: apache web-1 %v web-2 %v web-3 %v", s.Apache("web-1"), s.Apache("web-2"), s.Apache("web-3"))
	}
	if err := c.Apply(ctx, result.Variation{RealServers: 2, Scheduler: "rr", Mode: "nat"}); err != nil {
		t.Fatal(err)
	}
	if !s.Apache("web-2") || s.Apache("web-3") || s.Scheduler() != "rr" {
		t.Errorf("rs=2 rr: web-2 %v web-3 %v sched %s", s.Apache("web-2"), s.Apache("web-3"), s.Scheduler())
	}
	for _, d := range []string{"director-1", "director-2"} {
		if !slices.Contains(s.Fakes[d].Commands(), "ipvsadm -E -t 192.168.100.200:80 -s rr") {
			t.Errorf("%s: no ipvsadm -E: %q", d, s.Fakes[d].Commands())
		}
	}
	if err := c.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if !s.Apache("web-3") || s.Scheduler() != "wlc" {
		t.Errorf("restore: web-3 %v sched %s", s.Apache("web-3"), s.Scheduler())
	}
	if err := c.Apply(ctx, result.Variation{RealServers: 1, Mode: "dr"}); err == nil || !strings.Contains(err.Error(), "another lab variant") {
		t.Errorf("mode switch: %v", err)
	}
	if err := c.Apply(ctx, result.Variation{RealServers: 4}); err == nil {
		t.Error("4 of 3 real servers accepted")
	}
}

func TestClusterApplyTimesOutOnWrongPool(t *testing.T) {
	s := newSim(t)
	// web-3's Apache does not stop (say, another unit restarts it).
	s.Fakes["web-3"].Reply(`systemctl stop apache2`, "")
	c := &testbed.Variations{Service: s.Service, Hosts: s.Hosts(), Timeout: 700 * time.Millisecond}
	err := c.Apply(context.Background(), result.Variation{RealServers: 2})
	if err == nil || !strings.Contains(err.Error(), "want pool [web-1 web-2]") || !strings.Contains(err.Error(), "[web-1 web-2 web-3]") {
		t.Errorf("err = %v", err)
	}
}

func injector(s *testbedtest.Sim) *testbed.Injector {
	return &testbed.Injector{Lab: s.Lab, Service: s.Service, Hosts: s.Hosts(), Power: s.Power(), RebuildTimeout: 10 * time.Second}
}

func TestInjectDestroyDirectorTakesVIPHolder(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	obs := &testbed.Observer{Hosts: s.Hosts(), Service: s.Service}
	// director-1 lost keepalived earlier: director-2 is the MASTER now.
	if _, err := s.Fakes["director-1"].Run(ctx, "systemctl kill -s SIGKILL keepalived"); err != nil {
		t.Fatal(err)
	}
	in := injector(s)
	f := topology.Fault{Kind: topology.DestroyDirector, Target: "director-1"}
	if err := in.Inject(ctx, f); err != nil {
		t.Fatal(err)
	}
	if !s.Down("director-2") || s.Down("director-1") {
		t.Errorf("destroyed: director-1 %v director-2 %v", s.Down("director-1"), s.Down("director-2"))
	}
	if st := obs.Snapshot(ctx); st.Holder != "" || !slices.Equal(st.Unreachable, []string{"director-2"}) {
		t.Errorf("after destroy: %+v", st)
	}
	if err := in.Revert(ctx, f); err != nil {
		t.Fatal(err)
	}
	n := in.Notes()
	if n["vm"] != "director-2" || n["method"] != testbed.MethodDestroy || n["boot_to_services_sec"] == "" {
		t.Errorf("notes %v", n)
	}
	if s.Down("director-2") || !slices.Equal(s.Reconnects(), []string{"director-2"}) {
		t.Errorf("revert: down %v, reconnects %v", s.Down("director-2"), s.Reconnects())
	}
}

func TestInjectServiceFaults(t *testing.T) {
	for _, tc := range []struct {
		kind   topology.FaultKind
		target string
		broken func(*testbedtest.Sim) bool
	}{
		{topology.StopWeb, "web-2", func(s *testbedtest.Sim) bool { return !s.Apache("web-2") }},
		{topology.DestroyVM, "web-3", func(s *testbedtest.Sim) bool { return s.Down("web-3") }},
		{topology.KillKeepalived, "director-1", func(s *testbedtest.Sim) bool {
			st := (&testbed.Observer{Hosts: s.Hosts(), Service: s.Service}).Snapshot(context.Background())
			return st.Holder == "director-2"
		}},
		{topology.LinkDown, "director-1", func(s *testbedtest.Sim) bool {
			// Cut in libvirt, not in the guest: no `ip link` ran.
			return s.Link("director-1", "eth0") == "down" && !strings.Contains(strings.Join(s.Fakes["director-1"].Commands(), "\n"), "ip link")
		}},
		{topology.StopNFS, "storage", func(s *testbedtest.Sim) bool {
			return slices.Contains(s.Fakes["storage"].Commands(), "systemctl stop nfs-server")
		}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			s := newSim(t)
			in := injector(s)
			f := topology.Fault{Kind: tc.kind, Target: tc.target}
			if err := in.Inject(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			if !tc.broken(s) {
				t.Errorf("%s did not break anything", tc.kind)
			}
			if err := in.Revert(context.Background(), f); err != nil {
				t.Fatal(err)
			}
			st := (&testbed.Observer{Hosts: s.Hosts(), Service: s.Service}).Snapshot(context.Background())
			if st.Holder != "director-1" || len(st.Pool) != 3 {
				t.Errorf("after revert: %+v", st)
			}
			if tc.kind == topology.LinkDown && s.Link("director-1", "eth0") != "up" {
				t.Errorf("link after revert: %q", s.Link("director-1", "eth0"))
			}
		})
	}
}

// LibvirtPower acts only on domains whose labctl metadata names the lab.
func TestLibvirtPowerOwnership(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	web := s.Lab.VM("web-1")
	other := &testbed.LibvirtPower{HV: s.HV, Lab: "someone-else"}
	if _, err := other.Destroy(ctx, web); !errors.Is(err, libvirt.ErrNotOwned) {
		t.Errorf("destroy by another lab: %v", err)
	}
	if _, err := other.SetLink(ctx, web, web.NICs[0], false); !errors.Is(err, libvirt.ErrNotOwned) {
		t.Errorf("link by another lab: %v", err)
	}
	// The lab name derives from the domain name ("thesis-web-1").
	p := &testbed.LibvirtPower{HV: s.HV}
	if m, err := p.Destroy(ctx, web); err != nil || m != testbed.MethodDestroy {
		t.Fatalf("destroy: %q %v", m, err)
	}
	doms, _ := s.HV.ListDomains(ctx)
	for _, d := range doms {
		if (d.Name == web.LibvirtName) != (d.State == libvirt.StateShutoff) {
			t.Errorf("%s is %s", d.Name, d.State)
		}
	}
	// Link changes need a running domain; Start brings it back.
	if _, err := p.SetLink(ctx, web, web.NICs[0], false); err == nil {
		t.Error("link of a powered-off domain set")
	}
	if err := p.Start(ctx, web); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetLink(ctx, web, &topology.NIC{MAC: "52:54:00:ff:ff:ff", Device: "eth9"}, false); !errors.Is(err, libvirt.ErrNotFound) {
		t.Errorf("unknown MAC: %v", err)
	}
}

func TestInjectRAIDMemberRebuild(t *testing.T) {
	s := newSim(t)
	in := injector(s)
	f := topology.Fault{Kind: topology.FailRAIDMember, Target: "storage"}
	ctx := context.Background()
	if err := in.Inject(ctx, f); err != nil {
		t.Fatal(err)
	}
	n := in.Notes()
	if n["device"] != "/dev/vdf" || n["state_after_fail"] != "degraded [5/4 UUUU_]" {
		t.Errorf("notes after inject %v", n)
	}
	if err := in.Revert(ctx, f); err != nil {
		t.Fatal(err)
	}
	n = in.Notes()
	for _, k := range []string{"failed_at", "added_at", "recovery_seen_at", "clean_at", "rebuild_sec"} {
		if n[k] == "" {
			t.Errorf("note %s missing: %v", k, n)
		}
	}
	// The fake lists each part of an && chain as a command of its own.
	cmds := strings.Join(s.Fakes["storage"].Commands(), "\n")
	for _, want := range []string{"mdadm /dev/md/data --fail /dev/vdf", "mdadm /dev/md/data --remove /dev/vdf", "mdadm --zero-superblock /dev/vdf\nmdadm /dev/md/data --add /dev/vdf"} {
		if !strings.Contains(cmds, want) {
			t.Errorf("missing %q in\n%s", want, cmds)
		}
	}
}

func TestInjectUnknownKindAndVM(t *testing.T) {
	in := injector(newSim(t))
	if err := in.Inject(context.Background(), topology.Fault{Kind: "flood", Target: "web-1"}); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Errorf("unknown kind: %v", err)
	}
	if err := in.Inject(context.Background(), topology.Fault{Kind: topology.StopWeb, Target: "web-9"}); err == nil || !strings.Contains(err.Error(), `no VM "web-9"`) {
		t.Errorf("unknown VM: %v", err)
	}
}

func TestAnalyzeCluster(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	full := []string{"web-1", "web-2"}
	states := []testbed.ClusterState{
		{At: at(0), Holder: "director-1", Pool: full, Scheduler: "rr", RAID: "clean"},
		{At: at(500), Holder: "director-1", Pool: full, Scheduler: "rr", RAID: "clean"},
		{At: at(1500), Holder: "", Unreachable: []string{"director-1"}, RAID: "degraded [5/4 UUUU_]"},
		{At: at(3000), Holder: "director-2", Pool: full, Scheduler: "rr", RAID: "recovery 10.0%"},
		{At: at(3500), Holder: "director-2", Pool: []string{"web-2"}, Scheduler: "rr", RAID: "recovery 60.0%"},
		{At: at(6000), Holder: "director-1", Pool: full, Scheduler: "rr", RAID: "clean"},
		{At: at(6500), Holder: "director-1", Pool: full, Scheduler: "rr", RAID: "clean"},
	}
	a := testbed.AnalyzeCluster(states, at(1000), at(5000))
	if !a.VIPMoved || a.NewHolder != "director-2" || a.VIPMovedSec != 2 {
		t.Errorf("VIP: %+v", a)
	}
	if !a.PoolChanged || a.PoolChangedSec != 2.5 || !slices.Equal(a.PoolDuring, []string{"web-2"}) {
		t.Errorf("pool: %+v", a)
	}
	if !a.Restored || a.RestoredSec != 1 {
		t.Errorf("restored: %+v", a)
	}
	var phases []string
	for _, p := range a.RAID {
		phases = append(phases, strings.Fields(p.State)[0])
	}
	if !slices.Equal(phases, []string{"clean", "degraded", "recovery", "clean"}) || a.RAID[2].Sec != 2 {
		t.Errorf("raid phases %v %+v", phases, a.RAID)
	}
	// Nothing happened: nothing moved, restored at once.
	quiet := testbed.AnalyzeCluster(states[:2], at(100), at(400))
	if quiet.VIPMoved || quiet.PoolChanged || !quiet.Restored || quiet.RestoredSec != 0 {
		t.Errorf("quiet: %+v", quiet)
	}
}

func TestParseFlags(t *testing.T) {
	if f, err := testbed.ParseFault("destroy_vm:web-1"); err != nil || f.Kind != "destroy_vm" || f.Target != "web-1" {
		t.Errorf("%+v %v", f, err)
	}
	for _, bad := range []string{"destroy_vm", "melt:web-1", ":web-1"} {
		if _, err := testbed.ParseFault(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if n, err := testbed.ParseInts("1, 2,3"); err != nil || !slices.Equal(n, []int{1, 2, 3}) {
		t.Errorf("%v %v", n, err)
	}
	if _, err := testbed.ParseInts("1,x"); err == nil {
		t.Error("1,x accepted")
	}
}
