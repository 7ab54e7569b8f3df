package roles

import (
	"context"
	"fmt"
	"strings"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/topology"
)

const (
	mdadmConf     = "/etc/mdadm/mdadm.conf"
	fstab         = "/etc/fstab"
	fstabBlock    = fstab + " (labctl block)" // how files and plans name a block labctl keeps in fstab
	initramfsMark = "initramfs"
)

func raidRole() *role {
	return &role{
		name:     topology.RoleRAID,
		packages: []string{"mdadm", "e2fsprogs", "xfsprogs", "util-linux", "initramfs-tools"},
		files:    raidFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			var md, mount []string
			if r := vm.RAID; r != nil {
				md, mount = []string{mdDevice(r)}, []string{fstabBlock, r.Mount}
			}
			return []step{
				{name: "array", writes: md, run: raidArrayStep},
				{name: "filesystem", writes: md, run: raidFilesystemStep},
				{name: "mount", writes: mount, run: raidMountStep},
				{name: "mdadm.conf", writes: []string{mdadmConf}, run: raidConfStep},
			}
		},
	}
}

func mdDevice(r *topology.RAID) string { return "/dev/md/" + r.Name }

func needRAID(vm *topology.VM) (*topology.RAID, error) {
	if vm.RAID == nil {
		return nil, fmt.Errorf("VM %q has role raid but no raid block", vm.Name)
	}
	r := vm.RAID
	switch r.Level {
	case 0, 1, 5, 6, 10:
	default:
		return nil, fmt.Errorf("VM %q: RAID level %d not supported (want 0, 1, 5, 6 or 10)", vm.Name, r.Level)
	}
	if r.Level == 0 && r.Spares > 0 {
		return nil, fmt.Errorf("VM %q: RAID 0 has no redundancy, so it cannot use spares", vm.Name)
	}
	if r.Filesystem != "ext4" && r.Filesystem != "xfs" {
		return nil, fmt.Errorf("VM %q: RAID filesystem %q not supported (want ext4 or xfs)", vm.Name, r.Filesystem)
	}
	return r, nil
}

// raidMembers returns the member disks in attach order: the first
// r.Members are active, the rest spares.
func raidMembers(vm *topology.VM) []*topology.Disk {
	var out []*topology.Disk
	for _, d := range vm.Disks {
		if d.RAIDMember {
			out = append(out, d)
		}
	}
	return out
}

// byIDName picks the /dev/disk/by-id entry of a disk from the listing:
// virtio-<serial> for virtio (the kernel keeps 20 bytes of a virtio serial),
// ata-QEMU_HARDDISK_<serial> / scsi-0QEMU_QEMU_HARDDISK_<serial> for the rest.
func byIDName(d *topology.Disk, names []string) (string, bool) {
	for _, n := range names {
		if strings.Contains(n, "-part") {
			continue
		}
		switch d.Bus {
		case "virtio", "":
			s := d.Serial
			if len(s) > 20 {
				s = s[:20]
			}
			if n == "virtio-"+s {
				return n, true
			}
		default:
			if (strings.HasPrefix(n, "ata-") || strings.HasPrefix(n, "scsi-")) && strings.HasSuffix(n, "_"+d.Serial) {
				return n, true
			}
		}
	}
	return "", false
}

func raidCreateCmd(vm *topology.VM, devs []string) string {
	r := vm.RAID
	var b strings.Builder
	fmt.Fprintf(&b, "mdadm --create %s --run --metadata=1.2 --name=%s --level=%d --raid-devices=%d",
		mdDevice(r), shq(r.Name), r.Level, r.Members)
	if r.Spares > 0 {
		fmt.Fprintf(&b, " --spare-devices=%d", r.Spares)
	}
	if r.ChunkKiB > 0 && r.Level != 1 {
		fmt.Fprintf(&b, " --chunk=%dK", r.ChunkKiB)
	}
	for _, d := range devs {
		b.WriteString(" " + d)
	}
	return b.String()
}

// raidArrayStep creates the array unless it is already assembled, and
// assembles it when its members already carry its superblocks. It never
// waits for the initial resync: the filesystem can be made on a resyncing
// array.
func raidArrayStep(ctx context.Context, h *host) (bool, error) {
	r, err := needRAID(h.vm)
	if err != nil {
		return false, err
	}
	md := mdDevice(r)
	exists, err := h.test(ctx, "test -b "+md)
	if err != nil {
		return false, err
	}
	if exists {
		out, err := h.run(ctx, "mdadm --detail "+md)
		if err != nil {
			return false, err
		}
		d := guestout.ParseMdadmDetail(out)
		if d.Level != fmt.Sprintf("raid%d", r.Level) {
			return false, fmt.Errorf("%s exists with level %q, lab wants raid%d; labctl does not reshape arrays (run labctl down and up to rebuild)", md, d.Level, r.Level)
		}
		return false, nil
	}
	ls, err := h.run(ctx, "ls -1 /dev/disk/by-id/")
	if err != nil {
		return false, err
	}
	names := strings.Fields(ls)
	members := raidMembers(h.vm)
	if len(members) != r.Members+r.Spares {
		return false, fmt.Errorf("RAID %q wants %d members + %d spares but VM %q has %d member disks", r.Name, r.Members, r.Spares, h.vm.Name, len(members))
	}
	var devs []string
	for _, d := range members {
		n, ok := byIDName(d, names)
		if !ok {
			return false, fmt.Errorf("RAID member disk %q (bus %s, serial %q) not found in /dev/disk/by-id (is the bus supported by the guest kernel?)", d.Name, d.Bus, d.Serial)
		}
		devs = append(devs, "/dev/disk/by-id/"+n)
	}
	// After a reboot without mdadm.conf the superblocks are there but the
	// array is not assembled: assemble, never re-create over data.
	exam, err := h.run(ctx, "mdadm --examine --brief "+strings.Join(devs, " ")+" 2>/dev/null || true")
	if err != nil {
		return false, err
	}
	if examineHasName(exam, r.Name) {
		if _, err := h.run(ctx, "mdadm --assemble "+md+" "+strings.Join(devs, " ")); err != nil {
			return false, err
		}
		return true, nil
	}
	if _, err := h.run(ctx, raidCreateCmd(h.vm, devs)); err != nil {
		return false, err
	}
	if _, err := h.run(ctx, "udevadm settle"); err != nil {
		return true, err
	}
	return true, nil
}

func raidFilesystemStep(ctx context.Context, h *host) (bool, error) {
	r, err := needRAID(h.vm)
	if err != nil {
		return false, err
	}
	md := mdDevice(r)
	// blkid exits 2 when it finds no filesystem.
	res, err := h.r.Run(ctx, "blkid -o value -s TYPE "+md)
	have := strings.TrimSpace(string(res.Stdout))
	if err != nil && res.ExitCode != 2 {
		return false, err
	}
	switch have {
	case r.Filesystem:
		return false, nil
	case "":
	default:
		return false, fmt.Errorf("%s already holds a %s filesystem, lab wants %s; labctl never reformats", md, have, r.Filesystem)
	}
	cmd := "mkfs.ext4 -q " + md
	if r.Filesystem == "xfs" {
		cmd = "mkfs.xfs -q " + md
	}
	if _, err := h.run(ctx, cmd); err != nil {
		return false, err
	}
	return true, nil
}
