package roles

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/labctl/labctl/topology"
)

// keepalived.conf of a director: one VRRP instance per VIP, one virtual
// server per LVS service, with its health checks.

type kaData struct {
	Lab, VM    string
	RouterID   string
	SyncDaemon *kaSync
	Groups     []kaGroup
	Instances  []kaInstance
	Services   []kaService
}

type kaSync struct{ Interface, Instance string }

type kaGroup struct {
	Name      string
	Instances []string
}

type kaInstance struct {
	Name      string
	State     string
	Interface string
	RouterID  int
	Priority  int
	VIPs      []string // "addr/prefix dev ifname"
}

type kaService struct {
	Name                   string
	VIP                    string
	Port                   int
	DelayLoop              int
	Scheduler              topology.Scheduler
	Kind                   string
	Protocol               string
	PersistenceTimeout     int
	PersistenceGranularity string
	SorryServer            string // "ip port"
	Reals                  []kaReal
}

type kaReal struct {
	IP     string
	Port   int
	Weight int
	Check  *kaCheck
}

type kaCheck struct {
	Type             string // http | tcp
	Path             string
	Status           int
	ConnectTimeout   int
	Retry            int
	DelayBeforeRetry int
}

// vrrpName turns an LVS service name into a keepalived identifier.
func vrrpName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, s)
}

func keepalivedData(lab *topology.Lab, vm *topology.VM) (*kaData, error) {
	d := &kaData{Lab: lab.HandoutName(), VM: vm.Name, RouterID: vm.Hostname}
	if d.RouterID == "" {
		d.RouterID = vm.Name
	}
	for _, s := range servicesDirectedBy(lab, vm) {
		if err := addService(d, s, vm); err != nil {
			return nil, fmt.Errorf("LVS service %q on director %q: %w", s.Name, vm.Name, err)
		}
	}
	return d, nil
}

func addService(d *kaData, s *topology.LVSService, vm *topology.VM) error {
	pos := slices.IndexFunc(s.Directors, func(x *topology.VM) bool { return x.Name == vm.Name })
	state, prio := "MASTER", masterPriority
	if pos > 0 {
		state, prio = "BACKUP", backupPriority-10*(pos-1)
	}
	if s.RouterID < 1 || s.RouterID > 254 {
		// NAT uses RouterID+1 for the internal instance.
		return fmt.Errorf("virtual_router_id %d out of range 1-254", s.RouterID)
	}
	ext, err := nicOn(vm, s.VIPNetwork)
	if err != nil {
		return err
	}
	base := vrrpName(s.Name)
	extInst := kaInstance{
		Name: "VI_" + base + "_EXT", State: state, Interface: ext.Device, RouterID: s.RouterID, Priority: prio,
		VIPs: []string{fmt.Sprintf("%s/%d dev %s", s.VIP, s.VIPNetwork.CIDR.Bits(), ext.Device)},
	}
	d.Instances = append(d.Instances, extInst)
	syncIf, syncInst := ext.Device, extInst.Name

	kind := strings.ToUpper(string(s.Mode))
	switch s.Mode {
	case topology.LVSNAT:
		if !s.GatewayVIP.IsValid() || s.GatewayNet == nil {
			return fmt.Errorf("NAT needs a gateway VIP on the internal network")
		}
		in, err := nicOn(vm, s.GatewayNet)
		if err != nil {
			return err
		}
		intInst := kaInstance{
			Name: "VI_" + base + "_INT", State: state, Interface: in.Device, RouterID: s.RouterID + 1, Priority: prio,
			VIPs: []string{fmt.Sprintf("%s/%d dev %s", s.GatewayVIP, s.GatewayNet.CIDR.Bits(), in.Device)},
		}
		d.Instances = append(d.Instances, intInst)
		// Both VIPs move together: the external one alone would strand replies.
		d.Groups = append(d.Groups, kaGroup{Name: "VG_" + base, Instances: []string{extInst.Name, intInst.Name}})
		syncIf, syncInst = in.Device, intInst.Name
	case topology.LVSDR, topology.LVSTUN:
	default:
		return fmt.Errorf("unknown forwarding mode %q (want nat, dr or tun)", s.Mode)
	}
	// keepalived runs one sync daemon; the first service drives it.
	if d.SyncDaemon == nil {
		d.SyncDaemon = &kaSync{Interface: syncIf, Instance: syncInst}
	}
	if !slices.Contains(topology.Schedulers, s.Scheduler) {
		return fmt.Errorf("unknown scheduler %q (want one of %s)", s.Scheduler, strings.Trim(fmt.Sprint(topology.Schedulers), "[]"))
	}
	proto := strings.ToUpper(s.Protocol)
	if proto == "" {
		proto = "TCP"
	}
	if proto != "TCP" && proto != "UDP" {
		return fmt.Errorf("unknown protocol %q (want tcp or udp)", s.Protocol)
	}
	ks := kaService{
		Name: s.Name, VIP: s.VIP.String(), Port: s.Port, DelayLoop: orDefault(s.Health.IntervalSec, 6),
		Scheduler: s.Scheduler, Kind: kind, Protocol: proto,
	}
	if p := s.Persistence; p != nil {
		ks.PersistenceTimeout = orDefault(p.TimeoutSec, 300)
		ks.PersistenceGranularity = p.Netmask
	}
	if s.SorryServer != "" {
		ap, err := netip.ParseAddrPort(s.SorryServer)
		if err != nil {
			return fmt.Errorf("sorry_server %q: want ip:port", s.SorryServer)
		}
		if s.Mode != topology.LVSNAT && int(ap.Port()) != s.Port {
			// keepalived -t: "virtual server and sorry server ports don't match".
			return fmt.Errorf("sorry_server %q: %s cannot change the port, use port %d", s.SorryServer, strings.ToUpper(string(s.Mode)), s.Port)
		}
		ks.SorryServer = fmt.Sprintf("%s %d", ap.Addr(), ap.Port())
	}
	check, err := healthCheck(s)
	if err != nil {
		return err
	}
	for _, b := range s.Backends {
		if b.Weight < 0 {
			return fmt.Errorf("backend %s: negative weight %d", b.IP, b.Weight)
		}
		ks.Reals = append(ks.Reals, kaReal{IP: b.IP.String(), Port: s.Port, Weight: b.Weight, Check: check})
	}
	d.Services = append(d.Services, ks)
	return nil
}

func healthCheck(s *topology.LVSService) (*kaCheck, error) {
	h := s.Health
	c := &kaCheck{
		Type:             h.Type,
		ConnectTimeout:   orDefault(h.TimeoutSec, 3),
		Retry:            orDefault(h.Retries, 1),
		DelayBeforeRetry: 1,
	}
	switch h.Type {
	case "http", "":
		c.Type = "http"
		c.Path = h.Path
		if c.Path == "" {
			c.Path = "/"
		}
		c.Status = orDefault(h.Status, 200)
	case "tcp":
	default:
		return nil, fmt.Errorf("unknown health check %q (want http or tcp)", h.Type)
	}
	return c, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// VRRP priorities: the first director starts as MASTER, about 50 above the
// backups as keepalived.conf(5) suggests.
const (
	masterPriority = 150
	backupPriority = 100
)
