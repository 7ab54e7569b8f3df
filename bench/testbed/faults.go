package testbed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/stats"
	"github.com/labctl/labctl/topology"
)

// runFaults injects each of the experiment's faults Repeat times. Every
// repetition is a whole Scenario: injected, reverted, and watched until
// the cluster is as before (bounded by FaultRecover). A repetition that
// ends with the cluster not as before, or with the service down for
// good, stops the run: the next one would not start from the same state.
func (b *Bench) runFaults(ctx context.Context, e *topology.Experiment, svc *topology.LVSService, dir string, run *result.Run) error {
	inj := &Injector{Lab: b.Lab, Service: svc, Hosts: b.Hosts, Power: b.Power, Progress: b.stepf}
	r := &FaultRunner{Service: svc, Hosts: b.Hosts, Client: e.Client.Name, Injector: inj, Verify: b.Verify, Progress: b.stepf}
	hold := b.FaultHold
	if hold <= 0 {
		hold = 10 * time.Second
	}
	recoverFor := b.FaultRecover
	if recoverFor <= 0 {
		recoverFor = time.Minute
	}
	repeats := max(e.Repeat, 1)
	var notes []string
	if run.Notes != "" {
		notes = append(notes, run.Notes)
	}
	var errs []error
faults:
	for i, f := range e.Faults {
		for k := 1; k <= repeats; k++ {
			b.logf("fault %d/%d %s:%s%s (hold %v)", i+1, len(e.Faults), f.Kind, f.Target, ofRepeats(k, repeats), hold)
			out, rep, err := r.Run(ctx, FaultScenario{
				Fault: f, Hold: hold, After: b.FaultAfter, Recover: recoverFor,
				Probe: fault.ProberConfig{URL: ServiceURL(svc), Interval: b.ProbeInterval, Timeout: b.ProbeTimeout},
			})
			num := len(run.Faults) + 1 // raw/fault-N-*: N-th entry of run.Faults
			if out != nil {
				fr := result.FaultResult{Outcome: *out, Index: i + 1, Repeat: k}
				if rep != nil && !rep.Cluster.Before.At.IsZero() {
					restored := rep.Cluster.Restored
					fr.ClusterRestored, fr.ClusterRestoredSec = &restored, rep.Cluster.RestoredSec
				}
				run.Faults = append(run.Faults, fr)
			}
			if rep != nil {
				if raw, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
					if _, werr := result.WriteRaw(dir, fmt.Sprintf("fault-%d-lab.json", num), raw); werr != nil {
						errs = append(errs, werr)
					}
				}
				if out != nil {
					line := FaultSummary(i+1, k, repeats, out, rep)
					notes = append(notes, line)
					b.logf("  %s", line)
				}
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("fault %s:%s%s: %w", f.Kind, f.Target, ofRepeats(k, repeats), err))
				break faults // the lab may not be in the state the next fault expects
			}
			if k < repeats && out != nil {
				if why := notBack(&run.Faults[len(run.Faults)-1]); why != "" {
					errs = append(errs, fmt.Errorf("fault %s:%s%s: %s %v after the revert (--fault-recover): %d repetitions skipped",
						f.Kind, f.Target, ofRepeats(k, repeats), why, recoverFor, repeats-k))
					break faults
				}
			}
		}
	}
	var err error
	if run.FaultStats, err = result.SummarizeFaults(run.Faults, repeats); err != nil {
		errs = append(errs, err)
	}
	for _, s := range run.FaultStats {
		line := FaultStatsSummary(&s)
		notes = append(notes, line)
		b.logf("%s", line)
	}
	run.Notes = strings.Join(notes, "\n")
	return errors.Join(errs...)
}

// notBack says why the lab is not as before the repetition ("" = it is):
// the cluster was not restored, or the service never answered again.
func notBack(fr *result.FaultResult) string {
	if fr.ClusterRestored != nil && !*fr.ClusterRestored {
		return "the cluster was not as before"
	}
	if !result.RepetitionOf(fr).Recovered {
		return "the service did not answer"
	}
	return ""
}

func ofRepeats(k, n int) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(" repetition %d/%d", k, n)
}

// FaultSummary is one line per fault repetition (k of n) for the run's
// notes and the console.
func FaultSummary(num, k, n int, out *fault.Outcome, rep *FaultReport) string {
	a := out.During
	s := fmt.Sprintf("fault %d %s%s", num, out.Fault.Kind, ofRepeats(k, n))
	if vm := rep.Notes["vm"]; vm != "" {
		s += " on " + vm
	}
	if m := rep.Notes["method"]; m != "" {
		s += " (" + m + ")"
	}
	s += fmt.Sprintf(": outage %.2fs, %d failed probes", a.Outage, a.Failed)
	c := rep.Cluster
	if c.VIPMoved {
		s += fmt.Sprintf(", VIP → %s after %.2fs", c.NewHolder, c.VIPMovedSec)
	}
	if c.PoolChanged {
		s += fmt.Sprintf(", pool → [%s] after %.2fs", strings.Join(c.PoolDuring, ","), c.PoolChangedSec)
	}
	if c.Restored && (c.VIPMoved || c.PoolChanged) {
		s += fmt.Sprintf(", restored %.2fs after revert", c.RestoredSec)
	}
	if !c.Restored && !c.Before.At.IsZero() {
		s += ", cluster not as before at the end"
	}
	if v := rep.Notes["rebuild_sec"]; v != "" {
		s += ", RAID rebuild " + v + "s"
	}
	if v := rep.Notes["resources_on"]; v != "" {
		s += ", Pacemaker resources then on " + v
	}
	if v := rep.Notes["boot_to_services_sec"]; v != "" {
		s += ", reboot to services " + v + "s"
	}
	if out.Revert != nil && out.Revert.Failed > 0 {
		s += fmt.Sprintf(", %d failed probes after revert (outage %.2fs)", out.Revert.Failed, out.Revert.Outage)
	}
	return s
}

// FaultStatsSummary is one line per fault over its repetitions.
func FaultStatsSummary(s *result.FaultStats) string {
	line := fmt.Sprintf("fault %d %s:%s over %s: outage %s", s.Index, s.Fault.Kind, s.Fault.Target,
		plural(len(s.Repetitions), "repetition"), meanCI(s.Outage))
	if s.MTTR != nil {
		line += ", MTTR " + meanCI(*s.MTTR)
	} else {
		line += ", MTTR – (no repetition failed and recovered)"
	}
	if s.Probes > 0 {
		line += fmt.Sprintf(", availability %.2f%% (%d of %d probes)", 100*s.Availability, s.OKProbes, s.Probes)
	}
	if s.NotRecovered > 0 {
		line += fmt.Sprintf(", %d not recovered", s.NotRecovered)
	}
	if s.NotRestored > 0 {
		line += fmt.Sprintf(", %d with the cluster not as before", s.NotRestored)
	}
	if n := s.Skipped(); n > 0 {
		line += fmt.Sprintf(", %d skipped", n)
	}
	return line
}

// meanCI is "2.60s ± 1.24s (95% CI)", or "2.60s (n = 1, no interval)".
func meanCI(s stats.Summary) string {
	if s.N < 2 {
		return fmt.Sprintf("%.2fs (%s)", s.Mean, s.Interval(""))
	}
	return fmt.Sprintf("%.2fs %s (%.0f%% CI)", s.Mean, s.Interval("%.2fs"), 100*s.Level)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
