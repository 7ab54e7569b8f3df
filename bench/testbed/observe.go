package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/topology"
)

// ClusterState is one observation of an LVS service (and, when watched, a RAID
// array) from inside the lab.
type ClusterState struct {
	// At is when the answer arrived (what it says was true at some
	// point of the TookMs before); Snapshot: when the last one arrived.
	At     time.Time `json:"at"`
	TookMs float64   `json:"took_ms"`
	// Holder is the director holding the VIP ("" = none; several are
	// joined with "," — split brain).
	Holder string `json:"holder"`
	// Pool lists the real servers (VM names) with weight > 0 on the
	// holder's IPVS table, sorted; Scheduler is that table's scheduler.
	Pool      []string `json:"pool"`
	Scheduler string   `json:"scheduler,omitempty"`
	// Unreachable lists directors that did not answer (or, watched, whose
	// call has been pending for longer than the Observer's Patience).
	Unreachable []string `json:"unreachable,omitempty"`
	// RAID is the watched array's state: "clean", "degraded [5/4 UUUU_]",
	// "recovery 42.5%", "resync 10.0%" or "unknown: …".
	RAID string `json:"raid,omitempty"`
}

// key is what makes two observations the same cluster state.
func (s ClusterState) key() string {
	return s.Holder + "|" + strings.Join(s.Pool, ",") + "|" + s.Scheduler
}

// Observer reads the service's state over SSH.
type Observer struct {
	Hosts   Hosts
	Service *topology.LVSService
	RAIDVM  *topology.VM  // optional: also read /proc/mdstat here
	Timeout time.Duration // per SSH call; 0 = 15 s (a TCG guest on a busy host needs seconds for sudo + ipvsadm)
	// Patience is how long a watched director's call may be pending before
	// the director counts as not answering (0 = 2.5 s: less than VRRP's
	// ≥ 3 s failover, so a dead MASTER is no longer counted as holding the
	// VIP when its BACKUP takes it; slower calls are rare on a lab host).
	Patience time.Duration
}

func (o *Observer) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return 15 * time.Second
}

// view is one director's answer: whether it holds the VIP and, if so,
// the pool and scheduler of its IPVS table.
type view struct {
	at        time.Time     // the call's start
	took      time.Duration // at+took: when the answer arrived
	reached   bool          // false: no SSH answer (powered off, timeout, no route)
	holds     bool
	pool      []string
	scheduler string
}

// ask asks director d which addresses it holds and what its IPVS table says.
func (o *Observer) ask(ctx context.Context, d *topology.VM) view {
	at := time.Now()
	out, err := runTimeout(ctx, o.Hosts, d.Name, lookCmd, o.timeout())
	if err != nil && !isExit(err) {
		return view{at: at, took: time.Since(at)}
	}
	return o.viewOf(out, at, time.Since(at))
}

// lookCmd prints what viewOf reads.
const lookCmd = "ip -o addr show; echo @@; ipvsadm -Ln"

// viewOf reads lookCmd's output, asked at and answered took later.
func (o *Observer) viewOf(out string, at time.Time, took time.Duration) view {
	v := view{at: at, took: took, reached: true}
	addrs, ipvs, _ := strings.Cut(out, "@@")
	if v.holds = guestout.HoldsAddr(addrs, o.Service.VIP); v.holds {
		v.pool, v.scheduler = o.pool(ipvs)
	}
	return v
}

func (v *view) end() time.Time { return v.at.Add(v.took) }

// merge makes a ClusterState, as known at at, from one view per director (in the
// service's order; nil = no answer) and the RAID state. Directors without
// a usable answer are listed as unreachable.
func (o *Observer) merge(at time.Time, took time.Duration, views []*view, raid string) ClusterState {
	st := ClusterState{At: at, TookMs: float64(took.Microseconds()) / 1000, RAID: raid}
	var holders []string
	for i, d := range o.Service.Directors {
		v := views[i]
		if v == nil || !v.reached {
			st.Unreachable = append(st.Unreachable, d.Name)
			continue
		}
		if v.holds {
			holders = append(holders, d.Name)
			if len(holders) == 1 {
				st.Pool, st.Scheduler = v.pool, v.scheduler
			}
		}
	}
	st.Holder = strings.Join(holders, ",")
	return st
}

// Snapshot asks every director (in parallel) which addresses it holds and
// what its IPVS table says, and waits for all answers.
func (o *Observer) Snapshot(ctx context.Context) ClusterState {
	start := time.Now()
	views := make([]*view, len(o.Service.Directors))
	var wg sync.WaitGroup
	for i, d := range o.Service.Directors {
		wg.Go(func() {
			v := o.ask(ctx, d)
			views[i] = &v
		})
	}
	var raid string
	if o.RAIDVM != nil && o.RAIDVM.RAID != nil {
		wg.Go(func() { raid = o.raidState(ctx) })
	}
	wg.Wait()
	return o.merge(time.Now(), time.Since(start), views, raid)
}

// pool returns the backends with weight > 0 and the scheduler of the
// service in `ipvsadm -Ln` output.
func (o *Observer) pool(ipvs string) ([]string, string) {
	s := o.Service
	addr := netip.AddrPortFrom(s.VIP, uint16(s.Port)).String()
	for _, x := range guestout.ParseIPVS(ipvs) {
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
	arrays := guestout.ParseMdstat(mdstat)
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
