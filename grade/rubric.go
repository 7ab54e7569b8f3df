package grade

import (
	"slices"

	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// Item is one line of the rubric.
type Item struct {
	Check  topology.GradeCheck
	Title  string
	Points int
	Hint   string // shown when the line fails
	// Drill: a fault is injected and reverted; Needs are the lines that
	// must pass first (a drill on a service that does not answer would
	// only wait for its timeouts).
	Drill bool
	Needs []topology.GradeCheck
}

// items is every line with its default points, in rubric order.
var items = []Item{
	{Check: topology.GradeDirectors, Title: "keepalived runs on every director", Points: 5,
		Hint: "enable and start keepalived on every director (systemctl enable --now keepalived); journalctl -u keepalived says why it stopped"},
	{Check: topology.GradeVIP, Title: "the VIP is on exactly one director", Points: 10,
		Hint: "one vrrp_instance per service with the VIP in virtual_ipaddress, the same virtual_router_id and auth on both directors, MASTER/BACKUP with different priorities"},
	{Check: topology.GradeGatewayVIP, Title: "the gateway VIP moves with the VIP", Points: 10,
		Hint: "LVS-NAT: the real servers route their answers through the internal gateway VIP; put it in virtual_ipaddress of the same vrrp_instance as the VIP (or a vrrp_sync_group)"},
	{Check: topology.GradeIPVS, Title: "the IPVS table on the active director", Points: 10,
		Hint: "a keepalived virtual_server for VIP:port with the lab's scheduler (lb_algo), forwarding (lb_kind) and one real_server block per backend; ipvsadm -Ln shows it"},
	{Check: topology.GradeRealServers, Title: "the real servers are set up for the forwarding mode", Points: 5,
		Hint: "NAT: each real server's default route goes via the gateway VIP; DR/TUN: the VIP on lo (tunl0) with arp_ignore=1 and arp_announce=2"},
	{Check: topology.GradeHTTP, Title: "the VIP answers HTTP from the client", Points: 10,
		Hint: "curl http://VIP/ from the client must give 200: the VIP on a director, the IPVS table, and the real servers' way back"},
	{Check: topology.GradeBackends, Title: "every real server answers through the VIP", Points: 10,
		Hint: "every backend must be in the IPVS table and serve the site; compare ipvsadm -Ln with the lab's backends"},
	{Check: topology.GradeNFS, Title: "the site is on NFS, exported from the RAID", Points: 10,
		Hint: "export the site's directory on the array (/etc/exports, exportfs -ra) and mount it on every web server at the docroot (an fstab line with _netdev)"},
	{Check: topology.GradeRAID, Title: "the RAID array is clean, at its level, with every member", Points: 5,
		Hint: "mdadm --create at the lab's level with every member disk, a filesystem on it, mounted, and the array in /etc/mdadm/mdadm.conf"},
	{Check: topology.GradeFailover, Title: "drill: the active director's keepalived dies, the other takes over", Points: 10, Drill: true,
		Needs: []topology.GradeCheck{topology.GradeVIP, topology.GradeHTTP},
		Hint:  "the BACKUP director must take the VIP (and the gateway VIP) within the bound, with the same virtual_server, so the service keeps answering"},
	{Check: topology.GradeBackendOut, Title: "drill: a real server's web server stops, it leaves the pool and returns", Points: 10, Drill: true,
		Needs: []topology.GradeCheck{topology.GradeBackends},
		Hint:  "a health check per real server (HTTP_GET or TCP_CHECK in keepalived) removes a dead backend from the IPVS table and adds it back when it answers"},
	{Check: topology.GradeRAIDMember, Title: "drill: a RAID member fails, the array degrades and the site still serves", Points: 5, Drill: true,
		Needs: []topology.GradeCheck{topology.GradeRAID, topology.GradeHTTP},
		Hint:  "a redundant level (1, 5, 6, 10) keeps the array running on a failed disk; the docroot must live on it over NFS"},
}

// Rubric is the lines that apply to lab, with the points its exercise
// gives (lines worth 0 points are left out).
func Rubric(lab *topology.Lab) []Item {
	var out []Item
	for _, it := range items {
		if !applies(lab, it.Check) {
			continue
		}
		if lab.Exercise != nil {
			if p, ok := lab.Exercise.Points[it.Check]; ok {
				it.Points = p
			}
		}
		if it.Check == topology.GradeRAIDMember && len(lab.NFS) > 0 {
			// "the site still serves" means from the array, over NFS.
			it.Needs = append(slices.Clone(it.Needs), topology.GradeNFS)
		}
		if it.Points > 0 {
			out = append(out, it)
		}
	}
	return out
}

func applies(lab *topology.Lab, c topology.GradeCheck) bool {
	lvs := len(lab.LVS) > 0
	client := clientVM(lab) != nil
	switch c {
	case topology.GradeDirectors, topology.GradeVIP, topology.GradeIPVS, topology.GradeRealServers:
		return lvs
	case topology.GradeHTTP, topology.GradeBackends:
		return lvs && client // verify asks the VIP from the client VM
	case topology.GradeGatewayVIP:
		return slices.ContainsFunc(lab.LVS, func(s *topology.LVSService) bool { return s.GatewayVIP.IsValid() })
	case topology.GradeNFS:
		return len(lab.NFS) > 0
	case topology.GradeRAID:
		return raidVM(lab) != nil
	case topology.GradeFailover:
		return client && lvs && len(lab.LVS[0].Directors) > 1
	case topology.GradeBackendOut:
		return client && lvs && len(lab.LVS[0].Backends) > 1
	case topology.GradeRAIDMember:
		vm := raidVM(lab)
		return client && lvs && vm != nil && vm.RAID.Level != 0
	}
	return false
}

// raidVM is the first VM whose RAID labctl manages.
func raidVM(lab *topology.Lab) *topology.VM {
	for _, vm := range lab.VMs {
		if vm.RAID != nil && vm.HasRole(topology.RoleRAID) {
			return vm
		}
	}
	return nil
}

// clientVM is where the drills' prober runs: verify's client of the
// first service.
func clientVM(lab *topology.Lab) *topology.VM {
	if len(lab.LVS) == 0 {
		return nil
	}
	return verify.ClientFor(lab, lab.LVS[0])
}
