package fault

import (
	"slices"
	"time"
)

// Analysis is what a fault did to the service, from a probe timeline.
// Times are probe send times; durations are in seconds. A probe belongs to
// the window in which it completed: before the fault, between the fault and
// Until, or after Until.
type Analysis struct {
	FaultAt time.Time `json:"fault_at"`
	Until   time.Time `json:"until"` // end of the analysed window (revert or end of timeline)
	Probes  int       `json:"probes"`
	// Failed counts failed probes in (FaultAt, Until]; BaselineFailed those
	// before the fault (should be 0 for a healthy service).
	Failed         int `json:"failed"`
	BaselineFailed int `json:"baseline_failed"`
	// Outage is LastOKBefore → FirstOKAfter (the first success after the
	// first failure, searched past Until so that an outage ended by the
	// revert is measured whole) when a probe failed after the fault; 0
	// otherwise. Its resolution is the probe interval.
	Outage         float64    `json:"outage_sec"`
	LastOKBefore   *time.Time `json:"last_ok_before,omitempty"`
	FirstFailAfter *time.Time `json:"first_fail_after,omitempty"`
	FirstOKAfter   *time.Time `json:"first_ok_after,omitempty"`
	// Recovery is FaultAt → first probe of the final run of successes
	// before Until; 0 when nothing failed. Recovered is false when the last
	// probe before Until failed.
	Recovered bool    `json:"recovered"`
	Recovery  float64 `json:"recovery_sec"`
	// Backends seen by successful probes in the Window before the fault
	// and the Window before Until; BackendsChange needs successes in both.
	BackendsBefore []string `json:"backends_before"`
	BackendsAfter  []string `json:"backends_after"`
	BackendsChange bool     `json:"backends_changed"`
	// BackendChange is FaultAt → first probe of the final run of probes
	// that succeeded on a backend of BackendsAfter (the new set is in
	// force); 0 when the set did not change.
	BackendChange float64 `json:"backend_change_sec"`
	WindowSec     float64 `json:"window_sec"`
}

// Analyze computes an Analysis of probes (in send order) for a fault at
// faultAt, looking at probes completed up to until (zero = all) and using
// window to decide the backend sets (0 = 1 s).
func Analyze(probes []Probe, faultAt, until time.Time, window time.Duration) Analysis {
	if window <= 0 {
		window = time.Second
	}
	done := func(p *Probe) time.Time { return p.At.Add(time.Duration(p.LatencyMs * float64(time.Millisecond))) }
	if until.IsZero() {
		for i := range probes {
			if d := done(&probes[i]); d.After(until) {
				until = d
			}
		}
	}
	a := Analysis{FaultAt: faultAt, Until: until, WindowSec: window.Seconds()}
	var after, beyond []Probe // completed in (faultAt, until], after until
	before := map[string]bool{}
	for i := range probes {
		p := &probes[i]
		switch {
		case done(p).After(until):
			beyond = append(beyond, *p)
		case done(p).After(faultAt): // in flight at the fault time: the fault's
			a.Probes++
			after = append(after, *p)
		default:
			a.Probes++
			if !p.OK {
				a.BaselineFailed++
				continue
			}
			at := p.At
			a.LastOKBefore = &at
			if !p.At.Before(faultAt.Add(-window)) {
				before[p.Backend] = true
			}
		}
	}
	// The outage may end only after Until (e.g. by the revert).
	a.FirstFailAfter = firstFail(after)
	if a.FirstFailAfter != nil {
		if a.FirstOKAfter = firstOK(after, *a.FirstFailAfter); a.FirstOKAfter == nil {
			a.FirstOKAfter = firstOK(beyond, *a.FirstFailAfter)
		}
	}
	afterSet := map[string]bool{}
	for _, p := range after {
		if !p.OK {
			a.Failed++
		}
		if p.OK && p.At.After(until.Add(-window)) {
			afterSet[p.Backend] = true
		}
	}
	if a.FirstFailAfter != nil && a.FirstOKAfter != nil && a.LastOKBefore != nil {
		a.Outage = a.FirstOKAfter.Sub(*a.LastOKBefore).Seconds()
	}

	// Final run of successes: walk back from the last probe.
	a.Recovered = len(after) == 0 || after[len(after)-1].OK
	if a.Failed > 0 && a.Recovered {
		i := len(after) - 1
		for i > 0 && after[i-1].OK {
			i--
		}
		a.Recovery = after[i].At.Sub(faultAt).Seconds()
	}

	a.BackendsBefore, a.BackendsAfter = keys(before), keys(afterSet)
	// No success at the end means the service is down, not that the set
	// changed.
	a.BackendsChange = len(afterSet) > 0 && !slices.Equal(a.BackendsBefore, a.BackendsAfter)
	if a.BackendsChange && len(after) > 0 {
		i := len(after)
		for i > 0 && after[i-1].OK && afterSet[after[i-1].Backend] {
			i--
		}
		if i < len(after) {
			a.BackendChange = after[i].At.Sub(faultAt).Seconds()
		}
	}
	return a
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func firstFail(ps []Probe) *time.Time {
	for _, p := range ps {
		if !p.OK {
			at := p.At
			return &at
		}
	}
	return nil
}

func firstOK(ps []Probe, after time.Time) *time.Time {
	for _, p := range ps {
		if p.OK && p.At.After(after) {
			at := p.At
			return &at
		}
	}
	return nil
}
