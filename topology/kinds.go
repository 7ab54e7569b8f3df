package topology

// The cluster's vocabulary: each kind with its one list. Validation,
// "did you mean" hints, roles and bench all read these lists.

// Scheduler is an IPVS scheduler (ipvsadm(8), Linux 6.1).
type Scheduler string

// Schedulers are the IPVS schedulers labctl accepts.
var Schedulers = []Scheduler{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh"}

// DirectorStack is the software that runs an LVS service's directors.
type DirectorStack string

// Director stacks.
const (
	// StackKeepalived: VRRP moves the VIPs, keepalived's checker programs IPVS.
	StackKeepalived DirectorStack = "keepalived"
	// StackPacemaker: Corosync membership, Pacemaker IPaddr2 resources for
	// the VIPs and ldirectord for IPVS (the KVM cluster thesis' stack).
	StackPacemaker DirectorStack = "pacemaker"
)

// DirectorStacks lists every director stack; the first is the default.
var DirectorStacks = []DirectorStack{StackKeepalived, StackPacemaker}

// Role is the role a director of this stack has.
func (s DirectorStack) Role() Role {
	if s == StackPacemaker {
		return RolePacemaker
	}
	return RoleDirector
}

// FaultKind is what a fault of an experiment does to its target.
type FaultKind string

// Fault kinds.
const (
	DestroyDirector FaultKind = "destroy_director"
	KillKeepalived  FaultKind = "kill_keepalived"
	StopWeb         FaultKind = "stop_web"
	DestroyVM       FaultKind = "destroy_vm"
	FailRAIDMember  FaultKind = "fail_raid_member"
	StopNFS         FaultKind = "stop_nfs"
	LinkDown        FaultKind = "link_down"
	// Pacemaker stack (the thesis' Prueba 4 and Pacemaker's own tools):
	KillLdirectord  FaultKind = "kill_ldirectord"  // kill -9 on the active director; Pacemaker restarts or moves it
	StandbyDirector FaultKind = "standby_director" // crm node standby of the active director, online again on revert
	StopCorosync    FaultKind = "stop_corosync"    // membership lost on the active director (Pacemaker stops with it)
)

// FaultKinds lists every fault kind.
var FaultKinds = []FaultKind{DestroyDirector, KillKeepalived, StopWeb, DestroyVM, FailRAIDMember, StopNFS, LinkDown,
	KillLdirectord, StandbyDirector, StopCorosync}

// ActiveDirectorFault reports whether a fault of kind k hits whichever
// director holds the VIP when it is injected (the declared target may have
// failed over earlier).
func (k FaultKind) ActiveDirectorFault() bool {
	switch k {
	case DestroyDirector, KillKeepalived, KillLdirectord, StandbyDirector, StopCorosync:
		return true
	}
	return false
}

// Stack is the director stack a fault of kind k needs ("" = any).
func (k FaultKind) Stack() DirectorStack {
	switch k {
	case KillKeepalived:
		return StackKeepalived
	case KillLdirectord, StandbyDirector, StopCorosync:
		return StackPacemaker
	}
	return ""
}

// Tool is the load generator of an experiment.
type Tool string

// Load tools.
const (
	ToolBuiltin Tool = "builtin" // labctl's own HTTP load generator
	ToolAB      Tool = "ab"
	ToolSiege   Tool = "siege"
)

// Tools lists every load tool.
var Tools = []Tool{ToolBuiltin, ToolAB, ToolSiege}

// Role is what labctl configures on a VM.
type Role string

// Role names, in the order they are applied on a VM and across the lab.
const (
	RoleRAID       Role = "raid"
	RoleNFSServer  Role = "nfs_server"
	RoleNFSClient  Role = "nfs_client"
	RoleWeb        Role = "web"
	RoleRealServer Role = "real_server"
	RoleDirector   Role = "lvs_director"       // keepalived stack
	RolePacemaker  Role = "pacemaker_director" // Corosync + Pacemaker + ldirectord stack
	RoleClient     Role = "client"
)

// RoleOrder lists every role in apply order (storage → NFS → web → directors).
var RoleOrder = []Role{RoleRAID, RoleNFSServer, RoleNFSClient, RoleWeb, RoleRealServer, RoleDirector, RolePacemaker, RoleClient}

// Unit is the systemd unit the role runs ("" when none): roles reload it,
// bench waits for it after restarting a VM.
func (r Role) Unit() string {
	switch r {
	case RoleDirector:
		return "keepalived"
	case RolePacemaker:
		return "pacemaker"
	case RoleWeb:
		return "apache2"
	case RoleNFSServer:
		return "nfs-server"
	}
	return ""
}

// GradeCheck is one line of `labctl grade`'s rubric: a behaviour of the
// cluster that earns points (an exercise block's points map is keyed by
// these).
type GradeCheck string

// Grade checks: the behaviour `verify` proves, then the drills.
const (
	GradeDirectors   GradeCheck = "directors"    // the director service runs on every director
	GradeVIP         GradeCheck = "vip"          // the VIP on exactly one director
	GradeGatewayVIP  GradeCheck = "gateway_vip"  // NAT: the gateway VIP with the VIP
	GradeIPVS        GradeCheck = "ipvs"         // the IPVS table on the active director
	GradeRealServers GradeCheck = "real_servers" // the per-mode setup of the real servers
	GradeHTTP        GradeCheck = "http"         // the VIP answers HTTP
	GradeBackends    GradeCheck = "backends"     // every real server answers through the VIP
	GradeNFS         GradeCheck = "nfs"          // exports on the RAID, mounted on every client
	GradeRAID        GradeCheck = "raid"         // arrays clean, at their level, with every member
	GradeFailover    GradeCheck = "failover"     // drill: the active director's keepalived dies
	GradeBackendOut  GradeCheck = "backend_out"  // drill: a real server's web server stops
	GradeRAIDMember  GradeCheck = "raid_member"  // drill: a RAID member fails
)

// GradeChecks lists every grade check in rubric order.
var GradeChecks = []GradeCheck{GradeDirectors, GradeVIP, GradeGatewayVIP, GradeIPVS, GradeRealServers, GradeHTTP,
	GradeBackends, GradeNFS, GradeRAID, GradeFailover, GradeBackendOut, GradeRAIDMember}
