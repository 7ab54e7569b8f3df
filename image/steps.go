package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// buildState carries one build through its steps.
type buildState struct {
	b        *Builder
	o        BuildOptions
	pkgs     []string
	root     string // the chroot
	staging  string
	debCache string
	manifest Manifest
}

func (s *buildState) debootstrap(ctx context.Context) error {
	_, err := s.b.Run.Run(ctx, "debootstrap", "--variant=minbase", "--components=main",
		"--cache-dir="+s.debCache, s.o.Suite, s.root, s.o.Mirror)
	return err
}

// configure writes everything that must exist before packages install:
// apt sources, dpkg excludes, initramfs settings, cloud-init and unit
// drop-ins, and a policy-rc.d so no daemon starts inside the chroot.
func (s *buildState) configure(ctx context.Context) error {
	if err := copyTree(rootfsFiles, "rootfs/common", s.root); err != nil {
		return err
	}
	if !s.o.NoTrim {
		if err := copyTree(rootfsFiles, "rootfs/trim", s.root); err != nil {
			return err
		}
		mods := "# labctl: root on virtio (MODULES=list)\n" + strings.Join(initramfsModules(s.o.Kernel), "\n") + "\n"
		if err := writeFile(s.root, "etc/initramfs-tools/modules", mods, 0o644); err != nil {
			return err
		}
	}
	if err := writeFile(s.root, "etc/apt/sources.list", sourcesList(s.o), 0o644); err != nil {
		return err
	}
	// No fsync per file while building; the filesystem image is written
	// once at the end. Removed again in finish.
	if err := writeFile(s.root, "etc/dpkg/dpkg.cfg.d/labctl-build-unsafe-io", "force-unsafe-io\n", 0o644); err != nil {
		return err
	}
	if err := writeFile(s.root, "usr/sbin/policy-rc.d", "#!/bin/sh\n# labctl build: start no daemons in the chroot\nexit 101\n", 0o755); err != nil {
		return err
	}
	if err := mountChroot(ctx, s.b.Run, s.root, s.debCache); err != nil {
		return err
	}
	_, err := inChroot(ctx, s.b.Run, s.root, divertMdadmInitramfs)
	return err
}

// divertMdadmInitramfs keeps mdadm out of the initramfs; it runs before
// the packages install, so mdadm's files unpack to the diverted names and
// no initramfs is ever made with them. Root is ext4 on /dev/vda, never on
// RAID, and the arrays roles make on data disks are assembled in the real
// root by mdadm's udev rules (mdadm --incremental). In the initramfs, mdadm
// only cost boot time (its hook force-loads eight RAID modules, raid6_pq
// and xor benchmark themselves at load) and an error on every boot: its
// local-bottom script calls rm, which the klibc initramfs lacks.
const divertMdadmInitramfs = `mkdir -p /usr/local/lib/labctl/initramfs-diverted
for f in hooks/mdadm scripts/local-block/mdadm scripts/local-bottom/mdadm; do
	dpkg-divert --local --rename --divert /usr/local/lib/labctl/initramfs-diverted/$(echo $f | tr / -) --add /usr/share/initramfs-tools/$f
done
`

func sourcesList(o BuildOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "deb %s %s main\n", o.Mirror, o.Suite)
	if o.Suite != "sid" && o.Suite != "unstable" {
		fmt.Fprintf(&b, "deb %s %s-updates main\n", o.Mirror, o.Suite)
		if o.SecurityMirror != "" {
			fmt.Fprintf(&b, "deb %s %s-security main\n", o.SecurityMirror, o.Suite)
		}
	}
	return b.String()
}

func (s *buildState) install(ctx context.Context) error {
	const opts = "-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
	script := fmt.Sprintf("apt-get -q update\napt-get %s dist-upgrade\napt-get %s install --no-install-recommends %s\n",
		opts, opts, strings.Join(s.pkgs, " "))
	_, err := inChroot(ctx, s.b.Run, s.root, script)
	return err
}

// finish applies boot trimming and removes per-instance state: SSH host
// keys, machine-id, apt lists, logs, the build's policy-rc.d.
func (s *buildState) finish(ctx context.Context) error {
	var script strings.Builder
	script.WriteString("systemctl enable systemd-networkd.service\n")
	if !s.o.NoTrim {
		script.WriteString("systemctl enable labctl-firstboot.service\n")
		fmt.Fprintf(&script, "for u in %s; do ln -sfn /dev/null /etc/systemd/system/$u; done\n", strings.Join(maskedUnits, " "))
		fmt.Fprintf(&script, "mkdir -p /etc/systemd/system-generators\nfor g in %s; do ln -sfn /dev/null /etc/systemd/system-generators/$g; done\n", strings.Join(maskedGenerators, " "))
		fmt.Fprintf(&script, "for u in %s; do if [ -e /lib/systemd/system/$u ]; then systemctl disable $u; elif [ -e /etc/init.d/${u%%.service} ]; then update-rc.d ${u%%.service} disable; fi; done\n", strings.Join(roleServices, " "))
		// cloud-init 22.4 renders static links without IPv6AcceptRA, so
		// networkd waits ~12 s for a router advertisement on IPv4-only lab
		// networks before it calls the link configured (and wait-online,
		// cloud-init and sshd wait with it). labctl names NICs eth0, eth1...
		fmt.Fprintf(&script, "for i in $(seq 0 %d); do d=/etc/systemd/network/10-cloud-init-eth$i.network.d; mkdir -p $d; printf '[Network]\\nIPv6AcceptRA=no\\n' > $d/50-labctl-no-ra.conf; done\n", maxNICs-1)
	}
	// PasswordAuthentication already "no", so cloud-init's set-passwords
	// (ssh_pwauth: false) finds nothing to change and does not restart sshd
	// just after the first login became possible.
	script.WriteString(`usermod -p '*' root
sed -i -E 's/^#?PasswordAuthentication .*/PasswordAuthentication no/' /etc/ssh/sshd_config
grep -q '^PasswordAuthentication no' /etc/ssh/sshd_config
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /var/lib/systemd/random-seed /usr/sbin/policy-rc.d /etc/dpkg/dpkg.cfg.d/labctl-build-unsafe-io
: > /etc/resolv.conf
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/lib/cloud /tmp/* /var/tmp/* /root/.bash_history
find /var/log -type f -delete
`)
	_, err := inChroot(ctx, s.b.Run, s.root, script.String())
	return err
}

// inspect records installed packages, the kernel and what it can drive.
func (s *buildState) inspect(ctx context.Context) error {
	out, err := inChroot(ctx, s.b.Run, s.root, `dpkg-query -W -f='${Package}\t${Version}\t${db:Status-Abbrev}\n'`)
	if err != nil {
		return err
	}
	pkgs, broken := parseDpkgQuery(string(out))
	if len(broken) > 0 {
		return fmt.Errorf("packages not fully installed in the image: %s", strings.Join(broken, ", "))
	}
	if len(pkgs) == 0 {
		return fmt.Errorf("dpkg-query listed no packages")
	}
	s.manifest.Packages = pkgs
	kver, err := kernelVersion(filepath.Join(s.root, "boot"))
	if err != nil {
		return err
	}
	s.manifest.KernelVersion = kver
	cfg, err := os.Open(filepath.Join(s.root, "boot", "config-"+kver))
	if err != nil {
		return fmt.Errorf("kernel config: %w", err)
	}
	defer cfg.Close()
	caps, err := ParseKernelConfig(cfg)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", kver, err)
	}
	s.manifest.Buses, s.manifest.NICModels = caps.Buses, caps.NICModels
	if err := unmountAll(s.b.Run, s.root); err != nil {
		return err
	}
	for src, dst := range map[string]string{"vmlinuz-" + kver: KernelFile, "initrd.img-" + kver: InitrdFile} {
		if err := copyFile(filepath.Join(s.root, "boot", src), filepath.Join(s.staging, dst)); err != nil {
			return err
		}
	}
	return nil
}

// parseDpkgQuery returns installed packages and those not in state "ii".
func parseDpkgQuery(out string) (pkgs []Package, broken []string) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[0] == "" {
			continue
		}
		switch strings.TrimSpace(f[2]) {
		case "ii":
			pkgs = append(pkgs, Package{Name: f[0], Version: f[1]})
		case "rc", "un", "pn":
			// removed or never installed: not in the image
		default:
			broken = append(broken, f[0]+" ("+strings.TrimSpace(f[2])+")")
		}
	}
	sort.Slice(pkgs, func(a, b int) bool { return pkgs[a].Name < pkgs[b].Name })
	return pkgs, broken
}

// kernelVersion picks the newest /boot/vmlinuz-* (one is expected).
func kernelVersion(boot string) (string, error) {
	matches, err := filepath.Glob(filepath.Join(boot, "vmlinuz-*"))
	if err != nil || len(matches) == 0 {
		return "", fmt.Errorf("no kernel in %s", boot)
	}
	sort.Strings(matches)
	return strings.TrimPrefix(filepath.Base(matches[len(matches)-1]), "vmlinuz-"), nil
}

// makeDisk turns the chroot into an ext4 filesystem spanning a raw file
// (mkfs.ext4 -d: no loop mount, no partition table), converts it to
// qcow2 and records size and checksum.
func (s *buildState) makeDisk(ctx context.Context) error {
	if mps, err := mountsUnder(s.root); err != nil || len(mps) > 0 {
		return fmt.Errorf("chroot still has mounts %v: %v", mps, err)
	}
	used, err := treeSize(s.root)
	if err != nil {
		return err
	}
	size := s.o.DiskSize
	if need := used + used/4 + 256<<20; size < need {
		size = need
	}
	size = (size + 1<<20 - 1) &^ (1<<20 - 1)
	raw := filepath.Join(s.staging, "disk.raw")
	f, err := os.Create(raw)
	if err != nil {
		return fmt.Errorf("create raw disk: %w", err)
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return fmt.Errorf("size raw disk: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create raw disk: %w", err)
	}
	if _, err := s.b.Run.Run(ctx, "mkfs.ext4", "-q", "-F", "-L", "labctl-root", "-m", "1", "-d", s.root, raw); err != nil {
		return err
	}
	qcow := filepath.Join(s.staging, DiskFile)
	if _, err := s.b.Run.Run(ctx, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow); err != nil {
		return err
	}
	if err := os.Remove(raw); err != nil {
		return fmt.Errorf("remove raw disk: %w", err)
	}
	if err := os.RemoveAll(s.root); err != nil {
		return fmt.Errorf("remove chroot: %w", err)
	}
	sum, n, err := fileSHA256(qcow)
	if err != nil {
		return err
	}
	s.manifest.SHA256, s.manifest.SizeBytes, s.manifest.VirtualSizeBytes = sum, n, size
	return nil
}

// treeSize sums the allocated size of regular files below dir.
func treeSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += (info.Size() + 4095) &^ 4095
		} else {
			total += 4096
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measure %s: %w", dir, err)
	}
	return total, nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("checksum: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// copyTree copies the embedded directory from (e.g. rootfs/common) onto root.
// Scripts (a "#!" first line) are made executable: embedded files carry no
// mode, and initramfs-tools runs only executable hooks.
func copyTree(fsys fs.FS, from, root string) error {
	return fs.WalkDir(fsys, from, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, from+"/")
		mode := os.FileMode(0o644)
		if strings.HasPrefix(string(data), "#!") {
			mode = 0o755
		}
		return writeFile(root, rel, string(data), mode)
	})
}

func writeFile(root, rel, content string, mode os.FileMode) error {
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	// Remove first: debootstrap may have left a symlink (resolv.conf).
	_ = os.Remove(p)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	return os.Chmod(p, mode)
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		return fmt.Errorf("copy %s: %w", filepath.Base(src), err)
	}
	return nil
}
