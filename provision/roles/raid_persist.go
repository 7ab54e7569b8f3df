package roles

import (
	"context"
	"fmt"
	"strings"

	"github.com/labctl/labctl/templates"
	"github.com/labctl/labctl/topology"
)

// What keeps an array across reboots: its fstab entry and mount, and
// mdadm.conf naming it.

type fstabEntry struct {
	Source, Target, FSType string
	Options                []string
	Pass                   int
}

func raidFstab(lab *topology.Lab, vm *topology.VM) ([]byte, error) {
	r, err := needRAID(vm)
	if err != nil {
		return nil, err
	}
	// nofail: a broken array must not stop the VM from booting to SSH.
	return templates.Render("fstab.tmpl", map[string]any{"Mounts": []fstabEntry{{
		Source: mdDevice(r), Target: r.Mount, FSType: r.Filesystem, Options: []string{"defaults", "nofail"}, Pass: 2,
	}}})
}

func raidMountStep(ctx context.Context, h *host) (bool, error) {
	r, err := needRAID(h.vm)
	if err != nil {
		return false, err
	}
	line, err := raidFstab(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureBlock(ctx, fstab, "raid "+r.Name, line)
	if err != nil {
		return false, err
	}
	// No daemon-reload for the new fstab (5 s of a TCG guest): mount(8)
	// reads fstab itself, systemd learns the mount from the kernel (with a
	// network file system's ordering), and reads fstab at its next reload
	// or boot.
	m, err := ensureMounted(ctx, h, r.Mount)
	return changed || m, err
}

// ensureMounted mounts target from fstab unless something is mounted there.
func ensureMounted(ctx context.Context, h *host, target string) (bool, error) {
	mounted, err := h.test(ctx, "findmnt -n --mountpoint "+shq(target))
	if err != nil || mounted {
		return false, err
	}
	if err := mountFromFstab(ctx, h, target); err != nil {
		return false, err
	}
	return true, nil
}

// mountFromFstab mounts target as fstab says, making the mount point first.
func mountFromFstab(ctx context.Context, h *host, target string) error {
	if _, err := h.run(ctx, "mkdir -p "+shq(target)); err != nil {
		return err
	}
	_, err := h.run(ctx, "mount "+shq(target))
	return err
}

// arrayLine keeps the stable fields of an `mdadm --detail --brief` line,
// dropping spares=N, which changes when a spare takes over.
func arrayLine(brief string) (string, error) {
	for _, line := range strings.Split(brief, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "ARRAY" {
			continue
		}
		keep := f[:2]
		for _, kv := range f[2:] {
			if strings.HasPrefix(kv, "metadata=") || strings.HasPrefix(kv, "name=") || strings.HasPrefix(kv, "UUID=") {
				keep = append(keep, kv)
			}
		}
		return strings.Join(keep, " "), nil
	}
	return "", fmt.Errorf("no ARRAY line in mdadm --detail --brief output %q", brief)
}

type mdadmData struct {
	Lab, VM string
	Arrays  []string
}

func renderMdadmConf(lab *topology.Lab, vm *topology.VM, arrays []string) ([]byte, error) {
	return templates.Render("mdadm.conf.tmpl", mdadmData{Lab: lab.HandoutName(), VM: vm.Name, Arrays: arrays})
}

// raidFiles renders what the raid role writes. mdadm.conf depends on the
// array's UUID, known only on the guest; the golden files show it with a
// placeholder.
func raidFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	r, err := needRAID(vm)
	if err != nil {
		return nil, err
	}
	conf, err := renderMdadmConf(lab, vm, []string{fmt.Sprintf("ARRAY %s metadata=1.2 name=%s:%s UUID=00000000:00000000:00000000:00000000", mdDevice(r), vm.Hostname, r.Name)})
	if err != nil {
		return nil, err
	}
	tab, err := raidFstab(lab, vm)
	if err != nil {
		return nil, err
	}
	return []file{{path: mdadmConf, data: conf, mode: 0o644}, {path: fstabBlock, data: tab, mode: 0o644}}, nil
}

// raidConfStep writes mdadm.conf so the array assembles under its name
// after a reboot, and rebuilds the initramfs (which carries a copy).
func raidConfStep(ctx context.Context, h *host) (bool, error) {
	r, err := needRAID(h.vm)
	if err != nil {
		return false, err
	}
	brief, err := h.run(ctx, "mdadm --detail --brief "+mdDevice(r))
	if err != nil {
		return false, err
	}
	line, err := arrayLine(brief)
	if err != nil {
		return false, err
	}
	conf, err := renderMdadmConf(h.lab, h.vm, []string{line})
	if err != nil {
		return false, err
	}
	changed, err := h.ensureFiles(ctx, []file{{path: mdadmConf, data: conf, mode: 0o644}}, nil)
	if err != nil {
		return changed, err
	}
	if changed {
		if err := h.markPending(ctx, initramfsMark); err != nil {
			return true, err
		}
	}
	pending, err := h.exists(ctx, pendingDir+"/"+initramfsMark)
	if err != nil || !pending {
		return changed, err
	}
	// Only a guest booted by its bootloader (GRUB passes BOOT_IMAGE=) uses
	// the initramfs in /boot; labctl's built images boot a kernel and
	// initrd given by the host, so rebuilding the guest's copy (minutes
	// under TCG) would change nothing. udev in the root filesystem
	// assembles the array by mdadm.conf either way.
	viaBootloader, err := h.test(ctx, "grep -q BOOT_IMAGE= /proc/cmdline")
	if err != nil {
		return changed, err
	}
	if viaBootloader {
		if _, err := h.run(ctx, "update-initramfs -u"); err != nil {
			return changed, err
		}
	}
	_, err = h.run(ctx, "rm -f "+pendingDir+"/"+initramfsMark)
	return true, err
}

// examineHasName reports whether `mdadm --examine --brief` found a
// superblock of the array called name (name=<homehost>:<name>).
func examineHasName(out, name string) bool {
	for _, tok := range strings.Fields(out) {
		v, ok := strings.CutPrefix(tok, "name=")
		if !ok {
			continue
		}
		if _, n, found := strings.Cut(v, ":"); found {
			v = n
		}
		if v == name {
			return true
		}
	}
	return false
}
