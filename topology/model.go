// Package topology loads a lab written in HCL and expands it into a flat,
// validated, deterministic model that the rest of labctl consumes.
//
// The types in this file, with the cluster's vocabulary in kinds.go
// (schedulers, fault kinds, tools, roles: each list defined once) and the
// lookups in lookup.go, are the contract between the loader (load.go and
// friends) and everything downstream (plan, provision, roles, verify,
// bench): they hold only expanded, defaulted, validated values.
package topology

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
)

// Accel selects the libvirt domain type.
type Accel string

const (
	AccelAuto Accel = "auto" // KVM when it can run a stock guest, TCG otherwise
	AccelKVM  Accel = "kvm"
	AccelTCG  Accel = "tcg"
)

// NetMode is how a network reaches the outside.
type NetMode string

const (
	NetNAT      NetMode = "nat"      // libvirt network with forward mode nat
	NetIsolated NetMode = "isolated" // libvirt network without forward
	NetRouted   NetMode = "routed"   // libvirt network with forward mode route
	NetBridge   NetMode = "bridge"   // existing host bridge; never created or deleted by labctl
)

// LVSMode is the IPVS forwarding method.
type LVSMode string

const (
	LVSNAT LVSMode = "nat"
	LVSDR  LVSMode = "dr"
	LVSTUN LVSMode = "tun"
)

// Lab is a fully expanded lab. Slices are sorted by name so the same input
// always yields the same value (and a byte-identical plan).
type Lab struct {
	Name string // prefix of every libvirt object
	// Class and Copy name a copy of a classroom lab (LoadOptions.Copy):
	// Class is the lab block's own name, Copy the copy's, and Name is
	// "<class>-<copy>". Both are empty for a lab that is not a copy.
	Class, Copy string
	// Copies is the lab block's copies setting: how many copies `up`
	// makes when no --copies/--names is given (0 = one lab, no copies).
	Copies      int
	URI         string // libvirt URI, default qemu:///system
	Pool        string // libvirt storage pool (directory pool), default "<name>"
	PoolPath    string // directory of the pool when labctl creates it ("" = default location)
	SharedPool  bool   // shared_pool: Pool is not the lab's; labctl deletes only its VMs' volumes there
	Image       string // default base image name for VMs
	Accel       Accel
	SSHUser     string
	Networks    []*Network
	VMs         []*VM
	LVS         []*LVSService
	NFS         []*NFSExport
	Web         []*WebSite
	Experiments []*Experiment
	// Exercise, when set, leaves some roles to the student (nil: labctl
	// configures everything).
	Exercise *Exercise
	// Management is the isolated network labctl reaches every VM through
	// (Name "mgmt"). It is also listed in Networks; each VM's last NIC is on it.
	Management *Network
	// SourceFiles are the HCL files the lab was read from (sorted), for
	// diagnostics and for copying the exact spec into bench results.
	SourceFiles []string
}

// Network is one lab network.
type Network struct {
	Name        string  // HCL label, e.g. "internal"
	LibvirtName string  // "<lab>-<name>"; for bridge mode the host bridge name
	Mode        NetMode //
	Bridge      string  // host bridge device: given for bridge mode, derived (≤15 chars) otherwise
	CIDR        netip.Prefix
	HostIP      netip.Addr // address libvirt puts on the bridge for nat/routed (default: first host); zero for isolated/bridge
	DHCP        bool
	MTU         int // 0 = libvirt default
	Domain      string
	Management  bool      // true only for Lab.Management
	Range       hcl.Range // the block's definition, for diagnostics
}

// VM is one expanded virtual machine (a fleet with count = 3 gives three).
type VM struct {
	Name        string // "web-1" for fleets (1-based), "storage" otherwise
	Group       string // HCL label of the vm block, e.g. "web"
	Index       int    // count.index (0 for single VMs)
	LibvirtName string // "<lab>-<name>"
	Hostname    string // Name, unless overridden
	VCPUs       int
	MemoryMiB   uint64
	Image       string // base image name
	CPUMode     string // host-passthrough | host-model | maximum | custom model name
	NICs        []*NIC
	Disks       []*Disk // data disks, then RAID members, in attach order
	RAID        *RAID   // nil when the VM has no raid block
	Roles       []Role  // sorted by RoleOrder
	// SeedTarget is the libvirt target of the cloud-init seed: a read-only
	// virtio disk attached after the data disks (vda is the system disk).
	SeedTarget string
	Range      hcl.Range
}

// NIC is one network interface of a VM.
type NIC struct {
	Network *Network
	IP      netip.Addr // static address; zero when the network uses DHCP and none was given
	Prefix  int        // prefix length of the network
	Gateway netip.Addr // default gateway via this NIC, zero when none
	MAC     string     // "52:54:00:xx:xx:xx", stable hash of lab/vm/network unless given
	Model   string     // virtio | e1000 | rtl8139
	Device  string     // guest interface name assigned by labctl (eth0, eth1, …), matched by MAC
	MTU     int        // guest MTU: the nic's mtu, else the network's; 0 = the guest's default
	// Management marks the NIC on Lab.Management (always the last NIC).
	Management bool
}

// GuestMTU is the MTU the guest sets on the NIC: MTU, else (for models
// built by hand) the network's; 0 leaves the guest's default.
func (n *NIC) GuestMTU() int {
	if n.MTU == 0 && n.Network != nil {
		return n.Network.MTU
	}
	return n.MTU
}

// Disk is one data disk (plain or RAID member).
type Disk struct {
	Name       string // "data" or "raid-0" …
	SizeBytes  uint64
	Bus        string // virtio | sata | scsi | ide
	Format     string // qcow2 | raw
	Cache      string // none | writeback | writethrough | unsafe | directsync | default
	Target     string // libvirt target dev: vdb, sda, …
	Serial     string // disk serial seen by the guest (/dev/disk/by-id/*-<serial>), stable
	RAIDMember bool
}

// RAID is a software RAID array built by the raid role over RAID member disks.
type RAID struct {
	Name       string // md device name, e.g. "data" → /dev/md/data
	Level      int    // 0, 1, 5, 6 or 10
	Members    int    // active members
	Spares     int
	MemberSize uint64 // bytes
	ChunkKiB   int    // 0 = mdadm default
	Filesystem string // ext4 | xfs
	Mount      string // mount point
	Bus        string // bus of the member disks
}

// LVSService is one IPVS virtual service run by a director pair, with
// keepalived or with Corosync, Pacemaker and ldirectord (Stack).
type LVSService struct {
	Name        string
	Stack       DirectorStack
	VIP         netip.Addr // external virtual IP
	VIPNetwork  *Network   // network the VIP lives on
	GatewayVIP  netip.Addr // NAT only: internal VIP the real servers route through
	GatewayNet  *Network   // NAT only: network of GatewayVIP
	Port        int
	Protocol    string // tcp | udp
	Mode        LVSMode
	Scheduler   Scheduler
	Persistence *Persistence
	Health      HealthCheck
	SorryServer string // "ip:port" or ""
	Directors   []*VM  // first is the initial MASTER
	Backends    []*Backend
	RouterID    int // VRRP virtual_router_id base (external; internal uses +1)
	// Pacemaker stack only: failures of ldirectord on a node before its
	// resources move away, and how long a failure counts.
	MigrationThreshold int
	FailureTimeoutSec  int
	Range              hcl.Range
}

// Persistence makes a client stick to one real server.
type Persistence struct {
	TimeoutSec int
	Netmask    string // persistence_granularity, e.g. "255.255.255.0"; "" = /32
}

// HealthCheck is how directors probe real servers.
type HealthCheck struct {
	Type        string // http | tcp
	Path        string // http only
	Status      int    // http only, expected status code
	IntervalSec int    // delay_loop
	TimeoutSec  int    // connect_timeout
	Retries     int
}

// Backend is one real server of an LVS service.
type Backend struct {
	VM     *VM
	IP     netip.Addr // address the director forwards to
	Weight int
}

// NFSExport is a directory exported by one VM and mounted by others.
type NFSExport struct {
	Name       string
	Server     *VM
	ServerIP   netip.Addr // address clients mount from
	Path       string     // exported directory (on the RAID mount when the server has one)
	Allow      netip.Prefix
	Options    []string // export options, e.g. rw, sync, no_subtree_check
	Clients    []*VM
	MountPoint string   // where clients mount it
	MountOpts  []string // e.g. _netdev, hard, vers=4.2
	Range      hcl.Range
}

// WebSite is Apache on a set of VMs.
type WebSite struct {
	Name       string
	Servers    []*VM
	Docroot    string     // Apache DocumentRoot
	Content    *NFSExport // non-nil when the docroot is an NFS mount
	HealthPath string     // cheap health URL, e.g. /health.html
	Range      hcl.Range
}

// DefaultRepeat is an experiment's repeat when the lab does not set it:
// the fewest repetitions whose 95 % CI is not mostly Student's t tail
// (t(0.975, 1) = 12.7, t(0.975, 2) = 4.3).
const DefaultRepeat = 3

// Experiment is a bench experiment declared in the lab (see bench/).
type Experiment struct {
	Name    string
	Service string // LVS service it targets
	Client  *VM    // VM the load runs on (nil = host)
	// Load
	Tool        Tool
	Concurrency int
	Requests    int     // closed loop: total requests per point (0 = duration bound)
	DurationSec float64 // duration per point
	RateRPS     float64 // open loop when > 0
	// Repeat is how many times each point is measured and each fault
	// injected (DefaultRepeat when unset).
	Repeat int
	// Variations
	RealServers []int       // number of active real servers per point
	Schedulers  []Scheduler // schedulers to try
	// Faults, each "kind:target", e.g. "destroy:director-1", "fail_raid_member:storage"
	Faults []Fault
	Range  hcl.Range
}

// Fault is one fault injected during an experiment.
type Fault struct {
	Kind     FaultKind
	Target   string // VM name
	AfterSec float64
}
