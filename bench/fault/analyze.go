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
	// Outage is the first outage in the window: LastOKBefore →
	// FirstOKAfter (the first success after FirstFailAfter, searched past
	// Until so that an outage ended by the revert is measured whole) when
	// a probe failed after FaultAt; 0 otherwise. It starts at the last
	// success before the first failure, wherever that falls: a failback
	// blip minutes after the revert is measured as the blip, not from the
	// revert. When the service was already down at FaultAt (Ongoing: the
	// previous window's outage went on), it is counted from FaultAt, so a
	// window never re-counts its predecessor's outage. Its resolution is
	// the probe interval.
	Outage float64 `json:"outage_sec"`
	// LastOKBefore is the last success sent before FirstFailAfter (before
	// FaultAt when nothing failed).
	LastOKBefore   *time.Time `json:"last_ok_before,omitempty"`
	FirstFailAfter *time.Time `json:"first_fail_after,omitempty"`
	FirstOKAfter   *time.Time `json:"first_ok_after,omitempty"`
	Ongoing        bool       `json:"ongoing,omitempty"`
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
	var lastBefore *Probe // last probe completed by faultAt
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
			if lastBefore == nil || !done(p).Before(done(lastBefore)) {
				lastBefore = p
			}
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
		// The outage starts at the last success sent before the first
		// failure, whichever window it completed in: with slow probes
		// overlapping, a success sent after the failing probe may still
		// complete before the fault, and must not start the outage (it
		// would come out negative).
		a.LastOKBefore = nil
		for i := range probes {
			p := &probes[i]
			if p.OK && !done(p).After(until) && p.At.Before(*a.FirstFailAfter) && (a.LastOKBefore == nil || p.At.After(*a.LastOKBefore)) {
				at := p.At
				a.LastOKBefore = &at
			}
		}
		a.Ongoing = lastBefore != nil && !lastBefore.OK && !a.FirstFailAfter.After(firstAt(after))
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
	switch {
	case a.FirstOKAfter == nil:
	case a.Ongoing:
		// Down from the start of the window: the previous window counted
		// the rest.
		a.Outage = max(0, a.FirstOKAfter.Sub(faultAt).Seconds())
	case a.LastOKBefore == nil:
		// No success seen before: from the fault, or from the failing
		// probe if it was sent before the fault.
		start := faultAt
		if a.FirstFailAfter.Before(start) {
			start = *a.FirstFailAfter
		}
		a.Outage = a.FirstOKAfter.Sub(start).Seconds()
	default:
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

func firstAt(ps []Probe) time.Time {
	if len(ps) == 0 {
		return time.Time{}
	}
	return ps[0].At
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
