package report

import (
	"fmt"
	"strings"

	"github.com/labctl/labctl/bench/result"
)

// faultStatsTable has one row per fault of the experiment, over its
// repetitions.
func faultStatsTable(r *result.Run) table {
	t := table{Title: "Fault statistics — " + r.ID,
		Note: "Per fault over its repetitions (each injected, reverted and watched until the cluster was as before): " +
			"outage mean with Student-t 95% CI; MTTR: mean time from the fault taking effect to the first successful probe after the first failed one, " +
			"over the repetitions that failed and recovered; availability: successful probes / all probes of the repetitions.",
		Header: []string{"Fault", "Repetitions", "Outage mean s", "Outage 95% CI", "MTTR s", "MTTR 95% CI", "Availability", "Not recovered", "Cluster not as before"}}
	for _, s := range r.FaultStats {
		reps := fmt.Sprint(len(s.Repetitions))
		if n := s.Skipped(); n > 0 {
			reps = fmt.Sprintf("%d of %d (%d skipped)", len(s.Repetitions), s.Asked, n)
		}
		mttr, mttrCI := "–", "no repetition failed and recovered"
		if s.MTTR != nil {
			mttr, mttrCI = f2(s.MTTR.Mean), ciRange(*s.MTTR, f2)
		}
		avail := "–"
		if s.Probes > 0 {
			avail = fmt.Sprintf("%s (%d of %d probes)", pct(s.Availability), s.OKProbes, s.Probes)
		}
		t.Rows = append(t.Rows, []string{string(s.Fault.Kind) + ":" + s.Fault.Target, reps, f2(s.Outage.Mean), ciRange(s.Outage, f2),
			mttr, mttrCI, avail, fmt.Sprint(s.NotRecovered), fmt.Sprint(s.NotRestored)})
	}
	return t
}

// faultsTable has one row per repetition of each fault.
func faultsTable(r *result.Run) table {
	t := table{Title: "Faults — " + r.ID,
		Note: "Outage: last successful probe before the fault to the first success after the first failure. " +
			"Recovery: fault to the first probe of the final run of successes before the revert. " +
			"Repair: fault to the first success after the first failure, revert included (its mean is the MTTR). Probe interval bounds the resolution.",
		Header: []string{"Fault", "Rep", "Outage s", "Failed probes", "Recovered", "Recovery s", "Backends before → during", "Set change s", "Failed after revert", "Repair s", "Cluster as before"}}
	for _, f := range r.Faults {
		a := f.During
		rec := "no"
		if a.Recovered {
			rec = "yes"
		}
		change := ""
		if a.BackendsChange {
			change = fmt.Sprintf("%.2f", a.BackendChange)
		}
		after := ""
		if f.Revert != nil {
			after = fmt.Sprint(f.Revert.Failed)
		}
		repair := "" // nothing failed
		if rp := result.RepetitionOf(&f); !rp.Recovered {
			repair = "never"
		} else if rp.Failed {
			repair = f2(rp.RepairSec)
		}
		restored := ""
		if f.ClusterRestored != nil {
			restored = "no"
			if *f.ClusterRestored {
				restored = fmt.Sprintf("yes, %.2f s after revert", f.ClusterRestoredSec)
			}
		}
		t.Rows = append(t.Rows, []string{string(f.Fault.Kind) + ":" + f.Fault.Target, fmt.Sprint(max(f.Repeat, 1)), fmt.Sprintf("%.2f", a.Outage), fmt.Sprint(a.Failed), rec,
			fmt.Sprintf("%.2f", a.Recovery), strings.Join(a.BackendsBefore, ",") + " → " + strings.Join(a.BackendsAfter, ","), change, after, repair, restored})
	}
	return t
}
