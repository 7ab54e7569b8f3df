package grade

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/topology"
)

// drill runs one drill: the fault is injected and reverted by the bench's
// fault runner, which watches the service from the client VM and waits
// until the cluster is as before. The error is for a drill that could not
// run (no prober on the client) or not revert its fault (the lab is then
// not as the student left it, and no further drill may run).
func (g *grader) drill(ctx context.Context, it Item, passed map[topology.GradeCheck]bool) (Line, error) {
	l := Line{Check: it.Check, Title: it.Title, Max: it.Points, Drill: true, Hint: it.Hint}
	if g.opts.NoDrills {
		l.Observed = "not run (--no-drills)"
		return l, nil
	}
	var missing []string
	for _, n := range it.Needs {
		if !passed[n] {
			missing = append(missing, string(n))
		}
	}
	if len(missing) > 0 {
		l.Observed = "not run: needs " + strings.Join(missing, ", ") + " to pass first"
		return l, nil
	}
	lab := g.env.Lab
	svc, client := lab.LVS[0], clientVM(lab)
	f := drillFault(lab, it.Check)
	first := g.agentErr == nil
	if err := g.installAgent(ctx, client); err != nil {
		l.Observed = "not run: " + err.Error()
		if !first {
			return l, nil // said once, with the first drill
		}
		return l, fmt.Errorf("drills: %w", err)
	}
	g.progress("drill %s: %s:%s, hold %v", it.Check, f.Kind, f.Target, g.opts.Hold)
	inj := &testbed.Injector{Lab: lab, Service: svc, Hosts: g.env.Hosts, Power: g.env.Power, Progress: g.opts.Progress}
	r := &testbed.FaultRunner{Service: svc, Hosts: g.env.Hosts, Client: client.Name, Injector: inj, Progress: g.opts.Progress}
	start := time.Now()
	out, rep, err := r.Run(ctx, testbed.FaultScenario{
		Fault: f, Before: g.opts.Before, Hold: g.opts.Hold, After: g.opts.After, Recover: g.opts.Recover,
		Probe: fault.ProberConfig{URL: testbed.ServiceURL(svc), Interval: g.opts.ProbeInterval, Timeout: time.Second},
	})
	l.Seconds = time.Since(start).Seconds()
	if err != nil {
		l.Observed = "drill failed: " + err.Error()
		if reverted(out) {
			// The fault is gone (the prober, say, failed): a 0 for this
			// drill, and the next one may run.
			return l, ctx.Err()
		}
		return l, &RevertError{Drill: it.Check, Err: err}
	}
	switch it.Check {
	case topology.GradeFailover:
		l.OK, l.Observed = judgeFailover(out, rep, g.opts.maxOutage(svc))
	case topology.GradeBackendOut:
		l.OK, l.Observed = judgeBackendOut(out, rep, f.Target, g.opts.maxOutage(svc))
	case topology.GradeRAIDMember:
		l.OK, l.Observed = judgeRAIDMember(out, rep, g.opts.maxOutage(svc))
	}
	if !rep.Cluster.Restored && !rep.Cluster.Before.At.IsZero() {
		l.Observed += "; the cluster was not as before at the end"
	}
	if l.OK {
		l.Points, l.Hint = it.Points, ""
	}
	return l, nil
}

// RevertError is a drill whose fault may still be in force: its revert
// failed or never ran.
type RevertError struct {
	Drill topology.GradeCheck
	Err   error
}

func (e *RevertError) Error() string {
	return fmt.Sprintf("drill %s could not revert its fault (the lab is not as it was): %v", e.Drill, e.Err)
}

func (e *RevertError) Unwrap() error { return e.Err }

// reverted: the scenario's revert ran without error.
func reverted(out *fault.Outcome) bool {
	return out != nil && slices.ContainsFunc(out.Events, func(e fault.Event) bool { return e.Name == "revert" && e.Err == "" })
}

// drillFault is the fault a drill injects. Failover aims at whichever
// director holds the VIP when it starts (the injector finds it).
func drillFault(lab *topology.Lab, c topology.GradeCheck) topology.Fault {
	svc := lab.LVS[0]
	switch c {
	case topology.GradeFailover:
		kind := topology.KillKeepalived
		if svc.Stack == topology.StackPacemaker {
			kind = topology.StopCorosync // the resources leave the node, as VRRP's VIPs do
		}
		return topology.Fault{Kind: kind, Target: svc.Directors[0].Name}
	case topology.GradeBackendOut:
		return topology.Fault{Kind: topology.StopWeb, Target: svc.Backends[len(svc.Backends)-1].VM.Name}
	default:
		return topology.Fault{Kind: topology.FailRAIDMember, Target: raidVM(lab).Name}
	}
}

func (g *grader) installAgent(ctx context.Context, client *topology.VM) error {
	if g.installed || g.agentErr != nil {
		return g.agentErr
	}
	g.agentErr = g.install(ctx, client)
	g.installed = g.agentErr == nil
	return g.agentErr
}

func (g *grader) install(ctx context.Context, client *topology.VM) error {
	if g.env.Agent == nil {
		return fmt.Errorf("no prober to install on %s", client.Name)
	}
	bin, err := g.env.Agent()
	if err != nil {
		return err
	}
	r, err := g.env.Hosts.Runner(client.Name)
	if err != nil {
		return err
	}
	if err := testbed.InstallAgent(ctx, r, bin); err != nil {
		return fmt.Errorf("install the prober on %s: %w", client.Name, err)
	}
	return nil
}

// answeredAgain: the service answered after its last failure.
func answeredAgain(a fault.Analysis) bool { return a.FirstFailAfter == nil || a.FirstOKAfter != nil }

func judgeFailover(out *fault.Outcome, rep *testbed.FaultReport, maxOutage time.Duration) (bool, string) {
	a, c := out.During, rep.Cluster
	var obs string
	if c.VIPMoved {
		obs = fmt.Sprintf("VIP %s → %s after %.1fs", c.Before.Holder, c.NewHolder, c.VIPMovedSec)
	} else {
		obs = fmt.Sprintf("the VIP did not move from %s", orNone(c.Before.Holder))
	}
	obs += fmt.Sprintf(", outage %.1fs (bound %v), %d failed probes", a.Outage, maxOutage, a.Failed)
	ok := c.VIPMoved && answeredAgain(a) && a.Outage <= maxOutage.Seconds()
	if !answeredAgain(a) {
		obs += ", no answer before the revert"
	}
	return ok, obs
}

func judgeBackendOut(out *fault.Outcome, rep *testbed.FaultReport, target string, maxOutage time.Duration) (bool, string) {
	a, c := out.During, rep.Cluster
	left := c.PoolChanged && !slices.Contains(c.PoolDuring, target)
	var obs string
	if left {
		obs = fmt.Sprintf("%s left the pool after %.1fs", target, c.PoolChangedSec)
	} else {
		obs = fmt.Sprintf("%s stayed in the pool", target)
	}
	if c.Restored {
		obs += fmt.Sprintf(", back %.1fs after the revert", c.RestoredSec)
	} else {
		obs += ", not back after the revert"
	}
	obs += fmt.Sprintf("; outage %.1fs, %d failed probes", a.Outage, a.Failed)
	return left && c.Restored && answeredAgain(a) && a.Outage <= maxOutage.Seconds(), obs
}

func judgeRAIDMember(out *fault.Outcome, rep *testbed.FaultReport, maxOutage time.Duration) (bool, string) {
	a := out.During
	state := rep.Notes["state_after_fail"]
	// With a spare, md starts the recovery onto it at once.
	degraded := strings.HasPrefix(state, "degraded") || strings.HasPrefix(state, "recovery")
	rebuilt := rep.Notes["clean_at"] != ""
	obs := fmt.Sprintf("%s failed: array %s", orNone(rep.Notes["device"]), orNone(state))
	if rebuilt {
		obs += ", clean again after " + rep.Notes["rebuild_sec"] + "s of rebuild"
	} else {
		obs += ", not rebuilt"
	}
	obs += fmt.Sprintf("; site outage %.1fs, %d failed probes", a.Outage, a.Failed)
	return degraded && rebuilt && answeredAgain(a) && a.Outage <= maxOutage.Seconds(), obs
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
