// Package engine turns an expanded lab (topology.Lab) into libvirt
// objects and back: Desired computes what the lab should look like,
// Observe reads what libvirt has, Diff compares them by spec hash, and Up,
// Down and Status act on the result through a libvirt.Hypervisor. It also
// keeps the shared base-image pool, the ownership and clash rules, the
// cloud-init seeds and boot admission (waves, stuck boots). The guest side
// (roles, SSH) is not here: provision.Session ties the two.
package engine

import (
	"encoding/json"

	"libvirt.org/go/libvirtxml"
)

// State is the desired state of one lab: every libvirt object labctl will
// create for it, with the exact libvirtxml definitions. It is printable
// (JSON, and the XML of every object) so `labctl plan` can show it.
type State struct {
	Lab         string         `json:"lab"`
	URI         string         `json:"uri"`
	DomainType  string         `json:"domain_type"` // "kvm" or "qemu" (TCG)
	AccelReason string         `json:"accel_reason,omitempty"`
	SSHUser     string         `json:"ssh_user"`
	Pools       []*PoolSpec    `json:"pools"`
	Images      []*ImageSpec   `json:"images"`
	Networks    []*NetworkSpec `json:"networks"`
	VMs         []*VMSpec      `json:"vms"`
}

// PoolSpec is a storage pool labctl uses: the lab's own pool, or the shared
// base pool that holds imported images (never deleted by down).
type PoolSpec struct {
	Name   string                  `json:"name"`
	Path   string                  `json:"path"`
	Shared bool                    `json:"shared"`
	Def    *libvirtxml.StoragePool `json:"-"`
}

// ImageSpec is one base image imported into the shared pool, content
// addressed: Volume is "<image>-<sha12>.qcow2", so equal names mean equal
// bytes and labs share the volume read-only as the backing file of their
// linked clones.
type ImageSpec struct {
	Name   string      `json:"name"`
	SHA256 string      `json:"sha256"`
	Boot   string      `json:"boot"` // "kernel" (direct kernel boot) or "disk"
	Disk   *VolumeSpec `json:"disk"`
	Kernel *VolumeSpec `json:"kernel,omitempty"`
	Initrd *VolumeSpec `json:"initrd,omitempty"`
	Source *BaseImage  `json:"source"`
}

// NetworkSpec is one lab network.
type NetworkSpec struct {
	Name        string `json:"name"`         // HCL name
	LibvirtName string `json:"libvirt_name"` // "<lab>-<name>", or the host bridge for bridge mode
	Mode        string `json:"mode"`
	Bridge      string `json:"bridge"`
	CIDR        string `json:"cidr"`
	HostIP      string `json:"host_ip,omitempty"`
	DHCP        bool   `json:"dhcp"`
	MTU         int    `json:"mtu,omitempty"`
	// External networks (bridge mode) exist on the host already: labctl
	// only attaches NICs to them and never creates or deletes them.
	External bool                `json:"external"`
	Hash     string              `json:"spec_hash,omitempty"`
	Def      *libvirtxml.Network `json:"-"`
}

// VolumeSpec is one storage volume.
type VolumeSpec struct {
	Name     string `json:"name"`
	Pool     string `json:"pool"`
	Path     string `json:"path"`
	Purpose  string `json:"purpose"` // root | data | raid | seed | image | kernel | initrd
	Format   string `json:"format"`  // qcow2 | raw
	Capacity uint64 `json:"capacity"`
	Backing  string `json:"backing,omitempty"` // backing file of a linked clone
	// Source is the local file uploaded into the volume ("" = none; the
	// seed's bytes come from the VM's Seed).
	Source string                    `json:"source,omitempty"`
	Size   int64                     `json:"size,omitempty"` // bytes to upload
	Def    *libvirtxml.StorageVolume `json:"-"`
}

// VMSpec is one VM: its volumes, seed and domain.
type VMSpec struct {
	Name        string        `json:"name"`
	LibvirtName string        `json:"libvirt_name"`
	VCPUs       int           `json:"vcpus"`
	MemoryMiB   uint64        `json:"memory_mib"`
	Image       string        `json:"image"`
	Boot        string        `json:"boot"`
	Volumes     []*VolumeSpec `json:"volumes"` // root, data/raid disks, seed
	NICs        []NICSpec     `json:"nics"`
	ConsoleLog  string        `json:"console_log"`
	// Address is the IP labctl reaches the VM on over SSH: its management
	// NIC's, else its first static address.
	Address  string             `json:"address,omitempty"`
	SeedHash string             `json:"seed_hash,omitempty"`
	Hash     string             `json:"spec_hash"`
	Def      *libvirtxml.Domain `json:"-"`
	// Seed is the VM's cloud-init NoCloud ISO (nil when Desired ran without
	// a seeder, e.g. for a plan that must not create keys).
	Seed []byte `json:"-"`
}

// NICSpec is one NIC as the guest will see it.
type NICSpec struct {
	Network string `json:"network"`
	MAC     string `json:"mac"`
	Model   string `json:"model"`
	Device  string `json:"device"`
	IP      string `json:"ip,omitempty"`
	Gateway string `json:"gateway,omitempty"` // default route via this NIC
}

// jsonState adds each object's XML to the JSON form.
type jsonState struct {
	*State
	XML map[string]string `json:"xml"`
}

// JSON renders the state with the XML of every object, keyed "kind/name";
// the output is byte-identical for the same input.
func (s *State) JSON() ([]byte, error) {
	x, err := s.XML()
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(jsonState{State: s, XML: x}, "", "  ")
}

// XML returns the libvirt XML of every object labctl would define, keyed
// "pool/NAME", "network/NAME", "volume/POOL/NAME", "domain/NAME".
func (s *State) XML() (map[string]string, error) {
	out := map[string]string{}
	for _, p := range s.Pools {
		x, err := p.Def.Marshal()
		if err != nil {
			return nil, err
		}
		out["pool/"+p.Name] = x
	}
	for _, im := range s.Images {
		for _, v := range im.volumes() {
			x, err := v.Def.Marshal()
			if err != nil {
				return nil, err
			}
			out["volume/"+v.Pool+"/"+v.Name] = x
		}
	}
	for _, n := range s.Networks {
		if n.Def == nil {
			continue
		}
		x, err := n.Def.Marshal()
		if err != nil {
			return nil, err
		}
		out["network/"+n.LibvirtName] = x
	}
	for _, vm := range s.VMs {
		for _, v := range vm.Volumes {
			x, err := v.Def.Marshal()
			if err != nil {
				return nil, err
			}
			out["volume/"+v.Pool+"/"+v.Name] = x
		}
		x, err := vm.Def.Marshal()
		if err != nil {
			return nil, err
		}
		out["domain/"+vm.LibvirtName] = x
	}
	return out, nil
}

func (im *ImageSpec) volumes() []*VolumeSpec {
	out := []*VolumeSpec{im.Disk}
	if im.Kernel != nil {
		out = append(out, im.Kernel)
	}
	if im.Initrd != nil {
		out = append(out, im.Initrd)
	}
	return out
}

// VM returns the spec of the VM with the given lab name, nil if none.
func (s *State) VM(name string) *VMSpec {
	for _, vm := range s.VMs {
		if vm.Name == name {
			return vm
		}
	}
	return nil
}
