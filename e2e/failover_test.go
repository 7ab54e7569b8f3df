//go:build e2e

package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
)

// checkFailover asserts one repetition of master_failover: director-1
// powered off through libvirt, a finite outage, the VIP on the other
// director, no failure from the recovery to the revert, and after the
// revert the service answering and the cluster as before.
func checkFailover(t *testing.T, f *result.FaultResult, rep *testbed.FaultReport) {
	t.Helper()
	d, c := f.During, rep.Cluster
	t.Logf("FIGURE lvs-nat-ha failover %d: %s on %s, outage %.2fs (%d failed probes of %d), VIP %s → %s after %.2fs, restored %.2fs after revert, reboot to services %ss",
		f.Repeat, rep.Notes["method"], rep.Notes["vm"], d.Outage, d.Failed, d.Probes, c.Before.Holder, c.NewHolder, c.VIPMovedSec, c.RestoredSec, rep.Notes["boot_to_services_sec"])
	if rep.Notes["method"] != testbed.MethodDestroy {
		t.Errorf("repetition %d: director powered off by %q, want %q", f.Repeat, rep.Notes["method"], testbed.MethodDestroy)
	}
	// A finite outage window: the service failed and answered again.
	if d.FirstFailAfter == nil || d.FirstOKAfter == nil || d.Outage <= 0 || !d.Recovered {
		t.Errorf("repetition %d: outage window: %+v", f.Repeat, d)
	}
	if !c.VIPMoved || c.NewHolder == c.Before.Holder || c.NewHolder == "" {
		t.Errorf("repetition %d: VIP did not move: %+v\nwatched: %s", f.Repeat, c, strings.Join(stateChanges(rep), "; "))
	}
	// Zero errors after recovery: none from the end of the outage while
	// director-2 serves, up to the revert.
	if d.FirstOKAfter != nil {
		if n := failedBetween(f, *d.FirstOKAfter, revertStart(f)); n != 0 {
			t.Errorf("repetition %d: %d failed probes after the service recovered, before the revert", f.Repeat, n)
		}
	}
	// The revert boots director-1, which preempts (MASTER, higher
	// priority): the VIP moves back, which may cost a blip of a probe or
	// two (measured, not asserted); the service must answer at the end
	// and the cluster be as before, or the next repetition would not
	// start from the same state.
	r := f.Revert
	if r == nil || !r.Recovered || (r.Failed > 0 && r.FirstOKAfter == nil) {
		t.Errorf("repetition %d: after the revert: %+v", f.Repeat, r)
	} else {
		t.Logf("FIGURE lvs-nat-ha failback %d: %d failed probes, outage %.2fs", f.Repeat, r.Failed, r.Outage)
	}
	if !c.Restored || f.ClusterRestored == nil || !*f.ClusterRestored {
		t.Errorf("repetition %d: VIP holder and pool not back after the revert: %+v (results: %v)\nwatched: %s",
			f.Repeat, c, f.ClusterRestored, strings.Join(stateChanges(rep), "; "))
	}
}

// checkFaultStats asserts the run's statistics of its one fault over n
// repetitions: n outages, a mean with a 95 % CI, an MTTR with its CI,
// and an availability below 1 (the outages) but above 0.
func checkFaultStats(t *testing.T, r benchRun, n int) {
	t.Helper()
	if len(r.Run.FaultStats) != 1 {
		t.Fatalf("run %s: fault stats %+v, want one fault", r.Dir, r.Run.FaultStats)
	}
	s := r.Run.FaultStats[0]
	t.Logf("FIGURE lvs-nat-ha %s", testbed.FaultStatsSummary(&s))
	if len(s.Repetitions) != n || s.Asked != n || s.Outage.N != n {
		t.Errorf("%d repetitions of %d asked, outage over %d, want %d", len(s.Repetitions), s.Asked, s.Outage.N, n)
	}
	for _, rp := range s.Repetitions {
		if rp.OutageSec <= 0 || !rp.Failed || !rp.Recovered || rp.RepairSec <= 0 {
			t.Errorf("repetition %+v: want an outage that was repaired", rp)
		}
	}
	o := s.Outage
	if o.HalfWidth <= 0 || o.CILow >= o.Mean || o.CIHigh <= o.Mean || o.Level != 0.95 {
		t.Errorf("outage %+v: want a 95%% CI around the mean", o)
	}
	if s.MTTR == nil || s.MTTR.N != n || s.MTTR.HalfWidth <= 0 {
		t.Errorf("MTTR %+v, want a mean and CI over %d repetitions", s.MTTR, n)
	}
	if !(s.Availability > 0 && s.Availability < 1) || s.Probes == 0 || s.NotRecovered != 0 || s.NotRestored != 0 {
		t.Errorf("availability %v (%d of %d probes), not recovered %d, not restored %d", s.Availability, s.OKProbes, s.Probes, s.NotRecovered, s.NotRestored)
	}
}

// checkFaultStatsReport asserts that the markdown report has the fault
// statistics row of r (n repetitions, a CI "low – high" for the outage
// and the MTTR), one faults row per repetition, and that the HTML page
// has the table and one timeline per repetition.
func checkFaultStatsReport(t *testing.T, md, html string, r benchRun, n int) {
	t.Helper()
	if !strings.Contains(md, "## Fault statistics — "+r.Run.ID) || !strings.Contains(html, "Fault statistics — "+r.Run.ID) {
		t.Errorf("report lacks the fault statistics of %s", r.Run.ID)
	}
	f := r.Run.FaultStats
	if len(f) == 0 {
		return
	}
	num := `-?[0-9]+\.[0-9]{2}`
	row := regexp.MustCompile(fmt.Sprintf(`\| %s:%s \| %d \| %s \| %s – %s \| %s \| %s – %s \| [0-9.]+%% \(`,
		regexp.QuoteMeta(string(f[0].Fault.Kind)), regexp.QuoteMeta(f[0].Fault.Target), n, num, num, num, num, num, num))
	if !row.MatchString(md) {
		t.Errorf("markdown report lacks a statistics row with %d repetitions and CIs (%s)", n, row)
	}
	for k := 1; k <= n; k++ {
		if !strings.Contains(html, fmt.Sprintf("— %s:%s — repetition %d", f[0].Fault.Kind, f[0].Fault.Target, k)) {
			t.Errorf("html report lacks the timeline of repetition %d", k)
		}
	}
}
