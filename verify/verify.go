package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/labctl/labctl/provision/guestout"
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
	Name     string `json:"check"`
	VM       string `json:"vm"`
	Expected string `json:"expected"`
	Observed string `json:"observed"`
	OK       bool   `json:"ok"`
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
// cancelled ctx.
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
	v := &verifier{lab: lab, hosts: hosts, opts: opts, res: Result{Lab: lab.Name}}
	for _, s := range lab.LVS {
		active := v.vrrp(ctx, s)
		v.ipvs(ctx, s, active)
		v.realServers(ctx, s)
		v.http(ctx, s)
	}
	for _, e := range lab.NFS {
		v.nfs(ctx, e)
	}
	for _, vm := range lab.VMs {
		if vm.RAID != nil && vm.HasRole(topology.RoleRAID) {
			v.raid(ctx, vm)
		}
	}
	return v.res, ctx.Err()
}

type verifier struct {
	lab   *topology.Lab
	hosts Hosts
	opts  Options
	res   Result
}

func (v *verifier) add(c Check) { v.res.Checks = append(v.res.Checks, c) }

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

// vrrp checks that exactly one director holds the VIP (and, for NAT, the
// gateway VIP too) and that keepalived runs on every director. It returns
// the active director, or "" when none holds the VIP.
func (v *verifier) vrrp(ctx context.Context, s *topology.LVSService) string {
	deadline := time.Now().Add(v.opts.VRRPSettle)
	var holders, gwHolders []string
	for {
		var ok bool
		holders, gwHolders, ok = v.vipHolders(ctx, s)
		settled := len(holders) == 1 && (!s.GatewayVIP.IsValid() || slices.Equal(holders, gwHolders))
		if settled || !ok || !time.Now().Before(deadline) {
			break
		}
		select { // an election may be in progress: look again
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, d := range s.Directors {
		_, err := v.run(ctx, d.Name, "systemctl is-active keepalived")
		obs := "active"
		if err != nil {
			obs = "not active"
			if ce := (*ssh.CommandError)(nil); !errors.As(err, &ce) {
				obs = short(err)
			}
		}
		v.add(Check{Name: "keepalived running", VM: d.Name, Expected: "active", Observed: obs, OK: err == nil})
	}
	obs := strings.Join(holders, ", ")
	if obs == "" {
		obs = "none"
	}
	v.add(Check{Name: "VIP " + s.VIP.String() + " held", VM: strings.Join(names(s.Directors), ","),
		Expected: "exactly one director", Observed: obs, OK: len(holders) == 1})
	if s.GatewayVIP.IsValid() {
		gobs := strings.Join(gwHolders, ", ")
		if gobs == "" {
			gobs = "none"
		}
		v.add(Check{Name: "gateway VIP " + s.GatewayVIP.String() + " held", VM: strings.Join(names(s.Directors), ","),
			Expected: "same director as the VIP (" + obs + ")", Observed: gobs, OK: len(holders) == 1 && slices.Equal(holders, gwHolders)})
	}
	if len(holders) == 1 {
		return holders[0]
	}
	return ""
}

// vipHolders lists the directors holding the VIP and the gateway VIP. ok
// is false when a director's addresses could not be read (reported as a
// failed check; waiting would not help).
func (v *verifier) vipHolders(ctx context.Context, s *topology.LVSService) (holders, gwHolders []string, ok bool) {
	ok = true
	for _, d := range s.Directors {
		out, err := v.run(ctx, d.Name, "ip -o -4 addr show")
		if err != nil {
			v.add(Check{Name: "director addresses", VM: d.Name, Expected: "ip addr readable", Observed: short(err)})
			ok = false
			continue
		}
		if guestout.HoldsAddr(out, s.VIP) {
			holders = append(holders, d.Name)
		}
		if s.GatewayVIP.IsValid() && guestout.HoldsAddr(out, s.GatewayVIP) {
			gwHolders = append(gwHolders, d.Name)
		}
	}
	return holders, gwHolders, ok
}

var forwardNames = map[topology.LVSMode]string{topology.LVSNAT: "Masq", topology.LVSDR: "Route", topology.LVSTUN: "Tunnel"}

// ipvs parses `ipvsadm -Ln` on the active director and checks the service
// and every real server with its weight and forwarding method.
func (v *verifier) ipvs(ctx context.Context, s *topology.LVSService, active string) {
	if active == "" && len(s.Directors) > 0 {
		active = s.Directors[0].Name
	}
	addr := netip.AddrPortFrom(s.VIP, uint16(s.Port)).String()
	out, err := v.run(ctx, active, "ipvsadm -Ln")
	if err != nil {
		v.add(Check{Name: "IPVS service " + addr, VM: active, Expected: string(s.Scheduler), Observed: short(err)})
		return
	}
	var svc *guestout.IPVSService
	for _, x := range guestout.ParseIPVS(out) {
		if x.Addr == addr && strings.EqualFold(x.Protocol, protoOrTCP(s.Protocol)) {
			svc = &x
			break
		}
	}
	if svc == nil {
		v.add(Check{Name: "IPVS service " + addr, VM: active, Expected: string(s.Scheduler), Observed: "absent"})
		return
	}
	exp := string(s.Scheduler)
	got := svc.Scheduler
	if s.Persistence != nil {
		timeout := s.Persistence.TimeoutSec
		if timeout == 0 {
			timeout = 300 // what the lvs_director role renders for "no timeout given"
		}
		exp += fmt.Sprintf(" persistent %d", timeout)
		got += fmt.Sprintf(" persistent %d", svc.Persistent)
	}
	v.add(Check{Name: "IPVS service " + addr, VM: active, Expected: exp, Observed: got, OK: exp == got})
	for _, b := range s.Backends {
		rip := netip.AddrPortFrom(b.IP, uint16(s.Port)).String()
		exp := fmt.Sprintf("%s weight %d", forwardNames[s.Mode], b.Weight)
		obs := "absent"
		for _, d := range svc.Destinations {
			if d.Addr == rip {
				obs = fmt.Sprintf("%s weight %d", d.Forward, d.Weight)
			}
		}
		v.add(Check{Name: "IPVS real server " + rip, VM: active, Expected: exp, Observed: obs, OK: exp == obs})
	}
}

func protoOrTCP(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

// realServers checks the per-mode network setup of every backend: the
// default route through the gateway VIP (NAT) or the VIP on lo/tunl0 (DR/TUN).
func (v *verifier) realServers(ctx context.Context, s *topology.LVSService) {
	for _, b := range s.Backends {
		if b.VM == nil {
			continue
		}
		switch s.Mode {
		case topology.LVSNAT:
			out, err := v.run(ctx, b.VM.Name, "ip -4 route show default")
			obs := strings.TrimSpace(out)
			if err != nil {
				obs = short(err)
			}
			want := "default via " + s.GatewayVIP.String()
			v.add(Check{Name: "real server default route", VM: b.VM.Name, Expected: want, Observed: firstLine(obs),
				OK: err == nil && strings.HasPrefix(obs, want+" ") && !strings.Contains(obs, "\n")})
		case topology.LVSDR, topology.LVSTUN:
			dev := "lo"
			if s.Mode == topology.LVSTUN {
				dev = "tunl0"
			}
			out, err := v.run(ctx, b.VM.Name, "ip -o -4 addr show dev "+dev)
			want := s.VIP.String() + "/32 on " + dev
			obs := "absent"
			if err != nil {
				obs = short(err)
			} else if strings.Contains(out, " "+s.VIP.String()+"/32 ") {
				obs = want
			}
			v.add(Check{Name: "real server VIP", VM: b.VM.Name, Expected: want, Observed: obs, OK: obs == want})
		}
	}
}

func firstLine(s string) string {
	l, rest, _ := strings.Cut(s, "\n")
	if rest != "" {
		l += fmt.Sprintf(" (+%d more)", strings.Count(rest, "\n")+1)
	}
	return l
}

// clientFor picks the VM HTTP checks run from: the client of an
// experiment on s, else the first VM with the client role.
func (v *verifier) clientFor(s *topology.LVSService) *topology.VM {
	for _, e := range v.lab.Experiments {
		if e.Service == s.Name && e.Client != nil {
			return e.Client
		}
	}
	for _, vm := range v.lab.VMs {
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
	client := v.clientFor(s)
	if client == nil {
		v.add(Check{Name: "VIP answers HTTP", VM: "-", Expected: "200 from " + url, Observed: "no VM with role client to test from"})
		return
	}
	secs := strconv.FormatFloat(v.opts.Timeout.Seconds(), 'f', -1, 64)
	out, err := v.run(ctx, client.Name, "curl -s -o /dev/null --max-time "+secs+" -w '%{http_code}' "+url)
	code := strings.TrimSpace(out)
	obs := code
	if err != nil {
		obs = short(err)
	}
	v.add(Check{Name: "VIP answers HTTP", VM: client.Name, Expected: "200 from " + url, Observed: obs, OK: err == nil && code == "200"})

	cmd := fmt.Sprintf("for i in $(seq %d); do curl -s -o /dev/null --max-time %s -w '%%{http_code} %%header{x-backend}\\n' %s; done; true",
		v.opts.Requests, secs, url)
	out, err = v.run(ctx, client.Name, cmd)
	if err != nil {
		v.add(Check{Name: "responses from every real server", VM: client.Name, Expected: "X-Backend headers", Observed: short(err)})
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
	c := Check{Name: "responses from every real server", VM: client, Observed: obs}
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

// nfs checks that every client has the export mounted, and that on a RAID
// server the exported directory lives on the array.
func (v *verifier) nfs(ctx context.Context, e *topology.NFSExport) {
	if e.Server != nil && e.Server.RAID != nil {
		md := "/dev/md/" + e.Server.RAID.Name
		out, err := v.run(ctx, e.Server.Name, "findmnt -n -o SOURCE --target "+ssh.Quote(e.Path)+"; readlink -f "+ssh.Quote(md))
		f := strings.Fields(out)
		obs := strings.Join(f, " ")
		ok := err == nil && len(f) == 2 && f[0] == f[1]
		if err != nil {
			obs = short(err)
		} else if len(f) == 2 {
			obs = f[0]
		}
		want := md
		if len(f) == 2 {
			want = f[1] + " (" + md + ")"
		}
		v.add(Check{Name: "export " + e.Path + " on RAID", VM: e.Server.Name, Expected: want, Observed: obs, OK: ok})
	}
	want := e.ServerIP.String() + ":" + e.Path
	for _, c := range e.Clients {
		out, err := v.run(ctx, c.Name, "findmnt -n -o SOURCE,FSTYPE --mountpoint "+ssh.Quote(e.MountPoint)+"; true")
		f := strings.Fields(out)
		obs := "not mounted"
		ok := false
		switch {
		case err != nil:
			obs = short(err)
		case len(f) >= 2:
			obs = f[0] + " (" + f[1] + ")"
			ok = f[0] == want && strings.HasPrefix(f[1], "nfs")
		}
		v.add(Check{Name: "NFS mounted on " + e.MountPoint, VM: c.Name, Expected: want + " (nfs)", Observed: obs, OK: ok})
	}
}

// raid checks level, member count and state with `mdadm --detail`, and
// takes the resync progress from /proc/mdstat. A resyncing array is ok.
func (v *verifier) raid(ctx context.Context, vm *topology.VM) {
	r := vm.RAID
	md := "/dev/md/" + r.Name
	exp := fmt.Sprintf("raid%d, %d active, %d spare, clean", r.Level, r.Members, r.Spares)
	out, err := v.run(ctx, vm.Name, "mdadm --detail "+md)
	if err != nil {
		v.add(Check{Name: "RAID " + md, VM: vm.Name, Expected: exp, Observed: short(err)})
		return
	}
	d := guestout.ParseMdadmDetail(out)
	var progress float64 = -1
	if d.SyncAction != "" {
		progress = float64(d.SyncPercent)
		if dev, err := v.run(ctx, vm.Name, "readlink -f "+md); err == nil {
			if st, err := v.run(ctx, vm.Name, "cat /proc/mdstat"); err == nil {
				for _, a := range guestout.ParseMdstat(st) {
					if "/dev/"+a.Name == strings.TrimSpace(dev) && a.Action != "" {
						progress = a.Progress
					}
				}
			}
		}
	}
	v.add(raidCheck(vm.Name, md, r, d, progress))
}

func raidCheck(vm, md string, r *topology.RAID, d guestout.MdadmDetail, progress float64) Check {
	exp := fmt.Sprintf("raid%d, %d active, %d spare, clean", r.Level, r.Members, r.Spares)
	syncing := d.SyncAction == "resync" || d.SyncAction == "recovery"
	obs := fmt.Sprintf("%s, %d active, %d spare, %s", d.Level, d.ActiveDevices, d.SpareDevices, d.State)
	ok := d.Level == fmt.Sprintf("raid%d", r.Level) && d.RaidDevices == r.Members && d.FailedDevices == 0
	switch {
	case syncing:
		// The initial sync of a new array: RAID 5 builds it as a recovery
		// onto the last member, which counts as a spare until it is done.
		ok = ok && d.WorkingDevices == r.Members+r.Spares
		obs = fmt.Sprintf("%s, %d/%d working", d.Level, d.WorkingDevices, r.Members+r.Spares)
		if ok {
			obs = fmt.Sprintf("ok (%s %s%%) %s", map[string]string{"resync": "resyncing", "recovery": "recovering"}[d.SyncAction],
				strconv.FormatFloat(progress, 'f', -1, 64), obs)
		}
	default:
		ok = ok && d.ActiveDevices == r.Members && d.SpareDevices == r.Spares &&
			!strings.Contains(d.State, "degraded") && !strings.Contains(d.State, "FAILED") && !strings.Contains(d.State, "inactive")
	}
	return Check{Name: "RAID " + md, VM: vm, Expected: exp, Observed: obs, OK: ok}
}
