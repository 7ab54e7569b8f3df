package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/topology"
)

// selectExperiments picks the lab's experiments (or builds the ad-hoc one)
// and applies the flags that were set.
func selectExperiments(l *topology.Lab, names []string, bf benchFlags, changed func(string) bool) ([]*topology.Experiment, error) {
	var exps []*topology.Experiment
	switch {
	case bf.adhoc:
		if len(names) > 0 {
			return nil, fmt.Errorf("--adhoc builds its own experiment: drop the names %v", names)
		}
		e, err := adhocExperiment(l, bf)
		if err != nil {
			return nil, err
		}
		exps = []*topology.Experiment{e}
	case len(names) > 0:
		for _, n := range names {
			e := l.Experiment(n)
			if e == nil {
				return nil, fmt.Errorf("lab %s has no experiment %q (it has: %s)", l.Name, n, experimentNames(l))
			}
			exps = append(exps, e)
		}
	default:
		if len(l.Experiments) == 0 {
			return nil, fmt.Errorf("lab %s declares no experiment: add an experiment block or use --adhoc", l.Name)
		}
		exps = l.Experiments
	}
	out := make([]*topology.Experiment, 0, len(exps))
	for _, e := range exps {
		x, err := override(l, e, bf, changed)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func experimentNames(l *topology.Lab) string {
	var n []string
	for _, e := range l.Experiments {
		n = append(n, e.Name)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

func adhocExperiment(l *topology.Lab, bf benchFlags) (*topology.Experiment, error) {
	if len(l.LVS) == 0 {
		return nil, fmt.Errorf("lab %s has no LVS service to benchmark", l.Name)
	}
	svc := l.LVS[0]
	if bf.service != "" {
		if svc = l.Service(bf.service); svc == nil {
			return nil, fmt.Errorf("--service %q: lab %s has no such LVS service", bf.service, l.Name)
		}
	}
	var client *topology.VM
	if bf.client != "" {
		client = l.VM(bf.client)
	} else if i := slices.IndexFunc(l.VMs, func(vm *topology.VM) bool { return vm.HasRole(topology.RoleClient) }); i >= 0 {
		client = l.VMs[i]
	}
	if client == nil {
		if bf.client != "" {
			return nil, fmt.Errorf("--client %q: lab %s has no such VM", bf.client, l.Name)
		}
		return nil, fmt.Errorf("lab %s has no VM with the client role: name one with --client", l.Name)
	}
	return &topology.Experiment{Name: "adhoc", Service: svc.Name, Client: client, Tool: "builtin",
		Concurrency: 10, DurationSec: 10, Repeat: 3, RealServers: []int{len(svc.Backends)}, Schedulers: []topology.Scheduler{svc.Scheduler}}, nil
}

// override copies e with the flags that were set.
func override(l *topology.Lab, e *topology.Experiment, bf benchFlags, changed func(string) bool) (*topology.Experiment, error) {
	x := *e
	if changed("repeat") {
		if bf.repeat < 1 {
			return nil, fmt.Errorf("--repeat %d: must be ≥ 1", bf.repeat)
		}
		x.Repeat = bf.repeat
	}
	if changed("duration") {
		x.DurationSec = bf.duration.Seconds()
	}
	if changed("requests") {
		x.Requests = bf.requests
	}
	if changed("concurrency") {
		if bf.concurrency < 1 {
			return nil, fmt.Errorf("--concurrency %d: must be ≥ 1", bf.concurrency)
		}
		x.Concurrency = bf.concurrency
	}
	if changed("rate") {
		x.RateRPS = bf.rate
	}
	if changed("tool") {
		x.Tool = topology.Tool(bf.tool)
	}
	if x.Concurrency < 1 {
		x.Concurrency = 10
	}
	if changed("real-servers") {
		rs, err := testbed.ParseInts(bf.realServers)
		if err != nil {
			return nil, fmt.Errorf("--real-servers %w", err)
		}
		x.RealServers = rs
	}
	if changed("scheduler") {
		x.Schedulers = nil
		for _, s := range strings.Split(bf.schedulers, ",") {
			if s = strings.TrimSpace(s); s != "" {
				x.Schedulers = append(x.Schedulers, topology.Scheduler(s))
			}
		}
	}
	if changed("fault") {
		x.Faults = nil
		for _, v := range bf.faults {
			ft, err := testbed.ParseFault(v)
			if err != nil {
				return nil, err
			}
			vm := l.VM(ft.Target)
			if vm == nil {
				return nil, fmt.Errorf("--fault %q: lab %s has no VM %q", v, l.Name, ft.Target)
			}
			if svc := l.Service(x.Service); svc != nil {
				if msg := topology.FaultProblem(ft.Kind, vm, svc); msg != "" {
					return nil, fmt.Errorf("--fault %q: %s", v, strings.TrimSuffix(msg, "."))
				}
			}
			x.Faults = append(x.Faults, ft)
		}
	}
	if x.Tool == "" {
		x.Tool = "builtin"
	}
	return &x, nil
}
