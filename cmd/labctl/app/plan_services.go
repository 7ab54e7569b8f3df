package app

import (
	"strconv"

	"github.com/labctl/labctl/topology"
)

// planServices is the cluster a lab describes, as `up` will configure it
// and `bench` will test it: the part of a plan that is not libvirt
// objects. Values are the lab's after defaults, in the lab's order.
type planServices struct {
	LVS         []planLVS        `json:"lvs"`
	NFS         []planNFS        `json:"nfs"`
	Web         []planWeb        `json:"web"`
	Experiments []planExperiment `json:"experiments"`
}

type planLVS struct {
	Name           string           `json:"name"`
	VIP            string           `json:"vip"`
	VIPNetwork     string           `json:"vip_network"`
	GatewayVIP     string           `json:"gateway_vip,omitempty"` // NAT only
	GatewayNetwork string           `json:"gateway_network,omitempty"`
	Port           int              `json:"port"`
	Protocol       string           `json:"protocol"`
	Mode           string           `json:"mode"`
	Stack          string           `json:"stack"`
	Scheduler      string           `json:"scheduler"`
	Persistence    *planPersistence `json:"persistence,omitempty"`
	HealthCheck    planHealthCheck  `json:"health_check"`
	SorryServer    string           `json:"sorry_server,omitempty"`
	RouterID       int              `json:"router_id"`
	Directors      []string         `json:"directors"` // the first starts as MASTER (keepalived) or is preferred (pacemaker)
	Backends       []planBackend    `json:"backends"`
}

type planPersistence struct {
	TimeoutSec int    `json:"timeout_s"`
	Netmask    string `json:"netmask,omitempty"`
}

type planHealthCheck struct {
	Type        string `json:"type"`
	Path        string `json:"path,omitempty"`
	Status      int    `json:"status,omitempty"`
	IntervalSec int    `json:"interval_s"`
	TimeoutSec  int    `json:"timeout_s"`
	Retries     int    `json:"retries"`
}

type planBackend struct {
	VM     string `json:"vm"`
	IP     string `json:"ip"`
	Weight int    `json:"weight"`
}

type planNFS struct {
	Name         string   `json:"name"`
	Server       string   `json:"server"`
	ServerIP     string   `json:"server_ip"`
	Path         string   `json:"path"`
	Allow        string   `json:"allow"`
	Options      []string `json:"options"`
	Clients      []string `json:"clients"`
	Mount        string   `json:"mount"`
	MountOptions []string `json:"mount_options"`
}

type planWeb struct {
	Name       string   `json:"name"`
	Servers    []string `json:"servers"`
	Docroot    string   `json:"docroot"`
	Content    string   `json:"content,omitempty"` // NFS export the docroot is on
	HealthPath string   `json:"health_path,omitempty"`
}

type planExperiment struct {
	Name        string      `json:"name"`
	Service     string      `json:"service"`
	Client      string      `json:"client,omitempty"`
	Tool        string      `json:"tool"`
	Concurrency int         `json:"concurrency"`
	Requests    int         `json:"requests"`
	DurationSec float64     `json:"duration_s"`
	RateRPS     float64     `json:"rate_rps"`
	Repeat      int         `json:"repeat"`
	RealServers []int       `json:"real_servers"`
	Schedulers  []string    `json:"schedulers"`
	Faults      []planFault `json:"faults"`
}

type planFault struct {
	Kind     string  `json:"kind"`
	Target   string  `json:"target"`
	AfterSec float64 `json:"after_s"`
}

func servicesOf(lab *topology.Lab) planServices {
	out := planServices{LVS: []planLVS{}, NFS: []planNFS{}, Web: []planWeb{}, Experiments: []planExperiment{}}
	for _, s := range lab.LVS {
		l := planLVS{
			Name: s.Name, VIP: addr(s.VIP), VIPNetwork: netName(s.VIPNetwork),
			GatewayVIP: addr(s.GatewayVIP), GatewayNetwork: netName(s.GatewayNet),
			Port: s.Port, Protocol: s.Protocol, Mode: string(s.Mode), Stack: string(s.Stack), Scheduler: string(s.Scheduler),
			HealthCheck: planHealthCheck{Type: s.Health.Type, Path: s.Health.Path, Status: s.Health.Status,
				IntervalSec: s.Health.IntervalSec, TimeoutSec: s.Health.TimeoutSec, Retries: s.Health.Retries},
			SorryServer: s.SorryServer, RouterID: s.RouterID, Directors: vmNames(s.Directors), Backends: []planBackend{},
		}
		if p := s.Persistence; p != nil {
			l.Persistence = &planPersistence{TimeoutSec: p.TimeoutSec, Netmask: p.Netmask}
		}
		for _, b := range s.Backends {
			l.Backends = append(l.Backends, planBackend{VM: b.VM.Name, IP: addr(b.IP), Weight: b.Weight})
		}
		out.LVS = append(out.LVS, l)
	}
	for _, e := range lab.NFS {
		n := planNFS{Name: e.Name, ServerIP: addr(e.ServerIP), Path: e.Path, Options: e.Options,
			Clients: vmNames(e.Clients), Mount: e.MountPoint, MountOptions: e.MountOpts}
		if e.Server != nil {
			n.Server = e.Server.Name
		}
		if e.Allow.IsValid() {
			n.Allow = e.Allow.String()
		}
		out.NFS = append(out.NFS, n)
	}
	for _, w := range lab.Web {
		p := planWeb{Name: w.Name, Servers: vmNames(w.Servers), Docroot: w.Docroot, HealthPath: w.HealthPath}
		if w.Content != nil {
			p.Content = w.Content.Name
		}
		out.Web = append(out.Web, p)
	}
	for _, e := range lab.Experiments {
		x := planExperiment{Name: e.Name, Service: e.Service, Tool: string(e.Tool), Concurrency: e.Concurrency,
			Requests: e.Requests, DurationSec: e.DurationSec, RateRPS: e.RateRPS, Repeat: e.Repeat,
			RealServers: e.RealServers, Faults: []planFault{}}
		for _, s := range e.Schedulers {
			x.Schedulers = append(x.Schedulers, string(s))
		}
		if e.Client != nil {
			x.Client = e.Client.Name
		}
		for _, f := range e.Faults {
			x.Faults = append(x.Faults, planFault{Kind: string(f.Kind), Target: f.Target, AfterSec: f.AfterSec})
		}
		out.Experiments = append(out.Experiments, x)
	}
	return out
}

func vmNames(vms []*topology.VM) []string {
	out := make([]string, 0, len(vms))
	for _, v := range vms {
		out = append(out, v.Name)
	}
	return out
}

func netName(n *topology.Network) string {
	if n == nil {
		return ""
	}
	return n.Name
}

// addr prints an address, "" for none.
func addr[T interface {
	IsValid() bool
	String() string
}](a T) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// seconds prints a duration in seconds without a trailing ".0".
func seconds(s float64) string {
	return strconv.FormatFloat(s, 'f', -1, 64) + "s"
}
