package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/topology"
)

// cluster checks a Pacemaker service's cluster as one of its directors
// sees it: every director online and the cluster quorate, every resource
// started on exactly one node, the one that holds the VIP (active).
func (v *verifier) cluster(ctx context.Context, s *topology.LVSService, active string) {
	want := make([]string, len(s.Directors))
	vmOf := map[string]string{} // cluster node name → VM name
	for i, d := range s.Directors {
		want[i] = d.Hostname
		vmOf[want[i]] = d.Name
	}
	var (
		m    guestout.CrmMon
		from string
		err  error
	)
	for _, d := range s.Directors { // the first that answers: one may be down
		var out string
		if out, err = v.run(ctx, d.Name, guestout.CrmMonCmd); err == nil {
			if m, err = guestout.ParseCrmMon(out); err == nil {
				from = d.Name
				break
			}
		}
	}
	dirs := strings.Join(names(s.Directors), ",")
	if from == "" {
		v.add(Check{Kind: topology.GradeDirectors, Name: "cluster nodes online", VM: dirs, Expected: strings.Join(want, ", "), Observed: short(err)})
		return
	}
	online := m.Online()
	obs := strings.Join(online, ", ")
	if !m.Quorate {
		obs += " (no quorum)"
	}
	slices.Sort(online)
	sorted := slices.Sorted(slices.Values(want))
	v.add(Check{Kind: topology.GradeDirectors, Name: "cluster nodes online", VM: from, Expected: strings.Join(want, ", ") + " with quorum",
		Observed: obs, OK: m.Quorate && slices.Equal(online, sorted)})

	activeNode := "" // the active director's cluster node name
	for node, vm := range vmOf {
		if vm == active && active != "" {
			activeNode = node
		}
	}
	bad := m.Misplaced(activeNode)
	if active == "" && len(bad) == 0 && len(m.Resources) > 0 {
		bad = []string{"resources on " + m.RunningOn() + ", which holds no VIP"}
	}
	exp := fmt.Sprintf("every resource started on %s only", active)
	if active == "" {
		exp = "every resource started on the VIP holder only"
	}
	robs := fmt.Sprintf("%d resources on %s", len(m.Resources), active)
	if len(bad) > 0 {
		robs = strings.Join(bad, "; ")
	} else if len(m.Resources) == 0 {
		robs = "no resources"
	}
	v.add(Check{Kind: topology.GradeDirectors, Name: "cluster resources", VM: from, Expected: exp, Observed: robs,
		OK: active != "" && len(bad) == 0 && len(m.Resources) > 0})
}
