package testbed_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/topology"
)

func TestScenarioStopWebOnClientProber(t *testing.T) {
	s := newSim(t)
	s.ClockSkew = 1500 * time.Millisecond // the guest clock runs ahead
	// One real server left: stopping it is an outage.
	c := &testbed.Variations{Service: s.Service, Hosts: s.Hosts(), Timeout: 5 * time.Second}
	ctx := context.Background()
	if err := c.Apply(ctx, result.Variation{RealServers: 1}); err != nil {
		t.Fatal(err)
	}
	r := &testbed.FaultRunner{Service: s.Service, Hosts: s.Hosts(), Client: "client", Injector: injector(s)}
	start := time.Now()
	out, rep, err := r.Run(ctx, testbed.FaultScenario{
		Fault:  topology.Fault{Kind: topology.StopWeb, Target: "web-1"},
		Probe:  fault.ProberConfig{URL: "http://192.168.100.200/", Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond},
		Before: 300 * time.Millisecond, Hold: 600 * time.Millisecond, After: 300 * time.Millisecond, Watch: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Probes) < 30 || out.During.Failed < 10 || out.During.Recovered || out.During.Outage < 0.5 {
		t.Errorf("probes %d, during %+v", len(out.Probes), out.During)
	}
	// Probe times are on this host's clock despite the guest's skew.
	if first := out.Probes[0].At; first.Before(start.Add(-200*time.Millisecond)) || first.After(start.Add(500*time.Millisecond)) {
		t.Errorf("first probe at %v, scenario started %v", first, start)
	}
	if rep.Clock.OffsetMs < 1400 || rep.Clock.OffsetMs > 1600 {
		t.Errorf("clock %+v", rep.Clock)
	}
	// A probe in flight while Apache restarts may fail on a loaded host;
	// what matters is that the service answers again after the revert.
	if out.Revert == nil || !out.Revert.Recovered {
		t.Errorf("after revert: %+v", out.Revert)
	}
	cl := rep.Cluster
	if !cl.PoolChanged || len(cl.PoolDuring) != 0 || !cl.Restored || cl.VIPMoved {
		t.Errorf("cluster %+v", cl)
	}
	if rep.Notes["vm"] != "web-1" || len(rep.Timeline) < 10 {
		t.Errorf("notes %v, %d states", rep.Notes, len(rep.Timeline))
	}
	if line := testbed.FaultSummary(1, 1, 1, out, rep); !strings.Contains(line, "fault 1 stop_web on web-1") || !strings.Contains(line, "pool → []") {
		t.Errorf("summary %q", line)
	}
}

// A real server the health check takes back seconds after the revert:
// the observation goes on until the pool is whole again (bounded by
// Recover), so the report says restored and when.
func TestScenarioWaitsUntilRestored(t *testing.T) {
	for _, tc := range []struct {
		name     string
		recover  time.Duration
		restored bool
	}{
		{"back within Recover", 5 * time.Second, true},
		{"not back within Recover", 400 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSim(t)
			s.HealthLag = 1500 * time.Millisecond
			r := &testbed.FaultRunner{Service: s.Service, Hosts: s.Hosts(), Client: "client", Injector: injector(s)}
			start := time.Now()
			_, rep, err := r.Run(context.Background(), testbed.FaultScenario{
				Fault:  topology.Fault{Kind: topology.StopWeb, Target: "web-1"},
				Probe:  fault.ProberConfig{URL: "http://192.168.100.200/", Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond},
				Before: 200 * time.Millisecond, Hold: 300 * time.Millisecond, After: 100 * time.Millisecond,
				Recover: tc.recover, Watch: 50 * time.Millisecond,
			})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			cl := rep.Cluster
			if !cl.PoolChanged || slices.Contains(cl.PoolDuring, "web-1") || cl.Restored != tc.restored {
				t.Fatalf("cluster %+v", cl)
			}
			if tc.restored && cl.RestoredSec < 1.4 {
				t.Errorf("restored %.2fs after the revert, want ≥ the 1.5 s health lag", cl.RestoredSec)
			}
			if !tc.restored && took > 5*time.Second {
				t.Errorf("scenario took %v with Recover %v", took, tc.recover)
			}
		})
	}
}

// A powered-off director's SSH calls hang until they time out: the watch
// must still see the other director take the VIP at once, not after the
// hung call, and must not report both as holders.
func TestWatchIsNotHeldBackByADeadDirector(t *testing.T) {
	s := newSim(t)
	// Scaled down: VRRP fails over after 0.6 s, the watch gives up on a
	// pending call after 0.3 s, a dead VM's SSH call hangs for 2 s.
	s.DownHang, s.FailoverLag = 2*time.Second, 600*time.Millisecond
	r := &testbed.FaultRunner{Service: s.Service, Hosts: s.Hosts(), Client: "client", Injector: injector(s)}
	out, rep, err := r.Run(context.Background(), testbed.FaultScenario{
		Fault:  topology.Fault{Kind: topology.DestroyDirector, Target: "director-1"},
		Probe:  fault.ProberConfig{URL: "http://192.168.100.200/", Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond},
		Before: 300 * time.Millisecond, Hold: 3 * time.Second, After: 300 * time.Millisecond, Watch: 50 * time.Millisecond,
		Patience: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := rep.Cluster
	if !cl.VIPMoved || cl.NewHolder != "director-2" || cl.VIPMovedSec < 0.55 || cl.VIPMovedSec > 1.3 || !cl.Restored {
		t.Errorf("cluster %+v, want the VIP on director-2 after the 0.6 s failover, before the 2 s hang ends, and restored", cl)
	}
	// Times count from the destroy itself, not from the start of Inject
	// (which first asks the directors who holds the VIP).
	if ev := out.Events[0]; ev.Name != "inject" || ev.Effective.Before(ev.Start) || ev.Effective.After(ev.End) {
		t.Errorf("inject event %+v: effective time outside the call", ev)
	}
	sawDead := false
	for _, st := range rep.Timeline {
		if strings.Contains(st.Holder, ",") {
			t.Errorf("split brain reported at %v: %+v", st.At, st)
		}
		sawDead = sawDead || slices.Contains(st.Unreachable, "director-1")
	}
	if !sawDead {
		t.Error("the powered-off director was never reported unreachable")
	}
}

// keepalived killed on the MASTER: it keeps the VIP while the BACKUP
// takes it too. Both keep answering, so the watch must show both holders.
func TestWatchShowsASplitBrain(t *testing.T) {
	s := newSim(t)
	s.KeepVIPOnKill, s.FailoverLag = true, 300*time.Millisecond
	r := &testbed.FaultRunner{Service: s.Service, Hosts: s.Hosts(), Client: "client", Injector: injector(s)}
	_, rep, err := r.Run(context.Background(), testbed.FaultScenario{
		Fault:  topology.Fault{Kind: topology.KillKeepalived, Target: "director-1"},
		Probe:  fault.ProberConfig{URL: "http://192.168.100.200/", Interval: 20 * time.Millisecond, Timeout: 500 * time.Millisecond},
		Before: 300 * time.Millisecond, Hold: time.Second, After: 300 * time.Millisecond, Watch: 50 * time.Millisecond,
		Patience: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	split := 0
	for _, st := range rep.Timeline {
		if st.Holder == "director-1,director-2" {
			split++
		}
	}
	if split < 5 {
		t.Errorf("%d of %d states show the split brain", split, len(rep.Timeline))
	}
	if cl := rep.Cluster; !cl.VIPMoved || !strings.Contains(cl.NewHolder, "director-2") || !cl.Restored {
		t.Errorf("cluster %+v", cl)
	}
}
