// Package fake is an in-memory libvirt.Hypervisor for unit tests. It keeps
// state like libvirt does (names are unique, volumes live in pools, a domain
// starts only when its volumes and networks exist) and returns the same
// error kinds (libvirt.ErrNotFound, libvirt.ErrExists), so tests assert on
// the resulting state rather than on calls.
package fake

import (
	"context"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/libvirt"
	"libvirt.org/go/libvirtxml"
)

// Hypervisor is the fake. The zero value is not usable; call New.
type Hypervisor struct {
	mu       sync.Mutex
	networks map[string]*libvirt.Network
	pools    map[string]*pool
	domains  map[string]*libvirt.Domain
	files    map[string][]string // directory → files no pool lists yet (dirs.go)
	// Fail makes the named operation fail: key "Op" or "Op:name", e.g.
	// "DefineDomain:lab-web" or "CreateNetwork". Checked before acting.
	Fail map[string]error
	// Calls counts mutating operations by "Op:name", for no-op assertions.
	Calls map[string]int
	// Info is returned by Host, Caps by Capabilities.
	Info libvirt.HostInfo
	Caps libvirt.Caps
	// Node is returned by NodeInfo (New: 2 CPUs, 4 GiB).
	Node libvirt.NodeInfo
	// Now is the clock used for start times.
	Now func() time.Time
	// devices are the host's network devices (name → is a Linux bridge),
	// for bridge-mode networks; see AddHostDevice.
	devices map[string]bool
	// snapshots are each domain's, in creation order (snapshot.go).
	snapshots map[string][]snap
	// Agent answers GuestExec for a running domain (nil: exit status 0,
	// no output); AgentCalls records each command and GuestSetTime call.
	Agent      func(domain string, argv []string, stdin []byte) (libvirt.GuestExecResult, error)
	AgentCalls []string
}

type pool struct {
	info    libvirt.Pool
	volumes map[string]*libvirt.Volume
}

var _ libvirt.Hypervisor = (*Hypervisor)(nil)

// New returns an empty fake hypervisor that supports qemu (TCG) domains.
func New() *Hypervisor {
	return &Hypervisor{
		networks:  map[string]*libvirt.Network{},
		pools:     map[string]*pool{},
		domains:   map[string]*libvirt.Domain{},
		snapshots: map[string][]snap{},
		Fail:      map[string]error{},
		Calls:     map[string]int{},
		Info:      libvirt.HostInfo{Hostname: "fake", LibvirtVersion: "9.0.0"},
		Caps:      libvirt.Caps{Emulator: "/usr/bin/qemu-system-x86_64", DomainTypes: []string{"qemu"}},
		Node:      libvirt.NodeInfo{CPUs: 2, MemoryKiB: 4 << 20},
		Now:       time.Now,
		devices:   map[string]bool{},
	}
}

// AddHostDevice adds a host network device; bridge says whether it is a
// Linux bridge that domains can attach to.
func (h *Hypervisor) AddHostDevice(name string, bridge bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.devices[name] = bridge
}

// HostBridge implements libvirt.Hypervisor.
func (h *Hypervisor) HostBridge(ctx context.Context, name string) (libvirt.BridgeState, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return libvirt.BridgeUnknown, err
	}
	bridge, ok := h.devices[name]
	switch {
	case !ok:
		return libvirt.BridgeMissing, nil
	case !bridge:
		return libvirt.BridgeNotBridge, nil
	}
	return libvirt.BridgePresent, nil
}

func (h *Hypervisor) act(op, name string) error {
	if err := h.Fail[op+":"+name]; err != nil {
		return err
	}
	if err := h.Fail[op]; err != nil {
		return err
	}
	h.Calls[op+":"+name]++
	return nil
}

func notFound(kind, name string) error {
	return fmt.Errorf("%s %q: %w", kind, name, libvirt.ErrNotFound)
}

// URI implements libvirt.Hypervisor.
func (h *Hypervisor) URI() string { return "fake:///system" }

// Close implements libvirt.Hypervisor.
func (h *Hypervisor) Close() error { return nil }

// Host implements libvirt.Hypervisor.
func (h *Hypervisor) Host(ctx context.Context) (libvirt.HostInfo, error) {
	if err := ctx.Err(); err != nil {
		return libvirt.HostInfo{}, err
	}
	return h.Info, nil
}

// Capabilities implements libvirt.Hypervisor.
func (h *Hypervisor) Capabilities(ctx context.Context) (libvirt.Caps, error) {
	if err := ctx.Err(); err != nil {
		return libvirt.Caps{}, err
	}
	if err := h.Fail["Capabilities"]; err != nil {
		return libvirt.Caps{}, err
	}
	return h.Caps, nil
}

// NodeInfo implements libvirt.Hypervisor.
func (h *Hypervisor) NodeInfo(ctx context.Context) (libvirt.NodeInfo, error) {
	if err := ctx.Err(); err != nil {
		return libvirt.NodeInfo{}, err
	}
	if err := h.Fail["NodeInfo"]; err != nil {
		return libvirt.NodeInfo{}, err
	}
	return h.Node, nil
}

// ListNetworks implements libvirt.Hypervisor.
func (h *Hypervisor) ListNetworks(ctx context.Context) ([]libvirt.Network, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := h.Fail["ListNetworks"]; err != nil {
		return nil, err
	}
	out := []libvirt.Network{}
	for _, n := range sortedKeys(h.networks) {
		out = append(out, *h.networks[n])
	}
	return out, nil
}

// AddNetwork adds a foreign (or pre-made) network directly.
func (h *Hypervisor) AddNetwork(def *libvirtxml.Network, active bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.networks[def.Name] = network(def, active)
}

func network(def *libvirtxml.Network, active bool) *libvirt.Network {
	n := &libvirt.Network{Name: def.Name, Active: active, Def: def}
	if def.Bridge != nil {
		n.Bridge = def.Bridge.Name
	}
	if def.Metadata != nil {
		n.Meta = libvirt.ParseMeta(def.Metadata.XML)
	}
	return n
}

// CreateNetwork implements libvirt.Hypervisor.
func (h *Hypervisor) CreateNetwork(ctx context.Context, def *libvirtxml.Network) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("CreateNetwork", def.Name); err != nil {
		return fmt.Errorf("define network %q: %w", def.Name, err)
	}
	if _, ok := h.networks[def.Name]; ok {
		return fmt.Errorf("define network %q: %w", def.Name, libvirt.ErrExists)
	}
	for _, n := range h.networks {
		if def.Bridge != nil && n.Bridge == def.Bridge.Name && n.Active {
			return fmt.Errorf("start network %q: bridge %s is already in use by network %q", def.Name, n.Bridge, n.Name)
		}
	}
	x, err := def.Marshal() // round trip like libvirt: catches unmarshalable defs
	if err != nil {
		return err
	}
	parsed := &libvirtxml.Network{}
	if err := parsed.Unmarshal(x); err != nil {
		return err
	}
	h.networks[def.Name] = network(parsed, true)
	return nil
}

// DeleteNetwork implements libvirt.Hypervisor.
func (h *Hypervisor) DeleteNetwork(ctx context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("DeleteNetwork", name); err != nil {
		return err
	}
	if _, ok := h.networks[name]; !ok {
		return notFound("network", name)
	}
	delete(h.networks, name)
	return nil
}

// Pool implements libvirt.Hypervisor.
func (h *Hypervisor) Pool(ctx context.Context, name string) (libvirt.Pool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return libvirt.Pool{}, err
	}
	p, ok := h.pools[name]
	if !ok {
		return libvirt.Pool{}, notFound("storage pool", name)
	}
	return p.info, nil
}

// EnsurePool implements libvirt.Hypervisor.
func (h *Hypervisor) EnsurePool(ctx context.Context, def *libvirtxml.StoragePool) (libvirt.Pool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return libvirt.Pool{}, err
	}
	if p, ok := h.pools[def.Name]; ok {
		p.info.Active = true
		return p.info, nil
	}
	if err := h.act("EnsurePool", def.Name); err != nil {
		return libvirt.Pool{}, fmt.Errorf("define storage pool %q: %w", def.Name, err)
	}
	p := &pool{info: libvirt.Pool{Name: def.Name, Type: def.Type, Path: def.Target.Path, Active: true, Available: 100 << 30},
		volumes: map[string]*libvirt.Volume{}}
	h.adoptFiles(p)
	h.pools[def.Name] = p
	return p.info, nil
}

// DeletePool implements libvirt.Hypervisor.
func (h *Hypervisor) DeletePool(ctx context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("DeletePool", name); err != nil {
		return err
	}
	p, ok := h.pools[name]
	if !ok {
		return notFound("storage pool", name)
	}
	if len(p.volumes) > 0 {
		return fmt.Errorf("delete storage pool %q directory: directory not empty", name)
	}
	delete(h.pools, name)
	return nil
}

// ListVolumes implements libvirt.Hypervisor.
func (h *Hypervisor) ListVolumes(ctx context.Context, poolName string) ([]libvirt.Volume, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, ok := h.pools[poolName]
	if !ok {
		return nil, notFound("storage pool", poolName)
	}
	out := []libvirt.Volume{}
	for _, n := range sortedKeys(p.volumes) {
		out = append(out, *p.volumes[n])
	}
	return out, nil
}

// CreateVolume implements libvirt.Hypervisor.
func (h *Hypervisor) CreateVolume(ctx context.Context, poolName string, def *libvirtxml.StorageVolume, content io.Reader, n int64) (libvirt.Volume, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return libvirt.Volume{}, err
	}
	if err := h.act("CreateVolume", def.Name); err != nil {
		return libvirt.Volume{}, fmt.Errorf("create volume %q: %w", def.Name, err)
	}
	p, ok := h.pools[poolName]
	if !ok {
		return libvirt.Volume{}, notFound("storage pool", poolName)
	}
	if _, ok := p.volumes[def.Name]; ok {
		return libvirt.Volume{}, fmt.Errorf("create volume %q in pool %q: %w", def.Name, poolName, libvirt.ErrExists)
	}
	v := &libvirt.Volume{Pool: poolName, Name: def.Name, Path: path.Join(p.info.Path, def.Name)}
	if def.Target != nil && def.Target.Format != nil {
		v.Format = def.Target.Format.Type
	}
	if def.Capacity != nil {
		v.Capacity = def.Capacity.Value
	}
	if def.BackingStore != nil {
		if !h.volumePathExists(def.BackingStore.Path) {
			return libvirt.Volume{}, fmt.Errorf("create volume %q: backing file %s: %w", def.Name, def.BackingStore.Path, libvirt.ErrNotFound)
		}
		v.Backing = def.BackingStore.Path
	}
	if content != nil {
		m, err := io.Copy(io.Discard, io.LimitReader(content, n))
		if err != nil {
			return libvirt.Volume{}, fmt.Errorf("upload volume %q: %w", def.Name, err)
		}
		v.Physical = uint64(m)
		v.Allocation = uint64(m)
	}
	p.volumes[def.Name] = v
	return *v, nil
}

func (h *Hypervisor) volumePathExists(p string) bool {
	for _, pl := range h.pools {
		for _, v := range pl.volumes {
			if v.Path == p {
				return true
			}
		}
	}
	return false
}

// DeleteVolume implements libvirt.Hypervisor.
func (h *Hypervisor) DeleteVolume(ctx context.Context, poolName, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("DeleteVolume", name); err != nil {
		return err
	}
	p, ok := h.pools[poolName]
	if !ok {
		return notFound("storage pool", poolName)
	}
	if _, ok := p.volumes[name]; !ok {
		return notFound("volume", name)
	}
	delete(p.volumes, name)
	return nil
}

// ListDomains implements libvirt.Hypervisor.
func (h *Hypervisor) ListDomains(ctx context.Context) ([]libvirt.Domain, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []libvirt.Domain{}
	for _, n := range sortedKeys(h.domains) {
		out = append(out, *h.domains[n])
	}
	return out, nil
}

// DefineDomain implements libvirt.Hypervisor.
func (h *Hypervisor) DefineDomain(ctx context.Context, def *libvirtxml.Domain) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("DefineDomain", def.Name); err != nil {
		return fmt.Errorf("define domain %q: %w", def.Name, err)
	}
	x, err := def.Marshal()
	if err != nil {
		return err
	}
	parsed := &libvirtxml.Domain{}
	if err := parsed.Unmarshal(x); err != nil {
		return err
	}
	d, ok := h.domains[def.Name]
	if !ok {
		d = &libvirt.Domain{Name: def.Name, State: libvirt.StateShutoff}
		h.domains[def.Name] = d
	}
	d.Def = parsed
	d.Meta = nil
	if parsed.Metadata != nil {
		d.Meta = libvirt.ParseMeta(parsed.Metadata.XML)
	}
	return nil
}

// StartDomain implements libvirt.Hypervisor.
func (h *Hypervisor) StartDomain(ctx context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("StartDomain", name); err != nil {
		return fmt.Errorf("start domain %q: %w", name, err)
	}
	d, ok := h.domains[name]
	if !ok {
		return notFound("domain", name)
	}
	if d.State == libvirt.StateRunning {
		return fmt.Errorf("start domain %q: domain is already running", name)
	}
	for _, disk := range d.Def.Devices.Disks {
		if disk.Source == nil || disk.Source.Volume == nil {
			continue
		}
		p, ok := h.pools[disk.Source.Volume.Pool]
		if !ok || p.volumes[disk.Source.Volume.Volume] == nil {
			return fmt.Errorf("start domain %q: volume %s/%s: %w", name, disk.Source.Volume.Pool, disk.Source.Volume.Volume, libvirt.ErrNotFound)
		}
	}
	for _, i := range d.Def.Devices.Interfaces {
		if i.Source != nil && i.Source.Bridge != nil && !h.devices[i.Source.Bridge.Bridge] {
			// libvirt: "Cannot get interface MTU on 'br0': No such device".
			return fmt.Errorf("start domain %q: host bridge %q: no such bridge", name, i.Source.Bridge.Bridge)
		}
		if i.Source != nil && i.Source.Network != nil {
			n, ok := h.networks[i.Source.Network.Network]
			if !ok || !n.Active {
				return fmt.Errorf("start domain %q: network %q is not active", name, i.Source.Network.Network)
			}
		}
	}
	d.State = libvirt.StateRunning
	d.Started = h.Now()
	return nil
}

// StopDomain simulates a guest shutdown (for tests).
func (h *Hypervisor) StopDomain(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d, ok := h.domains[name]; ok {
		d.State = libvirt.StateShutoff
		d.Started = time.Time{}
	}
}

// DeleteDomain implements libvirt.Hypervisor.
func (h *Hypervisor) DeleteDomain(ctx context.Context, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("DeleteDomain", name); err != nil {
		return err
	}
	if _, ok := h.domains[name]; !ok {
		return notFound("domain", name)
	}
	delete(h.domains, name)
	delete(h.snapshots, name) // libvirt: undefine with the snapshots' metadata
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// owned returns the domain when its labctl metadata names lab.
func (h *Hypervisor) owned(lab, name string) (*libvirt.Domain, error) {
	d, ok := h.domains[name]
	if !ok {
		return nil, notFound("domain", name)
	}
	if d.Meta == nil || d.Meta.Lab != lab {
		return nil, fmt.Errorf("domain %q: %w", name, libvirt.ErrNotOwned)
	}
	return d, nil
}

// DestroyDomain implements libvirt.Hypervisor.
func (h *Hypervisor) DestroyDomain(ctx context.Context, lab, name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("DestroyDomain", name); err != nil {
		return fmt.Errorf("destroy domain %q: %w", name, err)
	}
	d, err := h.owned(lab, name)
	if err != nil {
		return err
	}
	if d.State != libvirt.StateRunning && d.State != libvirt.StatePaused {
		return fmt.Errorf("destroy domain %q: domain is not running", name)
	}
	d.State = libvirt.StateShutoff
	d.Started = time.Time{}
	// Like libvirt, the live link states are gone with the process.
	if d.Def.Devices != nil {
		for i := range d.Def.Devices.Interfaces {
			d.Def.Devices.Interfaces[i].Link = nil
		}
	}
	return nil
}

// SetInterfaceLink implements libvirt.Hypervisor. The state shows in the
// domain's Def (Link of the interface), as in libvirt's live XML.
func (h *Hypervisor) SetInterfaceLink(ctx context.Context, lab, name, mac string, up bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("SetInterfaceLink", name); err != nil {
		return fmt.Errorf("set link of domain %q: %w", name, err)
	}
	d, err := h.owned(lab, name)
	if err != nil {
		return err
	}
	if d.State != libvirt.StateRunning && d.State != libvirt.StatePaused {
		return fmt.Errorf("set link of domain %q: domain is not running", name)
	}
	if _, err := libvirt.InterfaceByMAC(d.Def, mac); err != nil {
		return err // also when Devices is nil
	}
	for i := range d.Def.Devices.Interfaces {
		iface := &d.Def.Devices.Interfaces[i]
		if iface.MAC != nil && strings.EqualFold(iface.MAC.Address, mac) {
			iface.Link = &libvirtxml.DomainInterfaceLink{State: libvirt.LinkState(up)}
		}
	}
	return nil
}
