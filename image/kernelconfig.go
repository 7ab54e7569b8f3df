package image

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Capabilities are the disk buses and NIC models a kernel can drive,
// named as libvirt names them (disk bus / interface model).
type Capabilities struct {
	Buses     []string
	NICModels []string
}

// capability is one bus or NIC model and the kernel options it needs:
// every group must have at least one option set (=y or =m).
type capability struct {
	name   string
	groups [][]string
}

var busCaps = []capability{
	{"virtio", [][]string{{"CONFIG_VIRTIO_BLK"}, {"CONFIG_VIRTIO_PCI"}}},
	{"scsi", [][]string{{"CONFIG_SCSI_VIRTIO"}, {"CONFIG_BLK_DEV_SD"}}},
	{"sata", [][]string{{"CONFIG_SATA_AHCI"}, {"CONFIG_BLK_DEV_SD"}}},
	{"ide", [][]string{{"CONFIG_ATA_PIIX", "CONFIG_IDE"}, {"CONFIG_BLK_DEV_SD", "CONFIG_IDE"}}},
}

var nicCaps = []capability{
	{"virtio", [][]string{{"CONFIG_VIRTIO_NET"}, {"CONFIG_VIRTIO_PCI"}}},
	{"e1000", [][]string{{"CONFIG_E1000"}}},
	{"e1000e", [][]string{{"CONFIG_E1000E"}}},
	{"rtl8139", [][]string{{"CONFIG_8139CP", "CONFIG_8139TOO"}}},
}

// ParseKernelConfig reads a kernel .config (/boot/config-*) and reports
// which buses and NIC models it supports, built in or as modules.
func ParseKernelConfig(r io.Reader) (Capabilities, error) {
	set := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && (v == "y" || v == "m") {
			set[k] = true
		}
	}
	if err := sc.Err(); err != nil {
		return Capabilities{}, fmt.Errorf("read kernel config: %w", err)
	}
	if len(set) == 0 {
		return Capabilities{}, fmt.Errorf("read kernel config: no CONFIG_ options set")
	}
	return Capabilities{Buses: match(busCaps, set), NICModels: match(nicCaps, set)}, nil
}

func match(caps []capability, set map[string]bool) []string {
	out := []string{}
	for _, c := range caps {
		ok := true
		for _, group := range c.groups {
			any := false
			for _, opt := range group {
				any = any || set[opt]
			}
			ok = ok && any
		}
		if ok {
			out = append(out, c.name)
		}
	}
	return out
}
