package fault

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// timeline builds probes every 50 ms from pattern: '1'/'2' = OK from web-1
// or web-2, 'x' = failed.
func timeline(t0 time.Time, pattern string) []Probe {
	ps := make([]Probe, len(pattern))
	for i, c := range pattern {
		ps[i] = Probe{Seq: i, At: t0.Add(time.Duration(i) * 50 * time.Millisecond)}
		if c != 'x' {
			ps[i].OK, ps[i].Status, ps[i].Backend = true, 200, "web-"+string(c)
		} else {
			ps[i].Err = "connection refused"
		}
	}
	return ps
}

func TestAnalyzeDirectorFailover(t *testing.T) {
	t0 := time.Unix(1000, 0)
	// Probes 0..19 fine, fault at probe 20's time (1.0 s), probes 20..29
	// fail, 30.. fine again on the same two backends.
	ps := timeline(t0, "1212121212121212121212"[:20]+"xxxxxxxxxx"+"1212121212121212121212")
	faultAt := t0.Add(time.Second)
	// Probe 20 is sent exactly at the fault time and counts as before it.
	ps[20].OK, ps[20].Backend = true, "web-1"
	a := Analyze(ps, faultAt, time.Time{}, time.Second)
	if a.Failed != 9 || a.BaselineFailed != 0 || a.Probes != len(ps) {
		t.Errorf("failed=%d baseline=%d probes=%d", a.Failed, a.BaselineFailed, a.Probes)
	}
	// Last OK before = probe 20 (1.00 s), first OK after = probe 30 (1.50 s).
	if a.Outage != 0.5 || !a.LastOKBefore.Equal(t0.Add(time.Second)) || !a.FirstFailAfter.Equal(t0.Add(1050*time.Millisecond)) {
		t.Errorf("outage=%v last=%v firstfail=%v", a.Outage, a.LastOKBefore, a.FirstFailAfter)
	}
	if !a.Recovered || a.Recovery != 0.5 {
		t.Errorf("recovered=%v recovery=%v", a.Recovered, a.Recovery)
	}
	if a.BackendsChange || a.BackendChange != 0 || !cmp.Equal(a.BackendsBefore, []string{"web-1", "web-2"}) {
		t.Errorf("backends %v → %v changed=%v", a.BackendsBefore, a.BackendsAfter, a.BackendsChange)
	}
}

func TestAnalyzeRealServerRemoved(t *testing.T) {
	t0 := time.Unix(2000, 0)
	// web-2 dies at 1.0 s: its turns fail until the health check removes
	// it after probe 31, then web-1 answers everything.
	pattern := "12121212121212121212" + "1x1x1x1x1x1x" + "111111111111111111111111"
	ps := timeline(t0, pattern)
	faultAt := t0.Add(999 * time.Millisecond)
	revertAt := ps[len(ps)-1].At.Add(time.Millisecond)
	a := Analyze(ps, faultAt, revertAt, time.Second)
	if a.Failed != 6 || !a.BackendsChange || !cmp.Equal(a.BackendsAfter, []string{"web-1"}) {
		t.Fatalf("%+v", a)
	}
	// First probe of the final web-1-only run is probe 32 at 1.60 s.
	if d := a.BackendChange; d < 0.6009 || d > 0.6011 {
		t.Errorf("backend change = %v", d)
	}
	if d := a.Recovery; d < 0.6009 || d > 0.6011 {
		t.Errorf("recovery = %v", d)
	}
	// Outage: last OK before the first failure = probe 20 (1.00 s, after
	// the fault), first OK after it = probe 22 (1.10 s): the service never
	// stopped, it lost single requests, so the window is short.
	if a.Outage < 0.0999 || a.Outage > 0.1001 || !a.LastOKBefore.Equal(ps[20].At) || a.Ongoing {
		t.Errorf("outage = %v from %v (ongoing %v)", a.Outage, a.LastOKBefore, a.Ongoing)
	}
}

func TestAnalyzeNotRecoveredAndNoFault(t *testing.T) {
	t0 := time.Unix(3000, 0)
	ps := timeline(t0, "1111111111xxxxxxxx")
	a := Analyze(ps, t0.Add(490*time.Millisecond), time.Time{}, 0)
	if a.Recovered || a.FirstOKAfter != nil || a.Outage != 0 || a.Failed != 8 || a.BackendsChange {
		t.Errorf("%+v", a)
	}
	ok := Analyze(timeline(t0, "11111111"), t0.Add(200*time.Millisecond), time.Time{}, 0)
	if !ok.Recovered || ok.Recovery != 0 || ok.Outage != 0 || ok.Failed != 0 || ok.BackendsChange {
		t.Errorf("%+v", ok)
	}
	if e := Analyze(nil, t0, time.Time{}, 0); e.Probes != 0 || !e.Recovered {
		t.Errorf("empty: %+v", e)
	}
}

// A probe belongs to the window in which it completed: one sent just
// before the revert that is answered only after it does not count as a
// recovery during the fault.
func TestAnalyzeProbeCompletingAfterUntil(t *testing.T) {
	t0 := time.Unix(4000, 0)
	ps := timeline(t0, "1111111111xxxxx1")
	faultAt := t0.Add(480 * time.Millisecond)
	until := t0.Add(751 * time.Millisecond) // probe 15 (750 ms) is sent before it
	ps[15].LatencyMs = 5
	a := Analyze(ps, faultAt, until, time.Second)
	if a.Recovered || a.Failed != 5 || a.Probes != 15 || a.BackendsChange {
		t.Errorf("%+v", a)
	}
	// The outage is still measured whole: it ends with probe 15.
	if a.FirstOKAfter == nil || !a.FirstOKAfter.Equal(ps[15].At) || a.Outage < 0.2999 || a.Outage > 0.3001 {
		t.Errorf("outage %v first ok %v", a.Outage, a.FirstOKAfter)
	}
}

// The revert window starts at the revert: a failback blip long after it
// is an outage of the blip's length (not measured from the last success
// before the revert), and recovery counts from the revert.
func TestAnalyzeRevertFailbackBlip(t *testing.T) {
	t0 := time.Unix(5000, 0)
	// Fault at 0.5 s: 4 failures, then the backup serves; revert at
	// 1.5 s (the VM boots for a while); failback blip at 3.0–3.1 s.
	pattern := "1111111111" + "xxxx" + "111111" + strings.Repeat("1", 30) + "xxx" + "1111111111"
	ps := timeline(t0, pattern)
	faultAt, revertAt := t0.Add(490*time.Millisecond), t0.Add(990*time.Millisecond)
	o := Outcome{Probes: ps, Events: []Event{{Name: "inject", Start: faultAt}, {Name: "revert", Start: revertAt}}}
	o.Analyse()
	d, r := o.During, o.Revert
	// During: last OK probe 9 (0.45 s) → first OK probe 14 (0.70 s).
	if d.Failed != 4 || d.Outage < 0.2499 || d.Outage > 0.2501 || !d.Recovered {
		t.Errorf("during: %+v", d)
	}
	// Revert: last OK probe 49 (2.45 s) → first OK probe 53 (2.65 s).
	if r.Failed != 3 || r.Outage < 0.1999 || r.Outage > 0.2001 || r.Ongoing || !r.LastOKBefore.Equal(ps[49].At) {
		t.Errorf("revert: outage %v from %v, %+v", r.Outage, r.LastOKBefore, r)
	}
	if r.Recovery < 1.659 || r.Recovery > 1.661 || r.BaselineFailed != 4 {
		t.Errorf("revert: recovery %v (from the revert at 0.99 s), baseline %d", r.Recovery, r.BaselineFailed)
	}
}

// When the service is still down at the revert, the revert window's
// outage counts from the revert: the fault window already measured the
// outage whole.
func TestAnalyzeOutageOngoingAtRevert(t *testing.T) {
	t0 := time.Unix(6000, 0)
	ps := timeline(t0, "1111111111"+"xxxxxxxxxx"+"1111111111")
	faultAt, revertAt := t0.Add(490*time.Millisecond), t0.Add(740*time.Millisecond)
	o := Outcome{Probes: ps, Events: []Event{{Name: "inject", Start: faultAt}, {Name: "revert", Start: revertAt}}}
	o.Analyse()
	// During: probe 9 (0.45 s) → probe 20 (1.00 s), found past the revert.
	if d := o.During; d.Outage < 0.5499 || d.Outage > 0.5501 || d.Recovered || d.Ongoing || d.Failed != 5 {
		t.Errorf("during: %+v", d)
	}
	// Revert: 0.74 s → 1.00 s.
	if r := o.Revert; !r.Ongoing || r.Outage < 0.2599 || r.Outage > 0.2601 || r.Failed != 5 || !r.Recovered {
		t.Errorf("revert: %+v", r)
	}
}

// Slow probes overlap: a failing probe sent before a success that
// completes before the fault. The outage starts at the last success sent
// before the failure and is never negative.
func TestAnalyzeOverlappingProbesNoNegativeOutage(t *testing.T) {
	t0 := time.Unix(1000, 0)
	faultAt := t0.Add(time.Second)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	ps := []Probe{
		{Seq: 0, At: ms(700), OK: true, Status: 200, Backend: "web-1", LatencyMs: 10},
		{Seq: 1, At: ms(800), Err: "timeout", LatencyMs: 400},                          // fails, completes at 1.2 s
		{Seq: 2, At: ms(850), OK: true, Status: 200, Backend: "web-2", LatencyMs: 300}, // completes at 1.15 s
		{Seq: 3, At: ms(900), OK: true, Status: 200, Backend: "web-1", LatencyMs: 50},  // completes before the fault
		{Seq: 4, At: ms(1100), OK: true, Status: 200, Backend: "web-2", LatencyMs: 10},
	}
	a := Analyze(ps, faultAt, time.Time{}, time.Second)
	if a.FirstFailAfter == nil || !a.FirstFailAfter.Equal(ms(800)) || a.FirstOKAfter == nil || !a.FirstOKAfter.Equal(ms(850)) {
		t.Fatalf("first fail %v, first ok %v", a.FirstFailAfter, a.FirstOKAfter)
	}
	if a.LastOKBefore == nil || !a.LastOKBefore.Equal(ms(700)) || a.Outage < 0.149 || a.Outage > 0.151 {
		t.Errorf("outage %v from %v, want 0.15 s from the success sent at 0.7 s", a.Outage, a.LastOKBefore)
	}
}
