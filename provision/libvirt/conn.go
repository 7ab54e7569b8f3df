package libvirt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
	"libvirt.org/go/libvirtxml"
)

// DefaultURI is the libvirt URI labctl uses when none is given.
const DefaultURI = "qemu:///system"

// Conn is a Hypervisor backed by a libvirt daemon. It is safe for
// concurrent use (go-libvirt multiplexes calls over one connection).
type Conn struct {
	uri  string
	l    *golibvirt.Libvirt
	jump *sshConn // the SSH connection of a qemu+ssh URI, for DialGuest
	// streams serialises volume uploads and downloads (see fill).
	streams sync.Mutex
}

var _ Hypervisor = (*Conn)(nil)

// Dial connects to the libvirt daemon at uri ("" = DefaultURI). Local unix
// socket URIs (qemu:///system, qemu:///system?socket=/path) and remote ones
// (qemu+ssh://user@host/system, qemu+tcp://, qemu+tls://) are supported;
// qemu+ssh goes through golang.org/x/crypto/ssh (SSHDialer: agent or key
// files, host key checked against known_hosts), and its SSH connection
// also carries DialGuest.
func Dial(ctx context.Context, uri string) (*Conn, error) {
	if uri == "" {
		uri = DefaultURI
	}
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("libvirt URI %q: %w", uri, err)
	}
	type result struct {
		l    *golibvirt.Libvirt
		jump *sshConn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var l *golibvirt.Libvirt
		var jump *sshConn
		var err error
		if strings.HasSuffix(u.Scheme, "+ssh") {
			var d *SSHDialer
			if d, err = ParseSSHURI(u); err == nil {
				rd := &recordingDialer{ctx: ctx, d: d}
				l = golibvirt.NewWithDialer(rd)
				err = l.ConnectToURI(golibvirt.RemoteURI(u))
				jump = rd.conn()
			}
		} else if u.Scheme == "qemu" && u.Host == "" {
			opts := []dialers.LocalOption{dialers.WithLocalTimeout(5 * time.Second)}
			if s := u.Query().Get("socket"); s != "" {
				opts = append(opts, dialers.WithSocket(s))
			}
			l = golibvirt.NewWithDialer(dialers.NewLocal(opts...))
			err = l.ConnectToURI(golibvirt.RemoteURI(u))
		} else {
			l, err = golibvirt.ConnectToURI(u)
		}
		done <- result{l, jump, err}
	}()
	select {
	case <-ctx.Done():
		go func() { // don't leak the connection the dial may still make
			r := <-done
			if r.err == nil {
				_ = r.l.Disconnect()
			}
			if r.jump != nil {
				_ = r.jump.Close() // go-libvirt may leave its SSH connection open
			}
		}()
		return nil, fmt.Errorf("connect to libvirt %s: %w", uri, ctx.Err())
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("connect to libvirt %s: %w", uri, r.err)
		}
		return &Conn{uri: uri, l: r.l, jump: r.jump}, nil
	}
}

// URI implements Hypervisor.
func (c *Conn) URI() string { return c.uri }

// Close implements Hypervisor. It also ends the SSH connection of a
// qemu+ssh URI (and the guest connections over it): go-libvirt leaves its
// conn open when libvirtd hung up first, as it may after ConnectClose.
func (c *Conn) Close() error {
	err := c.l.Disconnect()
	if c.jump != nil {
		_ = c.jump.Close()
	}
	return err
}

// Host implements Hypervisor.
func (c *Conn) Host(ctx context.Context) (HostInfo, error) {
	var h HostInfo
	if err := ctx.Err(); err != nil {
		return h, err
	}
	name, err := c.l.ConnectGetHostname()
	if err != nil {
		return h, fmt.Errorf("libvirt hostname: %w", err)
	}
	h.Hostname = name
	if v, err := c.l.ConnectGetLibVersion(); err == nil {
		h.LibvirtVersion = fmt.Sprintf("%d.%d.%d", v/1000000, v/1000%1000, v%1000)
	}
	return h, nil
}

// Capabilities implements Hypervisor.
func (c *Conn) Capabilities(ctx context.Context) (Caps, error) {
	var out Caps
	if err := ctx.Err(); err != nil {
		return out, err
	}
	capsXML, err := c.l.ConnectGetCapabilities()
	if err != nil {
		return out, fmt.Errorf("libvirt capabilities: %w", err)
	}
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(capsXML); err != nil {
		return out, fmt.Errorf("parse libvirt capabilities: %w", err)
	}
	for _, g := range caps.Guests {
		if g.Arch.Name != "x86_64" || g.OSType != "hvm" {
			continue
		}
		out.Emulator = g.Arch.Emulator
		for _, d := range g.Arch.Domains {
			out.DomainTypes = append(out.DomainTypes, d.Type)
		}
	}
	return out, nil
}

// NodeInfo implements Hypervisor.
func (c *Conn) NodeInfo(ctx context.Context) (NodeInfo, error) {
	if err := ctx.Err(); err != nil {
		return NodeInfo{}, err
	}
	_, mem, cpus, _, _, _, _, _, err := c.l.NodeGetInfo()
	if err != nil {
		return NodeInfo{}, fmt.Errorf("libvirt node info: %w", err)
	}
	// Node info counts the memory of the NUMA cells libvirt knows; on a
	// host whose cells do not cover it all (seen: 12.9 of 24 GiB) the
	// all-cells memory stats are the host's total.
	if stats, _, err := c.l.NodeGetMemoryStats(4, int32(golibvirt.NodeMemoryStatsAllCells), 0); err == nil {
		for _, st := range stats {
			if st.Field == "total" && st.Value > mem {
				mem = st.Value
			}
		}
	}
	return NodeInfo{CPUs: int(cpus), MemoryKiB: mem}, nil
}

// --- networks ---

// ListNetworks implements Hypervisor.
func (c *Conn) ListNetworks(ctx context.Context) ([]Network, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	nets, _, err := c.l.ConnectListAllNetworks(1, 0)
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	out := make([]Network, 0, len(nets))
	for _, n := range nets {
		x, err := c.l.NetworkGetXMLDesc(n, 0)
		if err != nil {
			if isCode(err, golibvirt.ErrNoNetwork) {
				continue // deleted meanwhile
			}
			return nil, fmt.Errorf("network %q: %w", n.Name, err)
		}
		def := &libvirtxml.Network{}
		if err := def.Unmarshal(x); err != nil {
			return nil, fmt.Errorf("parse network %q: %w", n.Name, err)
		}
		active, err := c.l.NetworkIsActive(n)
		if err != nil && !isCode(err, golibvirt.ErrNoNetwork) {
			return nil, fmt.Errorf("network %q: %w", n.Name, err)
		}
		nw := Network{Name: n.Name, Active: active == 1, Def: def}
		if def.Bridge != nil {
			nw.Bridge = def.Bridge.Name
		}
		if def.Metadata != nil {
			nw.Meta = ParseMeta(def.Metadata.XML)
		}
		out = append(out, nw)
	}
	return out, nil
}

// CreateNetwork implements Hypervisor.
func (c *Conn) CreateNetwork(ctx context.Context, def *libvirtxml.Network) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x, err := def.Marshal()
	if err != nil {
		return fmt.Errorf("network %q XML: %w", def.Name, err)
	}
	n, err := c.l.NetworkDefineXML(x)
	if err != nil {
		return fmt.Errorf("define network %q: %w", def.Name, wrap(err))
	}
	if err := c.l.NetworkSetAutostart(n, 1); err != nil {
		return fmt.Errorf("autostart network %q: %w", def.Name, wrap(err))
	}
	if err := c.l.NetworkCreate(n); err != nil {
		return fmt.Errorf("start network %q: %w", def.Name, wrap(err))
	}
	return nil
}

// DeleteNetwork implements Hypervisor.
func (c *Conn) DeleteNetwork(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := c.l.NetworkLookupByName(name)
	if err != nil {
		return fmt.Errorf("network %q: %w", name, wrap(err))
	}
	if active, _ := c.l.NetworkIsActive(n); active == 1 {
		if err := c.l.NetworkDestroy(n); err != nil && !isCode(err, golibvirt.ErrOperationInvalid) {
			return fmt.Errorf("stop network %q: %w", name, wrap(err))
		}
	}
	if err := c.l.NetworkUndefine(n); err != nil {
		return fmt.Errorf("undefine network %q: %w", name, wrap(err))
	}
	return nil
}

// --- pools and volumes ---

// Pool implements Hypervisor.
func (c *Conn) Pool(ctx context.Context, name string) (Pool, error) {
	if err := ctx.Err(); err != nil {
		return Pool{}, err
	}
	p, err := c.l.StoragePoolLookupByName(name)
	if err != nil {
		return Pool{}, fmt.Errorf("storage pool %q: %w", name, wrap(err))
	}
	return c.poolInfo(p)
}

func (c *Conn) poolInfo(p golibvirt.StoragePool) (Pool, error) {
	x, err := c.l.StoragePoolGetXMLDesc(p, 0)
	if err != nil {
		return Pool{}, fmt.Errorf("storage pool %q: %w", p.Name, wrap(err))
	}
	var def libvirtxml.StoragePool
	if err := def.Unmarshal(x); err != nil {
		return Pool{}, fmt.Errorf("parse storage pool %q: %w", p.Name, err)
	}
	state, _, _, avail, err := c.l.StoragePoolGetInfo(p)
	if err != nil {
		return Pool{}, fmt.Errorf("storage pool %q: %w", p.Name, wrap(err))
	}
	out := Pool{Name: p.Name, Type: def.Type, Active: state == uint8(golibvirt.StoragePoolRunning), Available: avail}
	if def.Target != nil {
		out.Path = def.Target.Path
	}
	return out, nil
}

// EnsurePool implements Hypervisor.
func (c *Conn) EnsurePool(ctx context.Context, def *libvirtxml.StoragePool) (Pool, error) {
	if err := ctx.Err(); err != nil {
		return Pool{}, err
	}
	p, err := c.l.StoragePoolLookupByName(def.Name)
	if err != nil {
		if !isCode(err, golibvirt.ErrNoStoragePool) {
			return Pool{}, fmt.Errorf("storage pool %q: %w", def.Name, wrap(err))
		}
		x, err := def.Marshal()
		if err != nil {
			return Pool{}, fmt.Errorf("storage pool %q XML: %w", def.Name, err)
		}
		p, err = c.l.StoragePoolDefineXML(x, 0)
		if err != nil {
			if !isCode(err, golibvirt.ErrStoragePoolBuilt) && !isCode(err, golibvirt.ErrOperationFailed) {
				return Pool{}, fmt.Errorf("define storage pool %q: %w", def.Name, wrap(err))
			}
			// a concurrent labctl defined it first
			if p, err = c.l.StoragePoolLookupByName(def.Name); err != nil {
				return Pool{}, fmt.Errorf("storage pool %q: %w", def.Name, wrap(err))
			}
		}
		if err := c.l.StoragePoolBuild(p, golibvirt.StoragePoolBuildNew); err != nil {
			return Pool{}, fmt.Errorf("build storage pool %q: %w", def.Name, wrap(err))
		}
		if err := c.l.StoragePoolSetAutostart(p, 1); err != nil {
			return Pool{}, fmt.Errorf("autostart storage pool %q: %w", def.Name, wrap(err))
		}
	}
	state, _, _, _, err := c.l.StoragePoolGetInfo(p)
	if err != nil {
		return Pool{}, fmt.Errorf("storage pool %q: %w", def.Name, wrap(err))
	}
	if state != uint8(golibvirt.StoragePoolRunning) {
		if err := c.l.StoragePoolCreate(p, 0); err != nil && !isCode(err, golibvirt.ErrOperationInvalid) {
			return Pool{}, fmt.Errorf("start storage pool %q: %w", def.Name, wrap(err))
		}
	}
	return c.poolInfo(p)
}

// DeletePool implements Hypervisor.
func (c *Conn) DeletePool(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.l.StoragePoolLookupByName(name)
	if err != nil {
		return fmt.Errorf("storage pool %q: %w", name, wrap(err))
	}
	state, _, _, _, err := c.l.StoragePoolGetInfo(p)
	if err != nil {
		return fmt.Errorf("storage pool %q: %w", name, wrap(err))
	}
	if state == uint8(golibvirt.StoragePoolRunning) {
		// StoragePoolDelete needs an inactive pool; it removes the directory.
		if err := c.l.StoragePoolDestroy(p); err != nil {
			return fmt.Errorf("stop storage pool %q: %w", name, wrap(err))
		}
	}
	if err := c.l.StoragePoolDelete(p, golibvirt.StoragePoolDeleteNormal); err != nil {
		return fmt.Errorf("delete storage pool %q directory: %w", name, wrap(err))
	}
	if err := c.l.StoragePoolUndefine(p); err != nil {
		return fmt.Errorf("undefine storage pool %q: %w", name, wrap(err))
	}
	return nil
}

// ListVolumes implements Hypervisor.
func (c *Conn) ListVolumes(ctx context.Context, pool string) ([]Volume, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := c.l.StoragePoolLookupByName(pool)
	if err != nil {
		return nil, fmt.Errorf("storage pool %q: %w", pool, wrap(err))
	}
	// Files created behind libvirt's back (or removed) show up only after a refresh.
	if err := c.l.StoragePoolRefresh(p, 0); err != nil && !isCode(err, golibvirt.ErrOperationInvalid) {
		return nil, fmt.Errorf("refresh storage pool %q: %w", pool, wrap(err))
	}
	vols, _, err := c.l.StoragePoolListAllVolumes(p, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("list volumes of pool %q: %w", pool, wrap(err))
	}
	out := make([]Volume, 0, len(vols))
	for _, v := range vols {
		vol, err := c.volume(pool, v)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, vol)
	}
	return out, nil
}

func (c *Conn) volume(pool string, v golibvirt.StorageVol) (Volume, error) {
	x, err := c.l.StorageVolGetXMLDesc(v, 0)
	if err != nil {
		return Volume{}, fmt.Errorf("volume %q in pool %q: %w", v.Name, pool, wrap(err))
	}
	var def libvirtxml.StorageVolume
	if err := def.Unmarshal(x); err != nil {
		return Volume{}, fmt.Errorf("parse volume %q: %w", v.Name, err)
	}
	out := Volume{Pool: pool, Name: v.Name}
	if def.Target != nil {
		out.Path = def.Target.Path
		if def.Target.Format != nil {
			out.Format = def.Target.Format.Type
		}
	}
	out.Capacity = size(def.Capacity)
	out.Physical = size(def.Physical)
	out.Allocation = size(def.Allocation)
	if def.BackingStore != nil {
		out.Backing = def.BackingStore.Path
	}
	return out, nil
}

// CreateVolume implements Hypervisor.
func (c *Conn) CreateVolume(ctx context.Context, pool string, def *libvirtxml.StorageVolume, content io.Reader, n int64) (Volume, error) {
	if err := ctx.Err(); err != nil {
		return Volume{}, err
	}
	p, err := c.l.StoragePoolLookupByName(pool)
	if err != nil {
		return Volume{}, fmt.Errorf("storage pool %q: %w", pool, wrap(err))
	}
	x, err := def.Marshal()
	if err != nil {
		return Volume{}, fmt.Errorf("volume %q XML: %w", def.Name, err)
	}
	v, err := c.l.StorageVolCreateXML(p, x, 0)
	if err != nil {
		return Volume{}, fmt.Errorf("create volume %q in pool %q: %w", def.Name, pool, wrap(err))
	}
	if content != nil {
		// Cancel the upload with ctx: closing the reader side ends the stream.
		r := &ctxReader{ctx: ctx, r: content}
		if err := c.fill(v, r, n); err != nil {
			_ = c.l.StorageVolDelete(v, golibvirt.StorageVolDeleteNormal)
			return Volume{}, fmt.Errorf("upload volume %q: %w", def.Name, wrap(err))
		}
	}
	return c.volume(pool, v)
}

// fill writes a new volume's n bytes of content. On a local daemon it
// writes the file itself when it may: go-libvirt's upload stream can
// deadlock the whole connection when libvirtd's final stream packet races
// the call's return (digitalocean/go-libvirt#241; seen here as an up that
// hung for good while it uploaded seeds). Otherwise it uploads, one stream
// at a time on the connection.
func (c *Conn) fill(v golibvirt.StorageVol, content io.Reader, n int64) error {
	if isLocalURI(c.uri) {
		path, err := c.l.StorageVolGetPath(v)
		if err != nil {
			return err
		}
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0); err == nil {
			_, err := io.Copy(f, io.LimitReader(content, n))
			if serr := f.Sync(); err == nil {
				err = serr
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		} else if !errors.Is(err, fs.ErrPermission) {
			return err
		}
	}
	c.streams.Lock()
	defer c.streams.Unlock()
	return c.l.StorageVolUpload(v, content, 0, uint64(n), 0)
}

// DeleteVolume implements Hypervisor.
func (c *Conn) DeleteVolume(ctx context.Context, pool, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.l.StoragePoolLookupByName(pool)
	if err != nil {
		return fmt.Errorf("storage pool %q: %w", pool, wrap(err))
	}
	v, err := c.l.StorageVolLookupByName(p, name)
	if err != nil {
		return fmt.Errorf("volume %q in pool %q: %w", name, pool, wrap(err))
	}
	if err := c.l.StorageVolDelete(v, golibvirt.StorageVolDeleteNormal); err != nil {
		return fmt.Errorf("delete volume %q in pool %q: %w", name, pool, wrap(err))
	}
	return nil
}

// --- domains ---

// ListDomains implements Hypervisor.
func (c *Conn) ListDomains(ctx context.Context) ([]Domain, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doms, _, err := c.l.ConnectListAllDomains(1, 0)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	out := make([]Domain, 0, len(doms))
	for _, d := range doms {
		x, err := c.l.DomainGetXMLDesc(d, 0)
		if err != nil {
			if isCode(err, golibvirt.ErrNoDomain) {
				continue
			}
			return nil, fmt.Errorf("domain %q: %w", d.Name, err)
		}
		def := &libvirtxml.Domain{}
		if err := def.Unmarshal(x); err != nil {
			return nil, fmt.Errorf("parse domain %q: %w", d.Name, err)
		}
		st, _, err := c.l.DomainGetState(d, 0)
		if err != nil && !isCode(err, golibvirt.ErrNoDomain) {
			return nil, fmt.Errorf("domain %q state: %w", d.Name, err)
		}
		dom := Domain{Name: d.Name, State: stateName(golibvirt.DomainState(st)), Def: def}
		if def.Metadata != nil {
			dom.Meta = ParseMeta(def.Metadata.XML)
		}
		if dom.State == StateRunning || dom.State == StatePaused {
			dom.Started = dom.Meta.StartedAt()
		}
		out = append(out, dom)
	}
	return out, nil
}

func stateName(s golibvirt.DomainState) DomainState {
	switch s {
	case golibvirt.DomainRunning:
		return StateRunning
	case golibvirt.DomainPaused, golibvirt.DomainPmsuspended:
		return StatePaused
	case golibvirt.DomainShutoff:
		return StateShutoff
	case golibvirt.DomainShutdown:
		return StateShutdown
	case golibvirt.DomainCrashed:
		return StateCrashed
	}
	return StateOther
}

// DefineDomain implements Hypervisor.
func (c *Conn) DefineDomain(ctx context.Context, def *libvirtxml.Domain) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x, err := def.Marshal()
	if err != nil {
		return fmt.Errorf("domain %q XML: %w", def.Name, err)
	}
	if _, err := c.l.DomainDefineXML(x); err != nil {
		return fmt.Errorf("define domain %q: %w", def.Name, wrap(err))
	}
	return nil
}

// StartDomain implements Hypervisor.
func (c *Conn) StartDomain(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.l.DomainLookupByName(name)
	if err != nil {
		return fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	if _, err := c.l.DomainCreateWithFlags(d, 0); err != nil {
		return fmt.Errorf("start domain %q: %w", name, wrap(err))
	}
	// Record the start time in the live metadata, so status can show uptime
	// from libvirt alone (also over remote URIs).
	inner, err := c.l.DomainGetMetadata(d, int32(golibvirt.DomainMetadataElement), []string{Namespace}, golibvirt.DomainAffectConfig)
	if err != nil {
		return nil // not ours: nothing to record
	}
	m := parseMetaElement(inner)
	if m == nil {
		return nil
	}
	m.Started = time.Now().UTC().Format(time.RFC3339)
	x, err := marshalMetaElement(m)
	if err != nil {
		return err
	}
	if err := c.l.DomainSetMetadata(d, int32(golibvirt.DomainMetadataElement), []string{x}, []string{MetaKey}, []string{Namespace}, golibvirt.DomainAffectLive); err != nil {
		return fmt.Errorf("domain %q: record start time: %w", name, wrap(err))
	}
	return nil
}

// DeleteDomain implements Hypervisor.
func (c *Conn) DeleteDomain(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.l.DomainLookupByName(name)
	if err != nil {
		return fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	st, _, err := c.l.DomainGetState(d, 0)
	if err != nil {
		return fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	if golibvirt.DomainState(st) != golibvirt.DomainShutoff {
		if err := c.l.DomainDestroyFlags(d, 0); err != nil && !isCode(err, golibvirt.ErrOperationInvalid) {
			return fmt.Errorf("stop domain %q: %w", name, wrap(err))
		}
	}
	flags := golibvirt.DomainUndefineManagedSave | golibvirt.DomainUndefineSnapshotsMetadata |
		golibvirt.DomainUndefineNvram | golibvirt.DomainUndefineCheckpointsMetadata
	if err := c.l.DomainUndefineFlags(d, flags); err != nil {
		return fmt.Errorf("undefine domain %q: %w", name, wrap(err))
	}
	return nil
}

// --- helpers ---

func size(s *libvirtxml.StorageVolumeSize) uint64 {
	if s == nil {
		return 0
	}
	mult := uint64(1)
	switch s.Unit {
	case "", "B", "bytes":
	case "KiB", "K", "k":
		mult = 1 << 10
	case "MiB", "M":
		mult = 1 << 20
	case "GiB", "G":
		mult = 1 << 30
	case "TiB", "T":
		mult = 1 << 40
	}
	return s.Value * mult
}

func isCode(err error, code golibvirt.ErrorNumber) bool {
	var e golibvirt.Error
	return errors.As(err, &e) && e.Code == uint32(code)
}

// wrap makes libvirt's "no such object" and "already exists" errors match
// ErrNotFound and ErrExists, keeping libvirt's message.
func wrap(err error) error {
	var e golibvirt.Error
	if !errors.As(err, &e) {
		return err
	}
	switch golibvirt.ErrorNumber(e.Code) {
	case golibvirt.ErrNoDomain, golibvirt.ErrNoNetwork, golibvirt.ErrNoStoragePool, golibvirt.ErrNoStorageVol, golibvirt.ErrNoDomainSnapshot:
		return &codedError{err: err, kind: ErrNotFound}
	case golibvirt.ErrDomExist, golibvirt.ErrNetworkExist, golibvirt.ErrStorageVolExist:
		return &codedError{err: err, kind: ErrExists}
	}
	return err
}

type codedError struct {
	err  error
	kind error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() []error {
	return []error{e.err, e.kind}
}

// ctxReader stops an upload when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// FormatBytes renders n bytes in binary units for messages.
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatUint(n, 10) + " B"
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
