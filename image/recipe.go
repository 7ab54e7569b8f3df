package image

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// RecipeVersion changes whenever the build steps change in a way the
// embedded rootfs files do not show; it is part of the cache key.
const RecipeVersion = "5" // 5: masked generators, executable rootfs scripts

// rootfsFiles are copied into the image: common/ always, trim/ when trimming.
//
//go:embed rootfs
var rootfsFiles embed.FS

// DefaultDiskSize is the guest-visible size of a built image's disk.
const DefaultDiskSize = 4 << 30

// BuildOptions are the inputs of `labctl image build`.
type BuildOptions struct {
	Name           string
	Suite          string
	Mirror         string
	SecurityMirror string // "" = no security updates
	Kernel         string // KernelCloud or KernelGeneric
	Packages       []string
	DiskSize       int64
	NoTrim         bool // keep Debian's boot defaults (for comparison)
	Force          bool // rebuild even if cached
}

// baseCmdline is what direct kernel boot needs: the filesystem spans the
// whole virtio disk and the console is the serial port.
const baseCmdline = "root=/dev/vda rw console=ttyS0"

// trimCmdline is added for trimmed images: less serial output (slow under
// TCG), no TSC/timer sanity checks, which are wasted time in a VM, no fsck
// of the root file system (a fresh linked clone; ext4's journal still
// replays after a crash), and kernel NIC names (eth0...), which is what
// labctl's seeds name them, so udev and cloud-init rename nothing.
const trimCmdline = "quiet tsc=reliable no_timer_check systemd.show_status=auto fsck.mode=skip net.ifnames=0"

// Cmdline returns the kernel command line for a built image.
func Cmdline(trimmed bool) string {
	if trimmed {
		return baseCmdline + " " + trimCmdline
	}
	return baseCmdline
}

// initramfsModules are the only drivers in a trimmed initramfs: root on
// virtio-blk (ext4 is built in, crc32c for its checksums) and, for the
// generic kernel, AHCI/SCSI disks too.
func initramfsModules(flavour string) []string {
	mods := []string{"virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "ext4", "crc32c_generic"}
	if flavour == KernelGeneric {
		mods = append(mods, "ahci", "ata_piix")
	}
	return mods
}

// InitStageOnlyMarker is a file trimmed images carry: everything labctl
// needs from cloud-init runs in its init stage, before sshd starts, and the
// later stages do nothing (see rootfs/trim), so nobody need wait for them.
const InitStageOnlyMarker = "/etc/cloud/cloud.cfg.d/96-labctl-modules.cfg"

// maxNICs is how many NICs (eth0...) get boot-time networkd drop-ins.
const maxNICs = 16

// maskedUnits never run in a lab VM; masking (not disabling) survives the
// first-boot preset pass systemd does with an empty machine-id.
var maskedUnits = []string{
	"e2scrub_all.timer", "e2scrub_reap.service",
	"apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
	"man-db.timer", "fstrim.timer", "logrotate.timer", "phpsessionclean.timer",
	"mdcheck_start.timer", "mdcheck_continue.timer", "mdmonitor-oneshot.timer",
	// Gettys: VTs and the serial console. No account has a password, so
	// a login prompt is useless, and serial-getty@ttyS0 waits for
	// dev-ttyS0.device, which a starved TCG boot may not see in time.
	// The console still shows the kernel's and systemd's output.
	"getty@.service", "serial-getty@.service",
	"systemd-pstore.service",
	"apache-htcacheclean.service",
	"cloud-init-hotplugd.socket",
	"cloud-config.service", // no config modules; cloud-final.service is overridden (rootfs/trim)
	"systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount", "proc-sys-fs-binfmt_misc.mount",
	"modprobe@drm.service",
	// Kernel file systems and modules no lab VM uses: each is a unit (and
	// for modprobe@ a process) on the single TCG vCPU while sshd waits.
	// A tool that needs one mounts or loads it itself (loop and dm_mod
	// load on first use of /dev/loop-control and /dev/mapper/control).
	// configfs stays: DLM (Pacemaker with a cluster file system) and
	// iSCSI targets need it.
	"dev-hugepages.mount", "sys-kernel-debug.mount", "sys-kernel-tracing.mount",
	"sys-fs-fuse-connections.mount",
	"modprobe@fuse.service", "modprobe@loop.service", "modprobe@dm_mod.service",
}

// maskedGenerators never find anything to do in a lab VM (no encrypted,
// integrity or verity volumes, no GPT auto-discovery, hibernation, offline
// updates or systemd.run=), but each is a process systemd waits for before
// it starts any unit. The rc-local generator stays: LVS-DR tutorials put
// the VIP on lo in /etc/rc.local, and a student's should run.
var maskedGenerators = []string{
	"systemd-cryptsetup-generator", "systemd-integritysetup-generator", "systemd-veritysetup-generator",
	"systemd-gpt-auto-generator", "systemd-hibernate-resume-generator", "systemd-system-update-generator",
	"systemd-run-generator",
}

// roleServices are installed for the roles but stay off until a role
// enables them (`systemctl enable --now`), so unrelated VMs boot faster.
var roleServices = []string{
	"apache2.service", "nfs-server.service", "keepalived.service",
	"nfs-blkmap.service", "rpcbind.service", "rpcbind.socket", "mdmonitor.service",
	"ipvsadm.service", // keepalived programs IPVS; the init script only costs boot time
	"corosync.service", "pacemaker.service",
	"ldirectord.service", // Pacemaker starts ldirectord where the VIPs are
	"nfs-client.target",  // mount.nfs starts what it needs (rpc-statd) on demand
}

// InputsHash is the cache key: the same hash means the same image.
func InputsHash(o BuildOptions, packages []string) (string, error) {
	h := sha256.New()
	pk := append([]string(nil), packages...)
	sort.Strings(pk)
	fmt.Fprintf(h, "recipe=%s\nname=%s\nsuite=%s\nmirror=%s\nsecurity=%s\nkernel=%s\nsize=%d\nnotrim=%t\npackages=%s\n",
		RecipeVersion, o.Name, o.Suite, o.Mirror, o.SecurityMirror, o.Kernel, o.DiskSize, o.NoTrim, strings.Join(pk, ","))
	fmt.Fprintf(h, "cmdline=%s\nmodules=%s\nmasked=%s\ngenerators=%s\nroles=%s\n", Cmdline(!o.NoTrim),
		strings.Join(initramfsModules(o.Kernel), ","), strings.Join(maskedUnits, ","),
		strings.Join(maskedGenerators, ","), strings.Join(roleServices, ","))
	err := fs.WalkDir(rootfsFiles, "rootfs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := rootfsFiles.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file=%s %x\n", p, sha256.Sum256(data))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash recipe files: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
