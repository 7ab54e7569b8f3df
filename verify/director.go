package verify

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Checks of an LVS service on its machines: VRRP ownership of the VIPs and
// the IPVS table on the directors, the per-mode setup of the real servers.

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
	units, what := topology.RoleDirector.Unit(), "keepalived running"
	if s.Stack == topology.StackPacemaker {
		units, what = "corosync pacemaker", "corosync and pacemaker running"
	}
	for _, d := range s.Directors {
		_, err := v.run(ctx, d.Name, "systemctl is-active "+units)
		obs := "active"
		if err != nil {
			obs = "not active"
			if ce := (*ssh.CommandError)(nil); !errors.As(err, &ce) {
				obs = short(err)
			}
		}
		v.add(Check{Kind: topology.GradeDirectors, Name: what, VM: d.Name, Expected: "active", Observed: obs, OK: err == nil})
	}
	obs := strings.Join(holders, ", ")
	if obs == "" {
		obs = "none"
	}
	v.add(Check{Kind: topology.GradeVIP, Name: "VIP " + s.VIP.String() + " held", VM: strings.Join(names(s.Directors), ","),
		Expected: "exactly one director", Observed: obs, OK: len(holders) == 1})
	if s.GatewayVIP.IsValid() {
		gobs := strings.Join(gwHolders, ", ")
		if gobs == "" {
			gobs = "none"
		}
		v.add(Check{Kind: topology.GradeGatewayVIP, Name: "gateway VIP " + s.GatewayVIP.String() + " held", VM: strings.Join(names(s.Directors), ","),
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
			v.add(Check{Kind: topology.GradeVIP, Name: "director addresses", VM: d.Name, Expected: "ip addr readable", Observed: short(err)})
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
		v.add(Check{Kind: topology.GradeIPVS, Name: "IPVS service " + addr, VM: active, Expected: string(s.Scheduler), Observed: short(err)})
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
		v.add(Check{Kind: topology.GradeIPVS, Name: "IPVS service " + addr, VM: active, Expected: string(s.Scheduler), Observed: "absent"})
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
	v.add(Check{Kind: topology.GradeIPVS, Name: "IPVS service " + addr, VM: active, Expected: exp, Observed: got, OK: exp == got})
	for _, b := range s.Backends {
		rip := netip.AddrPortFrom(b.IP, uint16(s.Port)).String()
		exp := fmt.Sprintf("%s weight %d", forwardNames[s.Mode], b.Weight)
		obs := "absent"
		for _, d := range svc.Destinations {
			if d.Addr == rip {
				obs = fmt.Sprintf("%s weight %d", d.Forward, d.Weight)
			}
		}
		v.add(Check{Kind: topology.GradeIPVS, Name: "IPVS real server " + rip, VM: active, Expected: exp, Observed: obs, OK: exp == obs})
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
			v.add(Check{Kind: topology.GradeRealServers, Name: "real server default route", VM: b.VM.Name, Expected: want, Observed: firstLine(obs),
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
			v.add(Check{Kind: topology.GradeRealServers, Name: "real server VIP", VM: b.VM.Name, Expected: want, Observed: obs, OK: obs == want})
		}
	}
}
