// Package libvirt is labctl's narrow, task-shaped view of a libvirt daemon:
// networks, storage pools and volumes, and domains, described with
// libvirt.org/go/libvirtxml structs. Conn implements Hypervisor over
// github.com/digitalocean/go-libvirt; package fake implements it in memory
// for unit tests of the provisioning engine.
package libvirt

import (
	"context"
	"errors"
	"io"
	"time"

	"libvirt.org/go/libvirtxml"
)

// ErrNotFound is wrapped by every error about a missing network, pool,
// volume or domain, real or fake: test it with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrExists is wrapped when an object of that name already exists.
var ErrExists = errors.New("already exists")

// ErrNotOwned is wrapped when a fault action names a domain whose labctl
// metadata does not name the lab asking (or that has none).
var ErrNotOwned = errors.New("not owned by the lab")

// Hypervisor is everything labctl asks of libvirt. Methods check ctx before
// each libvirt call (go-libvirt calls take no context).
type Hypervisor interface {
	// URI is the libvirt URI the hypervisor is connected to.
	URI() string
	// Host names the hypervisor host and libvirt version (cheap).
	Host(ctx context.Context) (HostInfo, error)
	// Capabilities reports the x86_64 emulator and the domain types it
	// supports. libvirt computes this on every call (seconds): ask only
	// when the answer matters.
	Capabilities(ctx context.Context) (Caps, error)
	// NodeInfo reports the host's CPUs and memory (cheap), which size
	// up's boot admission.
	NodeInfo(ctx context.Context) (NodeInfo, error)

	// ListNetworks returns every network, labctl's or not.
	ListNetworks(ctx context.Context) ([]Network, error)
	// CreateNetwork defines def, marks it autostart and starts it.
	CreateNetwork(ctx context.Context, def *libvirtxml.Network) error
	// DeleteNetwork stops (when active) and undefines the network.
	DeleteNetwork(ctx context.Context, name string) error

	// Pool returns one storage pool; a missing one wraps ErrNotFound.
	Pool(ctx context.Context, name string) (Pool, error)
	// EnsurePool defines, builds and starts a directory pool unless a pool
	// of that name exists; an inactive existing pool is started.
	EnsurePool(ctx context.Context, def *libvirtxml.StoragePool) (Pool, error)
	// DeletePool stops and undefines an empty pool and removes its directory.
	DeletePool(ctx context.Context, name string) error
	// ListPools returns every storage pool, labctl's or not, active or not.
	ListPools(ctx context.Context) ([]Pool, error)

	// ListVolumes returns every volume of pool.
	ListVolumes(ctx context.Context, pool string) ([]Volume, error)
	// CreateVolume creates def in pool and, when content is not nil,
	// uploads size bytes of it into the volume.
	CreateVolume(ctx context.Context, pool string, def *libvirtxml.StorageVolume, content io.Reader, size int64) (Volume, error)
	// DeleteVolume deletes one volume.
	DeleteVolume(ctx context.Context, pool, name string) error

	// ListDomains returns every domain, labctl's or not.
	ListDomains(ctx context.Context) ([]Domain, error)
	// DefineDomain defines (or redefines) a persistent domain.
	DefineDomain(ctx context.Context, def *libvirtxml.Domain) error
	// StartDomain starts a defined domain and records its start time.
	StartDomain(ctx context.Context, name string) error
	// DeleteDomain destroys a running domain and undefines it together
	// with its snapshots, managed save image and NVRAM.
	DeleteDomain(ctx context.Context, name string) error

	// DestroyDomain powers a running domain off at once, like `virsh
	// destroy` (no shutdown in the guest); it stays defined. Only a domain
	// whose labctl metadata names lab is touched (else ErrNotOwned).
	DestroyDomain(ctx context.Context, lab, name string) error
	// SetInterfaceLink sets the link state of the running domain's
	// interface with MAC mac, like `virsh domif-setlink` (the guest sees
	// the carrier drop; the persistent definition keeps the link up).
	// Only a domain whose labctl metadata names lab is touched.
	SetInterfaceLink(ctx context.Context, lab, name, mac string, up bool) error

	// Snapshots (whole-lab snapshots, reset, fast classroom copies). The
	// mutating calls touch only a domain whose labctl metadata names lab.
	//
	// SuspendDomain pauses a running domain; ResumeDomain lets it run.
	SuspendDomain(ctx context.Context, lab, name string) error
	ResumeDomain(ctx context.Context, lab, name string) error
	// CreateSnapshot takes an internal snapshot of the domain, with its
	// memory when it runs (every writable disk must be qcow2).
	CreateSnapshot(ctx context.Context, lab, name, snapshot, description string) error
	// ListSnapshots lists the domain's snapshots.
	ListSnapshots(ctx context.Context, name string) ([]Snapshot, error)
	// RevertSnapshot returns the domain to a snapshot, running (or paused).
	RevertSnapshot(ctx context.Context, lab, name, snapshot string, paused bool) error
	// DeleteSnapshot deletes a snapshot and its data in the disks.
	DeleteSnapshot(ctx context.Context, lab, name, snapshot string) error
	// SnapshotXML returns a snapshot's definition.
	SnapshotXML(ctx context.Context, name, snapshot string) (*libvirtxml.DomainSnapshot, error)
	// RedefineSnapshot defines snapshot metadata whose data is already in
	// the domain's disks (a clone's byte-copied qcow2).
	RedefineSnapshot(ctx context.Context, lab, name string, snap *libvirtxml.DomainSnapshot) error
	// CopyVolume creates dst in dstPool with the bytes of srcPool/srcName
	// (qcow2 internal snapshots included); the source must not be written
	// meanwhile (its domain paused).
	CopyVolume(ctx context.Context, srcPool, srcName, dstPool string, dst *libvirtxml.StorageVolume) (Volume, error)

	// The QEMU guest agent of a running domain (labctl images run one).
	//
	// GuestPing answers when the agent does.
	GuestPing(ctx context.Context, lab, name string) error
	// GuestSetTime sets the guest's clock (a reverted guest's is behind).
	GuestSetTime(ctx context.Context, lab, name string, t time.Time) error
	// GuestExec runs argv as root in the guest and waits up to timeout.
	GuestExec(ctx context.Context, lab, name string, argv []string, stdin []byte, timeout time.Duration) (GuestExecResult, error)

	// HostBridge says whether the host has the bridge device name that
	// a bridge-mode network attaches to (labctl never creates it).
	HostBridge(ctx context.Context, name string) (BridgeState, error)

	// Close ends the connection.
	Close() error
}

// HostInfo names the hypervisor host. Host leaves Emulator and
// DomainTypes empty (they cost a capabilities call); callers that know them
// (from Capabilities, or from local facts) may fill them in.
type HostInfo struct {
	Hostname       string
	LibvirtVersion string
	Emulator       string
	DomainTypes    []string
}

// Caps is what accel selection and doctor need from libvirt's capabilities.
type Caps struct {
	Emulator    string   // path of qemu-system-x86_64, "" when absent
	DomainTypes []string // domain types it supports: "qemu", "kvm"
}

// NodeInfo is the hypervisor host's size, from virNodeGetInfo.
type NodeInfo struct {
	CPUs      int    // active CPUs
	MemoryKiB uint64 // memory size
}

// Network is one libvirt network as it is now.
type Network struct {
	Name   string
	Active bool
	Bridge string
	Meta   *Meta // nil when labctl did not create it
	Def    *libvirtxml.Network
}

// Pool is one storage pool as it is now.
type Pool struct {
	Name      string
	Type      string
	Path      string
	Active    bool
	Available uint64 // bytes free
}

// Volume is one storage volume as it is now.
type Volume struct {
	Pool     string
	Name     string
	Path     string
	Format   string // qcow2, raw, iso …
	Capacity uint64 // virtual size in bytes
	Physical uint64 // size of the file (for raw/iso: the capacity)
	// Allocation is the bytes actually allocated on disk: an upload cut
	// short leaves it below the size of the source.
	Allocation uint64
	Backing    string // path of the backing file, "" when none
}

// DomainState is a domain's run state.
type DomainState string

const (
	StateRunning  DomainState = "running"
	StateShutoff  DomainState = "shutoff"
	StatePaused   DomainState = "paused"
	StateCrashed  DomainState = "crashed"
	StateShutdown DomainState = "shutting-down"
	StateOther    DomainState = "other"
)

// Domain is one libvirt domain as it is now.
type Domain struct {
	Name    string
	State   DomainState
	Meta    *Meta     // nil when labctl did not create it
	Started time.Time // zero when unknown or not running
	Def     *libvirtxml.Domain
}
