package engine

import (
	"errors"
	"fmt"
	"path"
	"sort"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// Defaults for where labctl keeps things on the libvirt host.
const (
	BasePool         = "labctl-base"
	DefaultImagesDir = "/var/lib/libvirt/images"
	DefaultLogDir    = "/var/log/libvirt/qemu"
)

// ErrImageMissing is wrapped when a VM's base image is not in the store.
var ErrImageMissing = errors.New("image missing")

// Options are the inputs of Desired besides the lab.
type Options struct {
	URI         string
	DomainType  string // "kvm" or "qemu"; "" = "qemu"
	AccelReason string
	Version     string // labctl version recorded in metadata
	// Images resolves a base image by name; an error wrapping
	// ErrImageMissing reports a missing one.
	Images func(name string) (*BaseImage, error)
	// Seed renders a VM's cloud-init seed ISO; nil leaves seeds empty (the
	// plan still lists them, but the VM hash then ignores seed content).
	// firstboot: the VM's image has labctl's first-boot path.
	Seed func(vm *topology.VM, firstboot bool) ([]byte, error)
	// BasePoolPath and LabPoolPath override the pool directories
	// (default DefaultImagesDir/<pool>, or Lab.PoolPath).
	BasePoolPath string
	LabPoolPath  string
	LogDir       string // serial console logs (default DefaultLogDir)
	// Owner is recorded in the metadata of every domain and network ("" =
	// none, as before owners were recorded; plan output leaves it out).
	Owner string
	// ListDir lists a directory of the libvirt host, so up refuses to put a
	// new pool into one that holds files before it creates anything; nil
	// (a remote host) checks right after defining the pool instead.
	ListDir func(dir string) ([]string, error)
}

// Desired computes the libvirt objects of lab. It is pure apart from
// opts.Images and opts.Seed: the same inputs give the same State.
func Desired(lab *topology.Lab, opts Options) (*State, error) {
	if lab == nil || lab.Name == "" {
		return nil, errors.New("desired state: lab without a name")
	}
	if opts.DomainType == "" {
		opts.DomainType = "qemu"
	}
	if opts.LogDir == "" {
		opts.LogDir = DefaultLogDir
	}
	s := &State{Lab: lab.Name, URI: opts.URI, DomainType: opts.DomainType, AccelReason: opts.AccelReason, SSHUser: lab.SSHUser}
	if s.URI == "" {
		s.URI = lab.URI
	}

	basePath := opts.BasePoolPath
	if basePath == "" {
		basePath = path.Join(DefaultImagesDir, BasePool)
	}
	labPool := LabPoolName(lab)
	labPath := opts.LabPoolPath
	if labPath == "" {
		labPath = lab.PoolPath
	}
	if labPath == "" {
		labPath = path.Join(DefaultImagesDir, labPool)
	}
	s.Pools = []*PoolSpec{
		{Name: BasePool, Path: basePath, Shared: true, Def: poolDef(BasePool, basePath)},
		{Name: labPool, Path: labPath, Def: poolDef(labPool, labPath)},
	}

	nets := map[string]*NetworkSpec{}
	for _, n := range lab.Networks {
		ns, err := networkSpec(lab, n, opts.Version, opts.Owner)
		if err != nil {
			return nil, err
		}
		s.Networks = append(s.Networks, ns)
		nets[n.Name] = ns
	}

	images := map[string]*ImageSpec{}
	for _, vm := range lab.VMs {
		name := vm.Image
		if name == "" {
			name = lab.Image
		}
		if name == "" {
			return nil, fmt.Errorf("VM %q: no image (set image in the vm block or the lab)", vm.Name)
		}
		if _, ok := images[name]; ok {
			continue
		}
		if opts.Images == nil {
			return nil, fmt.Errorf("VM %q: image %q: %w", vm.Name, name, ErrImageMissing)
		}
		bi, err := opts.Images(name)
		if err != nil {
			return nil, fmt.Errorf("VM %q: image %q: %w", vm.Name, name, err)
		}
		images[name] = imageSpec(bi, BasePool, basePath)
	}
	for _, name := range sortedKeys(images) {
		s.Images = append(s.Images, images[name])
	}

	for _, vm := range lab.VMs {
		name := vm.Image
		if name == "" {
			name = lab.Image
		}
		spec, err := vmSpec(lab, vm, images[name], nets, labPool, labPath, opts)
		if err != nil {
			return nil, err
		}
		s.VMs = append(s.VMs, spec)
	}
	return s, nil
}

// LabPoolName is the storage pool holding the lab's volumes.
func LabPoolName(lab *topology.Lab) string {
	if lab.Pool != "" {
		return lab.Pool
	}
	return lab.Name
}

// VolumePrefix starts the name of every volume the lab owns. The dot keeps
// lab "a" from owning lab "a-b"'s volumes in a shared pool.
func VolumePrefix(lab string) string { return lab + "." }

func poolDef(name, dir string) *libvirtxml.StoragePool {
	return &libvirtxml.StoragePool{
		Type:   "dir",
		Name:   name,
		Target: &libvirtxml.StoragePoolTarget{Path: dir},
	}
}

func networkSpec(lab *topology.Lab, n *topology.Network, version, owner string) (*NetworkSpec, error) {
	ns := &NetworkSpec{
		Name:        n.Name,
		LibvirtName: n.LibvirtName,
		Mode:        string(n.Mode),
		Bridge:      n.Bridge,
		DHCP:        n.DHCP,
		MTU:         n.MTU,
	}
	if n.CIDR.IsValid() {
		ns.CIDR = n.CIDR.String()
	}
	if n.HostIP.IsValid() {
		ns.HostIP = n.HostIP.String()
	}
	if n.Mode == topology.NetBridge {
		ns.External = true
		if ns.Bridge == "" { // the loader names the host bridge in LibvirtName
			ns.Bridge = n.LibvirtName
		}
		if ns.Bridge == "" {
			return nil, fmt.Errorf("network %q: bridge mode without a host bridge", n.Name)
		}
		return ns, nil
	}
	if ns.LibvirtName == "" {
		ns.LibvirtName = lab.Name + "-" + n.Name
	}
	def := &libvirtxml.Network{
		Name:   ns.LibvirtName,
		Bridge: &libvirtxml.NetworkBridge{Name: n.Bridge, STP: "off", Delay: "0"},
	}
	switch n.Mode {
	case topology.NetNAT:
		def.Forward = &libvirtxml.NetworkForward{Mode: "nat"}
	case topology.NetRouted:
		def.Forward = &libvirtxml.NetworkForward{Mode: "route"}
	case topology.NetIsolated:
	default:
		return nil, fmt.Errorf("network %q: unknown mode %q", n.Name, n.Mode)
	}
	if n.MTU > 0 {
		def.MTU = &libvirtxml.NetworkMTU{Size: uint(n.MTU)}
	}
	if n.Domain != "" {
		def.Domain = &libvirtxml.NetworkDomain{Name: n.Domain, LocalOnly: "yes"}
	}
	if n.HostIP.IsValid() {
		ip := libvirtxml.NetworkIP{Address: n.HostIP.String(), Prefix: uint(n.CIDR.Bits())}
		if n.DHCP {
			start, end, err := dhcpRange(n.CIDR)
			if err != nil {
				return nil, fmt.Errorf("network %q: %w", n.Name, err)
			}
			ip.DHCP = &libvirtxml.NetworkDHCP{Ranges: []libvirtxml.NetworkDHCPRange{{Start: start, End: end}}}
		}
		def.IPs = []libvirtxml.NetworkIP{ip}
	} else if n.DHCP {
		return nil, fmt.Errorf("network %q: DHCP needs a host address on the network", n.Name)
	}
	h, err := hashOf(def)
	if err != nil {
		return nil, fmt.Errorf("network %q: %w", n.Name, err)
	}
	ns.Hash = h
	meta, err := libvirt.MarshalMeta(&libvirt.Meta{Lab: lab.Name, Object: n.Name, Kind: "network", Version: version, SpecHash: h, Owner: owner, Class: lab.Class, Copy: lab.Copy})
	if err != nil {
		return nil, err
	}
	def.Metadata = &libvirtxml.NetworkMetadata{XML: meta}
	ns.Def = def
	return ns, nil
}

func imageSpec(bi *BaseImage, pool, dir string) *ImageSpec {
	sha12 := bi.SHA256
	if len(sha12) > 12 {
		sha12 = sha12[:12]
	}
	stem := bi.Name + "-" + sha12
	format := bi.DiskFormat
	if format == "" {
		format = "qcow2"
	}
	im := &ImageSpec{Name: bi.Name, SHA256: bi.SHA256, Boot: "disk", Source: bi}
	im.Disk = uploadVolume(pool, dir, stem+"."+format, "image", bi.Disk, bi.DiskSize)
	if bi.Kernel != "" {
		im.Boot = "kernel"
		im.Kernel = uploadVolume(pool, dir, stem+".vmlinuz", "kernel", bi.Kernel, bi.KernelSize)
		if bi.Initrd != "" {
			im.Initrd = uploadVolume(pool, dir, stem+".initrd", "initrd", bi.Initrd, bi.InitrdSize)
		}
	}
	return im
}

// uploadVolume is a raw volume filled from a local file. Images are
// created raw and uploaded byte for byte; libvirt probes the qcow2 format
// when it refreshes the pool.
func uploadVolume(pool, dir, name, purpose, src string, size int64) *VolumeSpec {
	v := &VolumeSpec{Name: name, Pool: pool, Path: path.Join(dir, name), Purpose: purpose, Format: "raw",
		Capacity: uint64(size), Source: src, Size: size}
	v.Def = &libvirtxml.StorageVolume{
		Name:       name,
		Capacity:   &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: uint64(size)},
		Allocation: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0},
		Target:     &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}},
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
