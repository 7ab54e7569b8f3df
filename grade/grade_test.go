package grade

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/bench/testbed/testbedtest"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// canned is a verify result with one check per kind the lab has, failing
// the kinds in bad.
func canned(lab *topology.Lab, bad ...topology.GradeCheck) func(context.Context) (verify.Result, error) {
	return func(context.Context) (verify.Result, error) {
		res := verify.Result{Lab: lab.Name}
		for _, it := range Rubric(lab) {
			if it.Drill {
				continue
			}
			ok := true
			for _, b := range bad {
				ok = ok && b != it.Check
			}
			res.Checks = append(res.Checks, verify.Check{Kind: it.Check, Name: string(it.Check) + " check", VM: "vm-1", Expected: "good", Observed: map[bool]string{true: "good", false: "bad"}[ok], OK: ok})
		}
		return res, nil
	}
}

func fastOptions() Options {
	return Options{Before: 300 * time.Millisecond, Hold: 600 * time.Millisecond, After: 300 * time.Millisecond,
		Recover: 5 * time.Second, ProbeInterval: 20 * time.Millisecond, MaxOutage: 5 * time.Second}
}

func fakeAgent() ([]byte, error) { return []byte("labctl"), nil }

func TestRubricFollowsTheLab(t *testing.T) {
	nat := rolestest.ThesisLab(topology.LVSNAT)
	if got := len(Rubric(nat)); got != len(topology.GradeChecks) {
		t.Errorf("NAT thesis lab: %d rubric lines, want every check (%d)", got, len(topology.GradeChecks))
	}
	dr := rolestest.ThesisLab(topology.LVSDR)
	for _, it := range Rubric(dr) {
		if it.Check == topology.GradeGatewayVIP {
			t.Error("a DR lab has no gateway VIP, yet the rubric checks it")
		}
	}
	nat.Exercise = &topology.Exercise{Name: "x", Roles: []topology.Role{topology.RoleDirector},
		Points: map[topology.GradeCheck]int{topology.GradeFailover: 40, topology.GradeRAID: 0}}
	for _, it := range Rubric(nat) {
		switch it.Check {
		case topology.GradeRAID:
			t.Error("raid worth 0 points is still in the rubric")
		case topology.GradeFailover:
			if it.Points != 40 {
				t.Errorf("failover: %d points, the exercise gives 40", it.Points)
			}
		}
	}
}

// A working cluster (the simulation: directors fail over, health checks
// drop and take back a real server, the RAID degrades and rebuilds) gets
// every point, drills included.
func TestWorkingClusterGetsFullMarks(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	s := testbedtest.New(lab)
	defer s.Close()
	s.FailoverLag, s.HealthLag = 100*time.Millisecond, 100*time.Millisecond
	res, err := Run(context.Background(), Env{Lab: lab, Hosts: s.Hosts(), Power: s.Power(), Agent: fakeAgent, Verify: canned(lab)}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Lines {
		if !l.OK || l.Hint != "" {
			t.Errorf("%s: %d/%d, observed %q, hint %q", l.Check, l.Points, l.Max, l.Observed, l.Hint)
		}
	}
	if res.Total != res.Max || res.Max == 0 {
		t.Errorf("total %d of %d, want full marks", res.Total, res.Max)
	}
	if l := res.Line(topology.GradeFailover); l == nil || !strings.Contains(l.Observed, "VIP director-1 → ") || !strings.Contains(l.Observed, "director-2 after") {
		t.Errorf("failover line %+v does not say where the VIP went", l)
	}
	if !s.Apache("web-3") {
		t.Error("the backend drill left Apache stopped on web-3")
	}
}

// An unconfigured cluster scores low: every failed line has its hint, and
// the drills are not run (no fault injected into a service that does not
// answer, so no wait for timeouts).
func TestUnconfiguredClusterScoresLowWithoutDrills(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	s := testbedtest.New(lab)
	defer s.Close()
	start := time.Now()
	res, err := Run(context.Background(), Env{Lab: lab, Hosts: s.Hosts(), Power: s.Power(), Agent: fakeAgent,
		Verify: canned(lab, topology.GradeDirectors, topology.GradeVIP, topology.GradeGatewayVIP, topology.GradeIPVS,
			topology.GradeHTTP, topology.GradeBackends, topology.GradeNFS)}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("grading took %v: were drills run?", took)
	}
	if res.Percent() > 25 {
		t.Errorf("unconfigured cluster: %.0f %%, want ≤ 25 %%", res.Percent())
	}
	for _, l := range res.Lines {
		if l.OK {
			continue
		}
		if l.Hint == "" || l.Points != 0 {
			t.Errorf("%s failed with %d points and hint %q", l.Check, l.Points, l.Hint)
		}
		if l.Drill && !strings.HasPrefix(l.Observed, "not run: needs ") {
			t.Errorf("drill %s: %q, want not run", l.Check, l.Observed)
		}
	}
	if l := res.Line(topology.GradeRAID); l == nil || !l.OK {
		t.Errorf("raid line %+v: the RAID check passed", l)
	}
}

// Directors without the gateway VIP: the answers of a NAT real server have
// no way back, so the service fails; the score is in between and the hint
// names the gateway VIP.
func TestHalfDoneClusterNamesWhatIsMissing(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	s := testbedtest.New(lab)
	defer s.Close()
	res, err := Run(context.Background(), Env{Lab: lab, Hosts: s.Hosts(), Power: s.Power(), Agent: fakeAgent,
		Verify: canned(lab, topology.GradeGatewayVIP, topology.GradeHTTP, topology.GradeBackends)}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Percent(); p <= 25 || p >= 100 {
		t.Errorf("half-done cluster: %.0f %%, want in between", p)
	}
	if l := res.Line(topology.GradeGatewayVIP); l == nil || l.OK || !strings.Contains(l.Hint, "gateway VIP") {
		t.Errorf("gateway_vip line %+v, want failed with a hint naming the gateway VIP", l)
	}
}

func TestTableJSONAndGradebook(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	s := testbedtest.New(lab)
	defer s.Close()
	opts := fastOptions()
	opts.NoDrills = true
	var book Gradebook
	for _, cp := range []string{"bob", "alice"} {
		res, err := Run(context.Background(), Env{Lab: lab, Hosts: s.Hosts(), Verify: canned(lab, topology.GradeNFS)}, opts)
		if err != nil {
			t.Fatal(err)
		}
		res.Copy = cp
		book.Results = append(book.Results, res)
	}
	r := book.Results[0]
	var table bytes.Buffer
	if err := r.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "not run (--no-drills)") || !strings.Contains(table.String(), "points (") {
		t.Errorf("table:\n%s", table.String())
	}
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Schema != Schema || back.Total != r.Total || len(back.Lines) != len(r.Lines) {
		t.Errorf("JSON round trip: %v %+v", err, back)
	}
	book.Sort()
	var c bytes.Buffer
	if err := book.WriteCSV(&c); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][0] != "alice" || rows[0][5] != string(topology.GradeDirectors) {
		t.Errorf("CSV %v %q", err, rows)
	}
	var h bytes.Buffer
	if err := book.WriteHTML(&h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), "<td class=\"fail\"") || !strings.Contains(h.String(), "Hint: export") {
		t.Errorf("HTML lacks a failed cell with its hint:\n%s", h.String())
	}
}

// A drill that cannot revert its fault is an error, and the drills after
// it are not run: they would start from a lab the fault left.
func TestFailedRevertStopsTheDrills(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	s := testbedtest.New(lab)
	defer s.Close()
	s.FailoverLag = 100 * time.Millisecond
	s.Fakes["director-1"].Fail(`.*systemctl start keepalived.*`, 1, "Job for keepalived.service failed")
	res, err := Run(context.Background(), Env{Lab: lab, Hosts: s.Hosts(), Power: s.Power(), Agent: fakeAgent, Verify: canned(lab)}, fastOptions())
	var rev *RevertError
	if !errors.As(err, &rev) || rev.Drill != topology.GradeFailover {
		t.Fatalf("err = %v, want a RevertError of the failover drill", err)
	}
	for _, c := range []topology.GradeCheck{topology.GradeBackendOut, topology.GradeRAIDMember} {
		if l := res.Line(c); l == nil || l.OK || !strings.Contains(l.Observed, "could not revert") {
			t.Errorf("%s after a failed revert: %+v", c, l)
		}
	}
}

// A lab without a client VM has no line it could not earn: verify asks
// the VIP from the client, and the drills probe from it.
func TestRubricWithoutClient(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	var vms []*topology.VM
	for _, vm := range lab.VMs {
		if !vm.HasRole(topology.RoleClient) {
			vms = append(vms, vm)
		}
	}
	lab.VMs, lab.Experiments = vms, nil
	for _, it := range Rubric(lab) {
		if it.Drill || it.Check == topology.GradeHTTP || it.Check == topology.GradeBackends {
			t.Errorf("%s in the rubric of a lab without client", it.Check)
		}
	}
}

func TestRAIDDrillJudge(t *testing.T) {
	for _, c := range []struct {
		state string
		clean bool
		ok    bool
	}{
		{"degraded [5/4 UUUU_]", true, true},
		{"recovery 3.0%", true, true}, // a spare took over at once
		{"clean", true, false},        // the member did not leave
		{"degraded [5/4 UUUU_]", false, false},
	} {
		rep := &testbed.FaultReport{Notes: map[string]string{"state_after_fail": c.state, "device": "/dev/vdc"}}
		if c.clean {
			rep.Notes["clean_at"], rep.Notes["rebuild_sec"] = "now", "12.0"
		}
		ok, obs := judgeRAIDMember(&fault.Outcome{}, rep, time.Second)
		if ok != c.ok {
			t.Errorf("state %q, rebuilt %v: ok %v (%s), want %v", c.state, c.clean, ok, obs, c.ok)
		}
	}
}
