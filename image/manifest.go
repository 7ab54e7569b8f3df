// Package image builds, imports and stores the base images labs boot from.
package image

import "time"

// Manifest describes exactly what is inside an image; it is written as
// manifest.json next to the image's disk.
type Manifest struct {
	Name          string    `json:"name"`
	Kind          string    `json:"kind"`                     // "built" (debootstrap, direct kernel boot) or "imported" (own bootloader)
	Suite         string    `json:"suite,omitempty"`          // e.g. bookworm
	Mirror        string    `json:"mirror,omitempty"`         // Debian mirror used
	KernelFlavour string    `json:"kernel_flavour,omitempty"` // cloud | generic
	KernelVersion string    `json:"kernel_version,omitempty"`
	Disk          string    `json:"disk"`             // file name of the qcow2, relative to the image dir
	Kernel        string    `json:"kernel,omitempty"` // vmlinuz file name for direct kernel boot ("" = disk boot)
	Initrd        string    `json:"initrd,omitempty"`
	Cmdline       string    `json:"cmdline,omitempty"` // kernel command line for direct kernel boot
	SHA256        string    `json:"sha256"`            // of Disk
	SizeBytes     int64     `json:"size_bytes"`
	Buses         []string  `json:"buses"`      // disk buses the kernel can drive: virtio, scsi, ide, sata
	NICModels     []string  `json:"nic_models"` // virtio, e1000, rtl8139
	Packages      []Package `json:"packages"`
	InputsHash    string    `json:"inputs_hash,omitempty"` // hash of the build inputs; same hash ⇒ cached
	Created       time.Time `json:"created"`
	BuildSeconds  float64   `json:"build_seconds,omitempty"`
	LabctlVersion string    `json:"labctl_version"`
}

// Package is one installed Debian package.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}
