package verify

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/labctl/labctl/topology"
)

// HTTP through the VIP from a client VM, and how the responses spread over the real servers.

// ClientFor picks the VM HTTP checks of s run from (and grade's drills
// probe from): the client of an experiment on s, else the first VM with
// the client role; nil when the lab has none.
func ClientFor(lab *topology.Lab, s *topology.LVSService) *topology.VM {
	for _, e := range lab.Experiments {
		if e.Service == s.Name && e.Client != nil {
			return e.Client
		}
	}
	for _, vm := range lab.VMs {
		if vm.HasRole(topology.RoleClient) {
			return vm
		}
	}
	return nil
}

// sticky reports whether one client is expected to always reach the same
// real server, so a single client cannot see every backend.
func sticky(s *topology.LVSService) bool {
	if s.Persistence != nil {
		return true
	}
	switch s.Scheduler {
	case "sh", "dh", "mh", "lblc", "lblcr":
		return true
	}
	return false
}

// http asks the VIP from the client VM: once for the status, then
// Requests times (one connection each) collecting X-Backend headers.
func (v *verifier) http(ctx context.Context, s *topology.LVSService) {
	url := fmt.Sprintf("http://%s/", netip.AddrPortFrom(s.VIP, uint16(s.Port)))
	client := ClientFor(v.lab, s)
	if client == nil {
		v.add(Check{Kind: topology.GradeHTTP, Name: "VIP answers HTTP", VM: "-", Expected: "200 from " + url, Observed: "no VM with role client to test from"})
		return
	}
	secs := strconv.FormatFloat(v.opts.Timeout.Seconds(), 'f', -1, 64)
	out, err := v.run(ctx, client.Name, "curl -s -o /dev/null --max-time "+secs+" -w '%{http_code}' "+url)
	code := strings.TrimSpace(out)
	obs := code
	if err != nil {
		obs = short(err)
	}
	v.add(Check{Kind: topology.GradeHTTP, Name: "VIP answers HTTP", VM: client.Name, Expected: "200 from " + url, Observed: obs, OK: err == nil && code == "200"})
	if err != nil || code == "000" {
		// No answer at all: the spread probe would only wait out its
		// timeout Requests times.
		v.add(Check{Kind: topology.GradeBackends, Name: "responses from every real server", VM: client.Name, Expected: "X-Backend headers", Observed: "not probed: the VIP does not answer"})
		return
	}

	cmd := fmt.Sprintf("for i in $(seq %d); do curl -s -o /dev/null --max-time %s -w '%%{http_code} %%header{x-backend}\\n' %s; done; true",
		v.opts.Requests, secs, url)
	out, err = v.run(ctx, client.Name, cmd)
	if err != nil {
		v.add(Check{Kind: topology.GradeBackends, Name: "responses from every real server", VM: client.Name, Expected: "X-Backend headers", Observed: short(err)})
		return
	}
	v.add(spread(s, client.Name, out, v.opts.Requests))
}

// spread judges the "<status> <backend>" lines of the spread probe.
func spread(s *topology.LVSService, client, out string, n int) Check {
	var want []string
	known := map[string]bool{}
	for _, b := range s.Backends {
		if b.VM == nil {
			continue
		}
		name := b.VM.Hostname
		if name == "" {
			name = b.VM.Name
		}
		known[name] = true
		if b.Weight > 0 {
			want = append(want, name)
		}
	}
	count := map[string]int{}
	failed, unknown := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		code, backend, _ := strings.Cut(strings.TrimSpace(line), " ")
		backend = strings.TrimSpace(backend)
		switch {
		case code != "200":
			failed++
		case !known[backend]:
			unknown++
			count[backend]++
		default:
			count[backend]++
		}
	}
	var parts []string
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		label := k
		if label == "" {
			label = "(no header)"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", label, count[k]))
	}
	if failed > 0 {
		parts = append(parts, fmt.Sprintf("failed×%d", failed))
	}
	obs := strings.Join(parts, " ")
	c := Check{Kind: topology.GradeBackends, Name: "responses from every real server", VM: client, Observed: obs}
	if sticky(s) {
		c.Name = "responses from a real server"
		c.Expected = fmt.Sprintf("%d × one of %s (sticky: %s)", n, strings.Join(want, ", "), stickyWhy(s))
		c.OK = failed == 0 && unknown == 0 && len(count) >= 1
		return c
	}
	c.Expected = fmt.Sprintf("%d answers from all of %s", n, strings.Join(want, ", "))
	c.OK = failed == 0 && unknown == 0
	for _, w := range want {
		if count[w] == 0 {
			c.OK = false
		}
	}
	return c
}

func stickyWhy(s *topology.LVSService) string {
	if s.Persistence != nil {
		return "persistence"
	}
	return string(s.Scheduler)
}
