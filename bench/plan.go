package bench

import (
	"errors"
	"fmt"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
)

// Plan expands an experiment into its variations, in run order: real
// servers ascending (as declared), then schedulers. Unset lists default to
// every backend of the service and the service's scheduler.
func Plan(e *topology.Experiment, svc *topology.LVSService) ([]result.Variation, error) {
	if e == nil || svc == nil {
		return nil, errors.New("plan: experiment and service are required")
	}
	rs := e.RealServers
	if len(rs) == 0 {
		rs = []int{len(svc.Backends)}
	}
	scheds := e.Schedulers
	if len(scheds) == 0 {
		scheds = []topology.Scheduler{svc.Scheduler}
	}
	persist := ""
	if svc.Persistence != nil {
		persist = fmt.Sprintf("%ds", svc.Persistence.TimeoutSec)
	}
	var out []result.Variation
	for _, n := range rs {
		if n < 1 || n > len(svc.Backends) {
			return nil, fmt.Errorf("experiment %q: %d real servers: service %q has %d", e.Name, n, svc.Name, len(svc.Backends))
		}
		for _, s := range scheds {
			out = append(out, result.Variation{RealServers: n, Scheduler: string(s), Mode: string(svc.Mode), Persistence: persist})
		}
	}
	return out, nil
}
