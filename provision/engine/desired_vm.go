package engine

import (
	"fmt"
	"path"
	"strings"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// vmSpec builds a VM's volumes (linked-clone root, data disks, cloud-init
// seed), its domain XML and the hash that decides when it is recreated.
// GuestAgentChannel is the virtio-serial port qemu-guest-agent listens on.
const GuestAgentChannel = "org.qemu.guest_agent.0"

func vmSpec(lab *topology.Lab, vm *topology.VM, im *ImageSpec, nets map[string]*NetworkSpec,
	pool, dir string, opts Options) (*VMSpec, error) {
	spec := &VMSpec{
		Name:        vm.Name,
		LibvirtName: vm.LibvirtName,
		VCPUs:       vm.VCPUs,
		MemoryMiB:   vm.MemoryMiB,
		Image:       im.Name,
		Boot:        im.Boot,
		ConsoleLog:  path.Join(opts.LogDir, vm.LibvirtName+"-console.log"),
	}
	if spec.LibvirtName == "" {
		spec.LibvirtName = lab.Name + "-" + vm.Name
		spec.ConsoleLog = path.Join(opts.LogDir, spec.LibvirtName+"-console.log")
	}
	if spec.VCPUs <= 0 {
		spec.VCPUs = 1
	}
	if spec.MemoryMiB == 0 {
		spec.MemoryMiB = 512
	}
	prefix := VolumePrefix(lab.Name) + vm.Name + "."

	// System disk: a qcow2 linked clone of the shared base image.
	capacity := im.Source.VirtualSize
	root := &VolumeSpec{Name: prefix + "root.qcow2", Pool: pool, Path: path.Join(dir, prefix+"root.qcow2"),
		Purpose: "root", Format: "qcow2", Capacity: capacity, Backing: im.Disk.Path}
	backingFormat := im.Source.DiskFormat
	if backingFormat == "" {
		backingFormat = "qcow2"
	}
	root.Def = &libvirtxml.StorageVolume{
		Name:     root.Name,
		Capacity: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: capacity},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "qcow2"}},
		BackingStore: &libvirtxml.StorageVolumeBackingStore{Path: im.Disk.Path,
			Format: &libvirtxml.StorageVolumeTargetFormat{Type: backingFormat}},
	}
	spec.Volumes = append(spec.Volumes, root)

	type diskDev struct {
		vol    *VolumeSpec
		bus    string
		target string
		serial string
		cache  string
		ro     bool
	}
	devs := []diskDev{{vol: root, bus: "virtio", target: "vda"}}
	for _, d := range vm.Disks {
		format := d.Format
		if format == "" {
			format = "qcow2"
		}
		purpose := "data"
		if d.RAIDMember {
			purpose = "raid"
		}
		name := prefix + d.Name + "." + format
		v := &VolumeSpec{Name: name, Pool: pool, Path: path.Join(dir, name), Purpose: purpose, Format: format, Capacity: d.SizeBytes}
		v.Def = &libvirtxml.StorageVolume{
			Name:       name,
			Capacity:   &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: d.SizeBytes},
			Allocation: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 0},
			Target:     &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: format}},
		}
		spec.Volumes = append(spec.Volumes, v)
		bus := d.Bus
		if bus == "" {
			bus = "virtio"
		}
		if d.Target == "" {
			return nil, fmt.Errorf("VM %q disk %q: no target device", vm.Name, d.Name)
		}
		devs = append(devs, diskDev{vol: v, bus: bus, target: d.Target, serial: d.Serial, cache: d.Cache})
	}

	// cloud-init seed: a small read-only virtio disk labelled cidata.
	seedTarget := vm.SeedTarget
	if seedTarget == "" {
		seedTarget = nextVirtioTarget(devs2targets(devs, func(d diskDev) (string, string) { return d.bus, d.target }))
	}
	var iso []byte
	if opts.Seed != nil {
		var err error
		if iso, err = opts.Seed(vm, im.Source.Firstboot); err != nil {
			return nil, fmt.Errorf("VM %q: cloud-init seed: %w", vm.Name, err)
		}
		spec.Seed = iso
		spec.SeedHash = sha256Hex(iso)
	}
	seed := uploadVolume(pool, dir, prefix+"seed.iso", "seed", "", int64(len(iso)))
	seed.Capacity = uint64(len(iso))
	spec.Volumes = append(spec.Volumes, seed)
	devs = append(devs, diskDev{vol: seed, bus: "virtio", target: seedTarget, ro: true})

	dom := &libvirtxml.Domain{
		Type:   opts.DomainType,
		Name:   spec.LibvirtName,
		Memory: &libvirtxml.DomainMemory{Value: uint(spec.MemoryMiB), Unit: "MiB"},
		VCPU:   &libvirtxml.DomainVCPU{Value: uint(spec.VCPUs)},
		OS: &libvirtxml.DomainOS{
			Type: &libvirtxml.DomainOSType{Arch: "x86_64", Type: "hvm"},
		},
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		CPU:        cpuDef(opts.DomainType, vm.CPUMode),
		Clock:      &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices:    &libvirtxml.DomainDeviceList{},
	}
	if opts.DomainType == "qemu" {
		// QEMU's TCG translation cache defaults to 1 GiB per guest, which
		// makes a 448 MiB VM cost ~1.5 GiB of host RAM; a lab guest's
		// working set fits easily in 128 MiB.
		dom.Features.TCG = &libvirtxml.DomainFeatureTCG{TBCache: &libvirtxml.DomainFeatureTCGTBCache{Unit: "MiB", Size: 128}}
	}
	if im.Boot == "kernel" {
		dom.OS.Kernel = im.Kernel.Path
		if im.Initrd != nil {
			dom.OS.Initrd = im.Initrd.Path
		}
		dom.OS.Cmdline = im.Source.Cmdline
	} else {
		dom.OS.BootDevices = []libvirtxml.DomainBootDevice{{Dev: "hd"}}
	}
	needSCSI := false
	for _, d := range devs {
		driver := &libvirtxml.DomainDiskDriver{Name: "qemu", Type: d.vol.Format, Cache: d.cache}
		if d.cache == "default" {
			driver.Cache = ""
		}
		disk := libvirtxml.DomainDisk{
			Device: "disk",
			Driver: driver,
			Source: &libvirtxml.DomainDiskSource{Volume: &libvirtxml.DomainDiskSourceVolume{Pool: d.vol.Pool, Volume: d.vol.Name}},
			Target: &libvirtxml.DomainDiskTarget{Dev: d.target, Bus: d.bus},
			Serial: d.serial,
		}
		if d.ro {
			disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
		}
		if d.bus == "scsi" {
			needSCSI = true
		}
		dom.Devices.Disks = append(dom.Devices.Disks, disk)
	}
	if needSCSI {
		dom.Devices.Controllers = append(dom.Devices.Controllers, libvirtxml.DomainController{Type: "scsi", Model: "virtio-scsi"})
	}
	var netHashes []string
	for _, nic := range vm.NICs {
		if nic.Network == nil {
			return nil, fmt.Errorf("VM %q: NIC %s without a network", vm.Name, nic.MAC)
		}
		ns := nets[nic.Network.Name]
		if ns == nil {
			return nil, fmt.Errorf("VM %q: NIC on unknown network %q", vm.Name, nic.Network.Name)
		}
		model := nic.Model
		if model == "" {
			model = "virtio"
		}
		iface := libvirtxml.DomainInterface{
			MAC:   &libvirtxml.DomainInterfaceMAC{Address: strings.ToLower(nic.MAC)},
			Model: &libvirtxml.DomainInterfaceModel{Type: model},
		}
		if ns.External {
			iface.Source = &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{Bridge: ns.Bridge}}
			if ns.MTU > 0 {
				iface.MTU = &libvirtxml.DomainInterfaceMTU{Size: uint(ns.MTU)}
			}
		} else {
			iface.Source = &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: ns.LibvirtName}}
		}
		dom.Devices.Interfaces = append(dom.Devices.Interfaces, iface)
		n := NICSpec{Network: nic.Network.Name, MAC: strings.ToLower(nic.MAC), Model: model, Device: nic.Device}
		if nic.IP.IsValid() {
			n.IP = fmt.Sprintf("%s/%d", nic.IP, nic.Prefix)
		}
		if nic.Gateway.IsValid() {
			n.Gateway = nic.Gateway.String()
		}
		spec.NICs = append(spec.NICs, n)
		if nic.IP.IsValid() && (nic.Management || spec.Address == "") {
			spec.Address = nic.IP.String()
		}
		netHashes = append(netHashes, ns.LibvirtName+"="+ns.Hash)
	}
	zero := uint(0)
	dom.Devices.Serials = []libvirtxml.DomainSerial{{
		Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
		Target: &libvirtxml.DomainSerialTarget{Port: &zero},
		Log:    &libvirtxml.DomainChardevLog{File: spec.ConsoleLog, Append: "off"},
	}}
	dom.Devices.Consoles = []libvirtxml.DomainConsole{{
		Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
		Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &zero},
	}}
	// Entropy for sshd key handling and the kernel's CRNG at boot (slow under TCG otherwise).
	dom.Devices.RNGs = []libvirtxml.DomainRNG{{Model: "virtio",
		Backend: &libvirtxml.DomainRNGBackend{Random: &libvirtxml.DomainRNGBackendRandom{Device: "/dev/urandom"}}}}
	dom.Devices.MemBalloon = &libvirtxml.DomainMemBalloon{Model: "none"}
	// The QEMU guest agent's port: a channel libvirt itself carries (over
	// any URI), through which a cloned copy is re-addressed before it has
	// an address of its own.
	dom.Devices.Channels = []libvirtxml.DomainChannel{{
		Source: &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{Mode: "bind"}},
		Target: &libvirtxml.DomainChannelTarget{VirtIO: &libvirtxml.DomainChannelTargetVirtIO{Name: GuestAgentChannel}},
	}}

	// The hash covers everything that needs a new VM when it changes: the
	// domain, its volumes, the base image bytes, the seed and the networks
	// it is plugged into (libvirt does not reattach taps to a new network).
	h, err := hashOf(struct {
		Domain   *libvirtxml.Domain
		Volumes  []*VolumeSpec
		Image    string
		Seed     string
		Networks []string
	}{dom, spec.Volumes, im.SHA256, spec.SeedHash, netHashes})
	if err != nil {
		return nil, fmt.Errorf("VM %q: %w", vm.Name, err)
	}
	spec.Hash = h
	meta, err := libvirt.MarshalMeta(&libvirt.Meta{Lab: lab.Name, Object: vm.Name, Kind: "domain", Version: opts.Version, SpecHash: h, Owner: opts.Owner, Class: lab.Class, Copy: lab.Copy})
	if err != nil {
		return nil, err
	}
	dom.Metadata = &libvirtxml.DomainMetadata{XML: meta}
	spec.Def = dom
	return spec, nil
}

// cpuDef picks the guest CPU: host-passthrough/host-model need KVM; under
// TCG "maximum" gives the guest every feature QEMU can emulate.
func cpuDef(domainType, mode string) *libvirtxml.DomainCPU {
	switch mode {
	case "", "host-passthrough", "host-model", "maximum":
		if domainType != "kvm" {
			// Under TCG every emulated CPU feature costs time: QEMU's
			// default model (qemu64) boots a guest 10-15% faster than
			// "maximum", measured with the labctl image.
			return nil
		}
		if mode == "" {
			mode = "host-passthrough"
		}
		return &libvirtxml.DomainCPU{Mode: mode}
	}
	return &libvirtxml.DomainCPU{Mode: "custom", Match: "exact", Model: &libvirtxml.DomainCPUModel{Value: mode, Fallback: "allow"}}
}

func devs2targets[T any](ds []T, f func(T) (string, string)) map[string]bool {
	out := map[string]bool{}
	for _, d := range ds {
		bus, t := f(d)
		if bus == "virtio" {
			out[t] = true
		}
	}
	return out
}

// nextVirtioTarget returns the first vdX after the last used one.
func nextVirtioTarget(used map[string]bool) string {
	last := 'a'
	for t := range used {
		if len(t) == 3 && strings.HasPrefix(t, "vd") && rune(t[2]) > last {
			last = rune(t[2])
		}
	}
	return "vd" + string(last+1)
}
