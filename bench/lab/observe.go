package lab

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// State is one observation of an LVS service (and, when watched, a RAID
// array) from inside the lab.
type State struct {
	At     time.Time `json:"at"`
	TookMs float64   `json:"took_ms"`
	// Holder is the director holding the VIP ("" = none; several are
	// joined with "," — split brain).
	Holder string `json:"holder"`
	// Pool lists the real servers (VM names) with weight > 0 on the
	// holder's IPVS table, sorted; Scheduler is that table's scheduler.
	Pool      []string `json:"pool"`
	Scheduler string   `json:"scheduler,omitempty"`
	// Unreachable lists directors that did not answer in time.
	Unreachable []string `json:"unreachable,omitempty"`
	// RAID is the watched array's state: "clean", "degraded [5/4 UUUU_]",
	// "recovery 42.5%", "resync 10.0%" or "unknown: …".
	RAID string `json:"raid,omitempty"`
}

// key is what makes two observations the same cluster state.
func (s State) key() string {
	return s.Holder + "|" + strings.Join(s.Pool, ",") + "|" + s.Scheduler
}

// Observer reads the service's state over SSH.
type Observer struct {
	Hosts   Hosts
	Service *topology.LVSService
	RAIDVM  *topology.VM  // optional: also read /proc/mdstat here
	Timeout time.Duration // per SSH call; 0 = 15 s (a TCG guest on a busy host needs seconds for sudo + ipvsadm)
}

func (o *Observer) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 15 * time.Second
}

// Snapshot asks every director (in parallel) which addresses it holds and
// what its IPVS table says.
func (o *Observer) Snapshot(ctx context.Context) State {
	st := State{At: time.Now()}
	s := o.Service
	type answer struct {
		addrs, ipvs string
		err         error
	}
	answers := make([]answer, len(s.Directors))
	var wg sync.WaitGroup
	for i, d := range s.Directors {
		wg.Go(func() {
			out, err := runTimeout(ctx, o.Hosts, d.Name, "ip -o addr show; echo @@; ipvsadm -Ln", o.timeout())
			a, b, _ := strings.Cut(out, "@@")
			answers[i] = answer{a, b, err}
		})
	}
	var raid string
	if o.RAIDVM != nil && o.RAIDVM.RAID != nil {
		wg.Go(func() { raid = o.raidState(ctx) })
	}
	wg.Wait()
	var holders []string
	for i, d := range s.Directors {
		a := answers[i]
		if a.err != nil && !isExit(a.err) {
			st.Unreachable = append(st.Unreachable, d.Name)
			continue
		}
		if holdsAddr(a.addrs, s.VIP) {
			holders = append(holders, d.Name)
			if len(holders) == 1 {
				st.Pool, st.Scheduler = o.pool(a.ipvs)
			}
		}
	}
	st.Holder = strings.Join(holders, ",")
	st.RAID = raid
	st.TookMs = float64(time.Since(st.At).Microseconds()) / 1000
	return st
}

// holdsAddr reports whether `ip -o addr show` output lists addr.
func holdsAddr(out string, addr netip.Addr) bool {
	for _, f := range strings.Fields(out) {
		if p, err := netip.ParsePrefix(f); err == nil && p.Addr() == addr {
			return true
		}
	}
	return false
}

// pool returns the backends with weight > 0 and the scheduler of the
// service in `ipvsadm -Ln` output.
func (o *Observer) pool(ipvs string) ([]string, string) {
	s := o.Service
	addr := netip.AddrPortFrom(s.VIP, uint16(s.Port)).String()
	for _, x := range verify.ParseIPVS(ipvs) {
		if x.Addr != addr || !strings.EqualFold(x.Protocol, proto(s)) {
			continue
		}
		pool := []string{}
		for _, d := range x.Destinations {
			if d.Weight > 0 {
				pool = append(pool, backendName(s, d.Addr))
			}
		}
		slices.Sort(pool)
		return pool, x.Scheduler
	}
	return nil, ""
}

func proto(s *topology.LVSService) string {
	if s.Protocol == "" {
		return "tcp"
	}
	return s.Protocol
}

// backendName maps "ip:port" to the backend's VM name.
func backendName(s *topology.LVSService, addrPort string) string {
	for _, b := range s.Backends {
		if netip.AddrPortFrom(b.IP, uint16(s.Port)).String() == addrPort {
			return b.VM.Name
		}
	}
	return addrPort
}

func (o *Observer) raidState(ctx context.Context) string {
	out, err := runTimeout(ctx, o.Hosts, o.RAIDVM.Name, "cat /proc/mdstat", o.timeout())
	if err != nil {
		return "unknown: " + firstLine(err.Error())
	}
	return raidSummary(out)
}

// raidSummary condenses /proc/mdstat to the first md array's state.
func raidSummary(mdstat string) string {
	arrays := verify.ParseMdstat(mdstat)
	if len(arrays) == 0 {
		return "unknown: no md array"
	}
	a := arrays[0]
	switch {
	case a.Action != "":
		return fmt.Sprintf("%s %.1f%%", a.Action, a.Progress)
	case a.Have < a.Want:
		return fmt.Sprintf("degraded [%d/%d %s]", a.Want, a.Have, a.Map)
	}
	return "clean"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Timeline is the states a Watch has seen so far; the scenario reads it
// while Watch appends (to end the observation once the cluster is back).
type Timeline struct {
	mu     sync.Mutex
	states []State
}

func (t *Timeline) add(s State) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.states = append(t.states, s)
}

// States returns a copy of the states so far, in order.
func (t *Timeline) States() []State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.states)
}

// Watch takes a Snapshot every interval until ctx ends and adds them to
// tl in order. A snapshot still running when ctx ends is dropped.
func (o *Observer) Watch(ctx context.Context, interval time.Duration, tl *Timeline) {
	for {
		next := time.Now().Add(interval)
		st := o.Snapshot(ctx)
		if ctx.Err() != nil {
			return
		}
		tl.add(st)
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
