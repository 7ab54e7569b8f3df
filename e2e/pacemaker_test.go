//go:build e2e

package e2e

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
)

// ldirectordKills runs the thesis' Prueba 4 with labctl bench: kill -9
// ldirectord on the active director three times. With migration_threshold
// 3, Pacemaker restarts it in place after the first two kills and moves
// the whole group (VIPs and ldirectord) to the other director at the
// third; the service keeps answering through the VIP.
func ldirectordKills(t *testing.T, ctx context.Context, l *lab, lab *topology.Lab) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	svc := lab.LVS[0]
	if svc.Stack != topology.StackPacemaker || svc.MigrationThreshold != 3 {
		t.Fatalf("lab %s: stack %s, migration_threshold %d; want pacemaker and 3", l.name, svc.Stack, svc.MigrationThreshold)
	}
	first, second := svc.Directors[0].Name, svc.Directors[1].Name
	cli := quietCLI(t, func(args ...string) *exec.Cmd { return labctlCmd(ctx, args...) })
	start := time.Now()
	runs := runBench(t, cli, "bench", l.dir, "prueba4_ldirectord_kills", "--repeat", "3", "--tool", "builtin",
		"--duration", "3s", "--concurrency", "4", "--fault-hold", "5s", "--fault-after", "3s", "--verify=false", "--results", t.TempDir())
	t.Logf("FIGURE thesis-pacemaker bench wall %.1fs (prueba4_ldirectord_kills, 3 kills)", time.Since(start).Seconds())
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1", len(runs))
	}
	r := runs[0]
	if n := len(r.Run.Faults); n != 3 {
		t.Fatalf("run %s: %d fault results, want 3 kills", r.Dir, n)
	}
	for i := range r.Run.Faults {
		f := &r.Run.Faults[i]
		rep := readFaultReport(t, r.Dir, i+1)
		want := first
		if i == 2 {
			want = second // the third failure reaches migration_threshold
		}
		rp := result.RepetitionOf(f)
		t.Logf("FIGURE thesis-pacemaker kill %d on %s: resources then on %s; outage %.2fs, %d of %d probes answered",
			i+1, rep.Notes["vm"], rep.Notes["resources_on"], rp.OutageSec, rp.OK, rp.Probes)
		if rep.Notes["vm"] != first {
			t.Errorf("kill %d hit %q, want the active director %s", i+1, rep.Notes["vm"], first)
		}
		if got := rep.Notes["resources_on"]; got != want {
			t.Errorf("after kill %d the resources run on %q, want %s", i+1, got, want)
		}
		if !rp.Recovered {
			t.Errorf("kill %d: the service did not answer again through the VIP", i+1)
		}
	}
}
