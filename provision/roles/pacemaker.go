package roles

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/templates"
	"github.com/labctl/labctl/topology"
)

// The thesis' director stack: Corosync 3 membership, Pacemaker moving the
// VIPs (IPaddr2) and ldirectord (which programs IPVS and checks the real
// servers) as one group, ldirectord started by Pacemaker on the active
// node only.

const (
	corosyncConf    = "/etc/corosync/corosync.conf"
	corosyncAuthkey = "/etc/corosync/authkey"
	ldirectordConf  = "/etc/ha.d/ldirectord.cf"
	// pacemakerCRM is the crm shell configuration labctl loaded last (on
	// the first director only: the CIB is replicated).
	pacemakerCRM = "/etc/labctl/pacemaker.crm"
	// authkeySecret names the lab secret the authkey is made of.
	authkeySecret = "corosync-authkey"
	authkeySize   = 256 // what corosync-keygen writes
)

func pacemakerRole() *role {
	return &role{
		name:     topology.RolePacemaker,
		packages: []string{"corosync", "pacemaker", "crmsh", "resource-agents", "ldirectord", "ipvsadm", "kmod", "procps"},
		files:    pacemakerFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			steps := []step{
				{name: "ip_vs module", writes: []string{directorModules}, run: directorModulesStep},
				{name: "sysctl", writes: []string{directorSysctlConf}, run: directorSysctlStep},
				{name: "ldirectord.cf", writes: []string{ldirectordConf}, run: fileStep(pacemakerFiles, ldirectordConf)},
				{name: "corosync authkey", writes: []string{corosyncAuthkey}, run: authkeyStep},
				{name: "corosync.conf", writes: []string{corosyncConf}, run: corosyncConfStep},
				{name: "corosync service", run: func(ctx context.Context, h *host) (bool, error) {
					return h.ensureService(ctx, "corosync", "restart")
				}},
				{name: "pacemaker service", run: func(ctx context.Context, h *host) (bool, error) {
					return h.ensureService(ctx, topology.RolePacemaker.Unit(), "restart")
				}},
			}
			if isFirstDirector(lab, vm) {
				steps = append(steps, step{name: "cluster resources", writes: []string{pacemakerCRM, "the cluster's CIB"}, run: clusterResourcesStep})
			}
			return steps
		},
	}
}

// isFirstDirector reports whether vm is the first director of a
// Pacemaker service (the node that loads the cluster configuration).
func isFirstDirector(lab *topology.Lab, vm *topology.VM) bool {
	for _, s := range servicesDirectedBy(lab, vm) {
		if s.Stack == topology.StackPacemaker && s.Directors[0].Name == vm.Name {
			return true
		}
	}
	return false
}

// pacemakerServices returns the Pacemaker services vm directs; topology
// guarantees they share one director list and one set of resource options.
func pacemakerServices(lab *topology.Lab, vm *topology.VM) ([]*topology.LVSService, error) {
	var out []*topology.LVSService
	for _, s := range servicesDirectedBy(lab, vm) {
		if s.Stack != topology.StackPacemaker {
			return nil, fmt.Errorf("LVS service %q runs on %s, but VM %q is a Pacemaker director", s.Name, s.Stack, vm.Name)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("VM %q directs no Pacemaker LVS service", vm.Name)
	}
	return out, nil
}

type corosyncData struct {
	Lab, VM, Cluster string
	Nodes            []corosyncNode
	TwoNode          bool
}

type corosyncNode struct {
	Name  string
	ID    int
	Rings []string // knet link addresses, link 0 first
}

// corosyncValues puts every network all directors share on a knet link:
// the real servers' network first (NAT's internal one), so membership
// survives the loss of any one network.
func corosyncValues(lab *topology.Lab, vm *topology.VM, s *topology.LVSService) (corosyncData, error) {
	d := corosyncData{Lab: lab.HandoutName(), VM: vm.Name, Cluster: lab.HandoutName(), TwoNode: len(s.Directors) == 2}
	var nets []*topology.Network
	first := s.Directors[0]
	for _, n := range first.NICs {
		if n.Management || n.Network == nil {
			continue
		}
		shared := true
		for _, o := range s.Directors[1:] {
			_, err := nicOn(o, n.Network)
			shared = shared && err == nil
		}
		if shared {
			nets = append(nets, n.Network)
		}
	}
	if s.GatewayNet != nil {
		if i := slices.Index(nets, s.GatewayNet); i > 0 {
			nets = append([]*topology.Network{s.GatewayNet}, slices.Delete(nets, i, i+1)...)
		}
	}
	if len(nets) == 0 {
		return d, errors.New("the directors share no lab network for corosync")
	}
	if len(nets) > 8 {
		nets = nets[:8] // knet's limit
	}
	for i, dir := range s.Directors {
		node := corosyncNode{Name: dir.Hostname, ID: i + 1}
		for _, n := range nets {
			nic, err := nicOn(dir, n)
			if err != nil {
				return d, err
			}
			if !nic.IP.IsValid() {
				return d, fmt.Errorf("director %q has no static address on network %q for corosync", dir.Name, n.Name)
			}
			node.Rings = append(node.Rings, nic.IP.String())
		}
		d.Nodes = append(d.Nodes, node)
	}
	return d, nil
}

type ldData struct {
	Lab, VM       string
	CheckInterval int // seconds, the shortest of the virtuals'
	Virtuals      []ldVirtual
}

type ldVirtual struct {
	Name, Addr          string
	Reals               []ldReal
	Fallback            string // "ip:port method"
	Scheduler, Protocol string
	Persistent          int
	Netmask             string
	CheckInterval       int
	CheckTimeout        int
	FailureCount        int
	Request             string // HTTP check path; "" = TCP connect check
}

type ldReal struct {
	Addr, Method string
	Weight       int
}

// ldMethods maps forwarding modes to ldirectord's words.
var ldMethods = map[topology.LVSMode]string{topology.LVSNAT: "masq", topology.LVSDR: "gate", topology.LVSTUN: "ipip"}

func ldVirtualOf(s *topology.LVSService) (ldVirtual, error) {
	method, ok := ldMethods[s.Mode]
	if !ok {
		return ldVirtual{}, fmt.Errorf("unknown forwarding mode %q (want nat, dr or tun)", s.Mode)
	}
	proto := strings.ToLower(s.Protocol)
	if proto == "" {
		proto = "tcp"
	}
	h := s.Health
	v := ldVirtual{
		Name: s.Name, Addr: netip.AddrPortFrom(s.VIP, uint16(s.Port)).String(),
		Scheduler: string(s.Scheduler), Protocol: proto,
		CheckInterval: orDefault(h.IntervalSec, 6), CheckTimeout: orDefault(h.TimeoutSec, 3),
		// keepalived's retry counts retries after a failure, ldirectord's
		// failurecount the failures before a server is taken out.
		FailureCount: h.Retries + 1,
	}
	if h.Type != "tcp" {
		v.Request = h.Path
		if v.Request == "" {
			v.Request = "/"
		}
	}
	if p := s.Persistence; p != nil {
		v.Persistent = orDefault(p.TimeoutSec, 300)
		v.Netmask = p.Netmask
	}
	if s.SorryServer != "" {
		ap, err := netip.ParseAddrPort(s.SorryServer)
		if err != nil {
			return v, fmt.Errorf("sorry_server %q: want ip:port", s.SorryServer)
		}
		v.Fallback = ap.String() + " " + method
	}
	for _, b := range s.Backends {
		v.Reals = append(v.Reals, ldReal{Addr: netip.AddrPortFrom(b.IP, uint16(s.Port)).String(), Method: method, Weight: b.Weight})
	}
	return v, nil
}

type crmData struct {
	Lab, VM            string
	IPs                []crmIP
	LdirectordConf     string
	MigrationThreshold int
	FailureTimeout     int
	Preferred          string // node the group prefers (the first director)
}

type crmIP struct {
	Name, IP string
	Bits     int
	NIC      string // "" when the directors name the NIC differently (IPaddr2 then finds it by subnet)
}

func crmIPOf(name string, addr netip.Addr, n *topology.Network, dirs []*topology.VM) (crmIP, error) {
	ip := crmIP{Name: name, IP: addr.String(), Bits: n.CIDR.Bits()}
	for i, d := range dirs {
		nic, err := nicOn(d, n)
		if err != nil {
			return ip, err
		}
		if i == 0 {
			ip.NIC = nic.Device
		} else if nic.Device != ip.NIC {
			ip.NIC = ""
			break
		}
	}
	return ip, nil
}

// crmName turns an LVS service name into a CIB id (letters, digits, _).
func crmName(s string) string { return strings.ToLower(vrrpName(s)) }

func crmValues(lab *topology.Lab, vm *topology.VM, svcs []*topology.LVSService) (crmData, error) {
	first := svcs[0]
	d := crmData{
		Lab: lab.HandoutName(), VM: vm.Name, LdirectordConf: ldirectordConf,
		MigrationThreshold: first.MigrationThreshold, FailureTimeout: first.FailureTimeoutSec,
		Preferred: first.Directors[0].Hostname,
	}
	for _, s := range svcs {
		ip, err := crmIPOf("p_"+crmName(s.Name)+"_vip", s.VIP, s.VIPNetwork, s.Directors)
		if err != nil {
			return d, err
		}
		d.IPs = append(d.IPs, ip)
		if s.Mode == topology.LVSNAT {
			if !s.GatewayVIP.IsValid() || s.GatewayNet == nil {
				return d, fmt.Errorf("LVS service %q: NAT needs a gateway VIP on the internal network", s.Name)
			}
			gw, err := crmIPOf("p_"+crmName(s.Name)+"_gateway", s.GatewayVIP, s.GatewayNet, s.Directors)
			if err != nil {
				return d, err
			}
			d.IPs = append(d.IPs, gw)
		}
	}
	return d, nil
}

func pacemakerFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	svcs, err := pacemakerServices(lab, vm)
	if err != nil {
		return nil, err
	}
	base, err := directorBaseFiles(lab, vm)
	if err != nil {
		return nil, err
	}
	cd, err := corosyncValues(lab, vm, svcs[0])
	if err != nil {
		return nil, fmt.Errorf("corosync on director %q: %w", vm.Name, err)
	}
	ld := ldData{Lab: lab.HandoutName(), VM: vm.Name}
	for _, s := range svcs {
		v, err := ldVirtualOf(s)
		if err != nil {
			return nil, fmt.Errorf("LVS service %q on director %q: %w", s.Name, vm.Name, err)
		}
		ld.Virtuals = append(ld.Virtuals, v)
		if ld.CheckInterval == 0 || v.CheckInterval < ld.CheckInterval {
			ld.CheckInterval = v.CheckInterval
		}
	}
	out := base
	for _, r := range []struct {
		path, tmpl string
		data       any
	}{
		{ldirectordConf, "ldirectord.cf.tmpl", ld},
		{corosyncConf, "corosync.conf.tmpl", cd},
	} {
		b, err := templates.Render(r.tmpl, r.data)
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: r.path, data: b, mode: 0o644})
	}
	if isFirstDirector(lab, vm) {
		crm, err := crmValues(lab, vm, svcs)
		if err != nil {
			return nil, err
		}
		b, err := templates.Render("pacemaker.crm.tmpl", crm)
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: pacemakerCRM, data: b, mode: 0o644})
	}
	return out, nil
}

// fileStep writes one rendered file of files, no service involved.
func fileStep(files func(*topology.Lab, *topology.VM) ([]file, error), path string) func(context.Context, *host) (bool, error) {
	return func(ctx context.Context, h *host) (bool, error) {
		fs, err := files(h.lab, h.vm)
		if err != nil {
			return false, err
		}
		return h.ensureFiles(ctx, pick(fs, path), nil)
	}
}

// authkeyStep installs the lab's corosync key (the same on every node:
// knet drops packets it cannot authenticate).
func authkeyStep(ctx context.Context, h *host) (bool, error) {
	if h.secret == nil {
		return false, errors.New("no lab secret store to take the corosync authkey from")
	}
	key, err := h.secret(authkeySecret, authkeySize)
	if err != nil {
		return false, err
	}
	return h.ensureUnitFiles(ctx, "corosync", []file{{path: corosyncAuthkey, data: key, mode: 0o400}}, nil)
}

func corosyncConfStep(ctx context.Context, h *host) (bool, error) {
	files, err := pacemakerFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	return h.ensureUnitFiles(ctx, "corosync", pick(files, corosyncConf), func(ctx context.Context) error {
		_, err := h.run(ctx, "corosync -t")
		return err
	})
}

// clusterWait bounds each wait and cluster command of the cluster
// resources step: the peer may still be booting or configuring under TCG,
// and crmsh (Python) is slow there.
const clusterWait = "300"

// clusterResourcesStep loads the resources into the CIB once both nodes
// have met (two_node's wait_for_all), after checking them in a copy of the
// CIB, so the live CIB only ever gets a configuration Pacemaker accepts.
// The file on the guest is replaced last, once the resources run: a run
// that fails before then loads them again next time.
func clusterResourcesStep(ctx context.Context, h *host) (bool, error) {
	files, err := pacemakerFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	want := pick(files, pacemakerCRM)[0]
	same, err := h.matches(ctx, want)
	if err != nil || same {
		return false, err
	}
	quorate := "timeout " + clusterWait + " sh -c 'until " + guestout.CrmMonCmd + " 2>/dev/null | grep -q \"with_quorum=.true\"; do sleep 2; done'"
	if err := h.slot.idle(ctx, func(ctx context.Context) error { _, err := h.run(ctx, quorate); return err }); err != nil {
		return false, fmt.Errorf("the cluster did not become quorate within %ss (both directors must run corosync and pacemaker): %w", clusterWait, err)
	}
	old, _, err := h.read(ctx, pacemakerCRM)
	if err != nil {
		return false, err
	}
	tmp := pacemakerCRM + ".labctl-new"
	if err := h.write(ctx, tmp, want.data, want.mode); err != nil {
		return false, err
	}
	cleanup := "rm -f " + tmp + " " + tmp + ".load " + tmp + ".xml"
	crm := "timeout " + clusterWait + " crm -F configure "
	// crmsh keeps comments in the CIB; the file's are for its reader.
	// "load update" adds and changes, so what labctl loaded before and no
	// longer renders is deleted by name.
	update := crm + "load update " + tmp + ".load"
	for _, id := range removedPrimitives(old, want.data) {
		// Only while the CIB has it: a run that failed after deleting it
		// left the old file behind.
		update += " && { ! crm_resource --resource " + shq(id) + " --query-xml >/dev/null 2>&1 || " + crm + "delete " + shq(id) + "; }"
	}
	check := "grep -v '^#' " + tmp + " > " + tmp + ".load && timeout " + clusterWait + " cibadmin -Q > " + tmp + ".xml && " +
		"CIB_file=" + tmp + ".xml sh -c " + shq(update) + " && crm_verify -x " + tmp + ".xml"
	if _, err := h.run(ctx, check); err != nil {
		_, _ = h.run(context.WithoutCancel(ctx), cleanup)
		return false, fmt.Errorf("validate the cluster configuration (live CIB untouched): %w", err)
	}
	if _, err := h.run(ctx, update); err != nil {
		return true, err
	}
	// Return once the cluster has acted on it, so that up ends with the
	// service running, as with keepalived. crm_resource --wait also
	// returns when a start failed, so crm_mon says whether they run.
	if _, err := h.run(ctx, "crm_resource --wait --timeout="+clusterWait+"s"); err != nil {
		return true, fmt.Errorf("the cluster did not settle within %ss after loading its resources: %w", clusterWait, err)
	}
	out, err := h.run(ctx, guestout.CrmMonCmd)
	if err != nil {
		return true, err
	}
	m, err := guestout.ParseCrmMon(out)
	if err != nil {
		return true, err
	}
	bad := m.Misplaced("")
	if len(m.Resources) == 0 {
		bad = []string{"no resources"}
	}
	if len(bad) > 0 {
		return true, fmt.Errorf("the cluster loaded its resources but does not run them on one node: %s (see crm_mon -1 and journalctl -u pacemaker)", strings.Join(bad, "; "))
	}
	_, err = h.run(ctx, "mv "+tmp+" "+pacemakerCRM+" && "+cleanup)
	return true, err
}

// removedPrimitives lists the primitives defined in the crm file old but
// not in the new one.
func removedPrimitives(old, new []byte) []string {
	ids := func(b []byte) []string {
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "primitive" {
				out = append(out, f[1])
			}
		}
		return out
	}
	keep := ids(new)
	var gone []string
	for _, id := range ids(old) {
		if !slices.Contains(keep, id) {
			gone = append(gone, id)
		}
	}
	return gone
}
