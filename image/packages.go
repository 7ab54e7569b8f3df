package image

import (
	"fmt"
	"sort"
	"strings"

	"github.com/labctl/labctl/provision/roles"
)

// Kernel flavours.
const (
	KernelCloud   = "cloud"   // linux-image-cloud-amd64: virtio + PIIX IDE, no AHCI, no e1000/rtl8139
	KernelGeneric = "generic" // linux-image-amd64: every bus and NIC model
)

// kernelPackage maps a flavour to its Debian metapackage.
var kernelPackage = map[string]string{
	KernelCloud:   "linux-image-cloud-amd64",
	KernelGeneric: "linux-image-amd64",
}

// KernelPackage returns the Debian kernel metapackage for flavour.
func KernelPackage(flavour string) (string, error) {
	p, ok := kernelPackage[flavour]
	if !ok {
		return "", fmt.Errorf("unknown kernel flavour %q: use %q or %q", flavour, KernelCloud, KernelGeneric)
	}
	return p, nil
}

// basePackages is what every lab VM needs besides the roles' packages:
// init, SSH, cloud-init (NoCloud) and what the image's own setup uses.
var basePackages = []string{
	"systemd", "systemd-sysv", "udev", "dbus", // init; systemd-networkd renders cloud-init's network config
	"openssh-server", "openssh-sftp-server",
	"cloud-init",
	// debootstrap --include=cloud-init leaves python3-cryptography
	// unconfigured without it (virtual dependency); list it explicitly.
	"python3-cffi-backend",
	"initramfs-tools", "zstd", // zstd: COMPRESS=zstd for a smaller, faster initramfs
	"iproute2", "iputils-ping", "procps", "kmod", "netbase",
	"sudo", "less",
	// The guest agent: labctl re-addresses a classroom copy cloned from
	// another copy's memory through it, before the clone has an address.
	"qemu-guest-agent",
}

// Packages returns the sorted union of the base set, the kernel for
// flavour, every role's packages and extra.
func Packages(flavour string, extra []string) ([]string, error) {
	kp, err := KernelPackage(flavour)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	add := func(list []string) error {
		for _, p := range list {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if !debNameRE.MatchString(p) {
				return fmt.Errorf("invalid package name %q", p)
			}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
		return nil
	}
	for _, list := range [][]string{basePackages, {kp}, roles.Packages(), extra} {
		if err := add(list); err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}
