// Package image builds, imports and stores the base images labs boot from.
package image

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Manifest describes exactly what is inside an image; it is written as
// manifest.json next to the image's disk.
type Manifest struct {
	Name             string    `json:"name"`
	Kind             string    `json:"kind"`                      // "built" (debootstrap, direct kernel boot) or "imported" (own bootloader)
	Suite            string    `json:"suite,omitempty"`           // e.g. bookworm
	Mirror           string    `json:"mirror,omitempty"`          // Debian mirror used
	SecurityMirror   string    `json:"security_mirror,omitempty"` // Debian security mirror used ("" = none)
	Trimmed          bool      `json:"trimmed,omitempty"`         // boot-time trimming applied (see docs/images.md)
	Source           string    `json:"source,omitempty"`          // imported images: the file or URL imported
	KernelFlavour    string    `json:"kernel_flavour,omitempty"`  // cloud | generic
	KernelVersion    string    `json:"kernel_version,omitempty"`
	Disk             string    `json:"disk"`             // file name of the qcow2, relative to the image dir
	Kernel           string    `json:"kernel,omitempty"` // vmlinuz file name for direct kernel boot ("" = disk boot)
	Initrd           string    `json:"initrd,omitempty"`
	Cmdline          string    `json:"cmdline,omitempty"`   // kernel command line for direct kernel boot
	Firstboot        string    `json:"firstboot,omitempty"` // FirstbootLabctl: boots without cloud-init ("" = cloud-init only)
	SHA256           string    `json:"sha256"`              // of Disk
	SizeBytes        int64     `json:"size_bytes"`
	VirtualSizeBytes int64     `json:"virtual_size_bytes,omitempty"` // guest-visible disk size
	Buses            []string  `json:"buses"`                        // disk buses the kernel can drive: virtio, scsi, ide, sata
	NICModels        []string  `json:"nic_models"`                   // virtio, e1000, rtl8139
	Packages         []Package `json:"packages"`
	ExtraPackages    []string  `json:"extra_packages,omitempty"` // built images: --packages asked for beyond the roles'
	InputsHash       string    `json:"inputs_hash,omitempty"`    // hash of the build inputs; same hash ⇒ cached
	Created          time.Time `json:"created"`
	BuildSeconds     float64   `json:"build_seconds,omitempty"`
	LabctlVersion    string    `json:"labctl_version"`
}

// Package is one installed Debian package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// HasPackage says whether the image has the Debian package name.
func (m *Manifest) HasPackage(name string) bool {
	for _, p := range m.Packages {
		if p.Name == name {
			return true
		}
	}
	return false
}

// Manifest kinds.
const (
	KindBuilt    = "built"
	KindImported = "imported"
)

// FirstbootLabctl marks an image with labctl's own first-boot path
// (rootfs/trim/usr/local/lib/labctl/firstboot), which reads the seed's
// labctl/ directory instead of running cloud-init. The suffix versions the
// seed layout it reads.
const FirstbootLabctl = "labctl-1"

// NoCloudInit is the kernel argument cloud-init's systemd generator
// honours; labctl-firstboot.service runs only when it is given.
const NoCloudInit = "cloud-init=disabled"

// BootCmdline is the kernel command line labctl boots the image with:
// images with labctl's first-boot path skip cloud-init (its Python start
// is most of a TCG boot); all others boot with Cmdline as built.
func (m Manifest) BootCmdline() string {
	if m.Firstboot == FirstbootLabctl && m.Cmdline != "" {
		return m.Cmdline + " " + NoCloudInit
	}
	return m.Cmdline
}

// ManifestFile is the manifest's file name inside an image directory.
const ManifestFile = "manifest.json"

// ReadManifest loads a manifest.json.
func ReadManifest(path string) (Manifest, error) {
	var m Manifest
	data, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read manifest: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("parse manifest %s: %w", path, err)
	}
	return m, nil
}

// WriteManifest writes m as indented JSON, atomically (temp file + rename).
func WriteManifest(path string, m Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest %q: %w", m.Name, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
