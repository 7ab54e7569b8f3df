package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Hosts returns the Runner of a VM by name (the same function roles.Apply takes).
type Hosts func(vm string) (ssh.Runner, error)

// Options tune Run.
type Options struct {
	// Requests is how many HTTP requests the backend-spread check sends
	// through each VIP (default 30).
	Requests int
	// Timeout bounds each HTTP request (default 5s).
	Timeout time.Duration
	// VRRPSettle is how long to wait for a VRRP election still in
	// progress (no director, or two, holding the VIP) before judging it:
	// keepalived takes 3 adverts plus skew (~3.6 s) to become MASTER after
	// a start, and verify often runs right after up. Default 10s;
	// negative: judge the first look.
	VRRPSettle time.Duration
}

// Check is one line of the verify table.
type Check struct {
	// Kind is the behaviour the check proves, the line of labctl grade's
	// rubric it counts for.
	Kind     topology.GradeCheck `json:"kind"`
	Name     string              `json:"check"`
	VM       string              `json:"vm"`
	Expected string              `json:"expected"`
	Observed string              `json:"observed"`
	OK       bool                `json:"ok"`
}

// Result is every check of one run.
type Result struct {
	Lab    string  `json:"lab"`
	Checks []Check `json:"checks"`
}

// OK reports whether every check passed.
func (r Result) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Failed counts failed checks.
func (r Result) Failed() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// WriteTable prints the checks as a table.
func (r Result) WriteTable(w io.Writer) error {
	t := tablewriter.NewWriter(w)
	t.Header("Check", "VM", "Expected", "Observed", "OK")
	for _, c := range r.Checks {
		ok := "ok"
		if !c.OK {
			ok = "FAIL"
		}
		if err := t.Append(c.Name, c.VM, c.Expected, c.Observed, ok); err != nil {
			return err
		}
	}
	return t.Render()
}

// WriteJSON prints the result as indented JSON.
func (r Result) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}

// Run checks lab from inside: every probe runs on a lab VM over hosts, so
// traffic to lab addresses never leaves the lab's namespace. A failing
// probe becomes a failed check, not an error; the error is only for a
// cancelled ctx. Independent groups of checks (each service, each export,
// each array) run at once, each on its own VMs, and are reported in the
// lab's order; in a service, IPVS and HTTP are checked once VRRP settled.
func Run(ctx context.Context, lab *topology.Lab, hosts Hosts, opts Options) (Result, error) {
	if opts.Requests <= 0 {
		opts.Requests = 30
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Second
	}
	if opts.VRRPSettle == 0 {
		opts.VRRPSettle = 10 * time.Second
	}
	var groups []func(v *verifier)
	for _, s := range lab.LVS {
		groups = append(groups, func(v *verifier) {
			active := v.vrrp(ctx, s)
			if s.Stack == topology.StackPacemaker {
				v.cluster(ctx, s, active)
			}
			h := v.sub()
			var wg sync.WaitGroup
			wg.Go(func() { h.http(ctx, s) })
			v.ipvs(ctx, s, active)
			v.realServers(ctx, s)
			wg.Wait()
			v.res.Checks = append(v.res.Checks, h.res.Checks...)
		})
	}
	for _, e := range lab.NFS {
		groups = append(groups, func(v *verifier) { v.nfs(ctx, e) })
	}
	for _, vm := range lab.VMs {
		if vm.RAID != nil && vm.HasRole(topology.RoleRAID) {
			groups = append(groups, func(v *verifier) { v.raid(ctx, vm) })
		}
	}
	root := &verifier{lab: lab, hosts: hosts, opts: opts}
	subs := make([]*verifier, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		subs[i] = root.sub()
		wg.Go(func() { g(subs[i]) })
	}
	wg.Wait()
	res := Result{Lab: lab.Name}
	for _, s := range subs {
		res.Checks = append(res.Checks, s.res.Checks...)
	}
	return res, ctx.Err()
}

type verifier struct {
	lab   *topology.Lab
	hosts Hosts
	opts  Options
	res   Result
}

func (v *verifier) add(c Check) { v.res.Checks = append(v.res.Checks, c) }

// sub is a verifier for a group of checks run beside the others: its own
// result, merged in order by Run.
func (v *verifier) sub() *verifier { return &verifier{lab: v.lab, hosts: v.hosts, opts: v.opts} }

// run executes cmd on vm and returns its stdout.
func (v *verifier) run(ctx context.Context, vm, cmd string) (string, error) {
	r, err := v.hosts(vm)
	if err != nil {
		return "", err
	}
	res, err := r.Run(ctx, cmd)
	return string(res.Stdout), err
}

func short(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return "error: " + s
}

func names(vms []*topology.VM) []string {
	var out []string
	for _, vm := range vms {
		out = append(out, vm.Name)
	}
	return out
}

func firstLine(s string) string {
	l, rest, _ := strings.Cut(s, "\n")
	if rest != "" {
		l += fmt.Sprintf(" (+%d more)", strings.Count(rest, "\n")+1)
	}
	return l
}
