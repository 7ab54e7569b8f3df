package bench

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
)

func lab() (*topology.Experiment, *topology.LVSService) {
	svc := &topology.LVSService{Name: "www", Mode: topology.LVSNAT, Scheduler: "rr",
		Backends: []*topology.Backend{{}, {}, {}}}
	exp := &topology.Experiment{Name: "scale", Service: "www", Tool: "builtin", Concurrency: 4, Requests: 600,
		DurationSec: 10, Repeat: 3, RealServers: []int{1, 3}}
	return exp, svc
}

func TestPlan(t *testing.T) {
	exp, svc := lab()
	exp.Schedulers = []topology.Scheduler{"rr", "wlc"}
	svc.Persistence = &topology.Persistence{TimeoutSec: 300}
	got, err := Plan(exp, svc)
	if err != nil {
		t.Fatal(err)
	}
	want := []result.Variation{
		{RealServers: 1, Scheduler: "rr", Mode: "nat", Persistence: "300s"}, {RealServers: 1, Scheduler: "wlc", Mode: "nat", Persistence: "300s"},
		{RealServers: 3, Scheduler: "rr", Mode: "nat", Persistence: "300s"}, {RealServers: 3, Scheduler: "wlc", Mode: "nat", Persistence: "300s"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	exp.RealServers, exp.Schedulers = nil, nil
	if got, _ := Plan(exp, svc); len(got) != 1 || got[0].RealServers != 3 || got[0].Scheduler != "rr" {
		t.Errorf("defaults: %+v", got)
	}
	exp.RealServers = []int{4}
	if _, err := Plan(exp, svc); err == nil {
		t.Error("4 of 3 real servers: want error")
	}
}
