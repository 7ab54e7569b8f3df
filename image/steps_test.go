package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mdadm's initramfs files must be diverted before the packages install:
// the initramfs is made while they install, and never again.
func TestBuildDivertsMdadmInitramfsBeforeInstall(t *testing.T) {
	b, fr := quietBuilder(t)
	_, _ = b.Build(context.Background(), BuildOptions{}) // fails later, at inspect (no packages)
	divert, install := -1, -1
	for i, c := range fr.calls {
		switch {
		case strings.HasPrefix(c, "chroot ") && strings.Contains(c, "dpkg-divert") && strings.Contains(c, "hooks/mdadm"):
			divert = i
		case strings.HasPrefix(c, "chroot ") && strings.Contains(c, "apt-get") && strings.Contains(c, " install "):
			install = i
		}
	}
	if divert < 0 || install < 0 || divert > install {
		t.Fatalf("divert at call %d, install at call %d: want the divert first\n%s", divert, install, strings.Join(fr.calls, "\n"))
	}
}

// The TCG timeouts are in every labctl image, trimmed or not.
func TestCommonOverlaySetsTCGTimeouts(t *testing.T) {
	root := t.TempDir()
	if err := copyTree(rootfsFiles, "rootfs/common", root); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"etc/systemd/system.conf.d/labctl-tcg.conf":                     "DefaultTimeoutStartSec=10min\nDefaultDeviceTimeoutSec=10min\n",
		"etc/systemd/system/systemd-journald.service.d/labctl-tcg.conf": "WatchdogSec=10min\n",
		"etc/systemd/system/systemd-udevd.service.d/labctl-tcg.conf":    "WatchdogSec=10min\n",
		"etc/systemd/system/systemd-sysusers.service.d/labctl-tcg.conf": "TimeoutStartSec=10min\n",
		"etc/systemd/system/systemd-sysctl.service.d/labctl-tcg.conf":   "TimeoutStartSec=10min\n",
	}
	for rel, settings := range want {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("missing %s: %v", rel, err)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(settings), "\n") {
			if !strings.Contains(string(data), "\n"+line+"\n") {
				t.Errorf("%s lacks %q", rel, line)
			}
		}
	}
}

func TestTrimMasksSerialGetty(t *testing.T) {
	for _, u := range maskedUnits {
		if u == "serial-getty@.service" {
			return
		}
	}
	t.Error("serial-getty@.service is not masked")
}

// The no-udev initramfs hook: installed executable (initramfs-tools runs
// only executable hooks), it removes udev from a DESTDIR and keeps the
// move of /dev to the root.
func TestTrimInitramfsHookDropsUdev(t *testing.T) {
	root := t.TempDir()
	if err := copyTree(rootfsFiles, "rootfs/trim", root); err != nil {
		t.Fatal(err)
	}
	hook := filepath.Join(root, "etc/initramfs-tools/hooks/labctl-no-udev")
	st, err := os.Stat(hook)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o755 {
		t.Errorf("hook mode %v, want 0755", st.Mode().Perm())
	}
	if st, err := os.Stat(filepath.Join(root, "etc/modules-load.d/labctl-virtio-net.conf")); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("modules-load.d file: %v, %v (want 0644)", st, err)
	}
	dest := t.TempDir()
	for _, f := range []string{"scripts/init-top/udev", "scripts/init-bottom/udev", "usr/bin/udevadm", "usr/lib/systemd/systemd-udevd", "usr/lib/udev/rules.d/50-udev-default.rules", "scripts/init-top/keymap"} {
		if err := writeFile(dest, f, "x\n", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("sh", hook)
	cmd.Env = append(os.Environ(), "DESTDIR="+dest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hook: %v\n%s", err, out)
	}
	for _, gone := range []string{"scripts/init-top/udev", "usr/bin/udevadm", "usr/lib/systemd/systemd-udevd", "usr/lib/udev"} {
		if _, err := os.Stat(filepath.Join(dest, gone)); err == nil {
			t.Errorf("%s still in the initramfs", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(dest, "scripts/init-top/keymap")); err != nil {
		t.Errorf("the hook removed an unrelated script: %v", err)
	}
	bottom, err := os.ReadFile(filepath.Join(dest, "scripts/init-bottom/udev"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bottom), `mount -n -o move /dev "${rootmnt:?}/dev"`) || strings.Contains(string(bottom), "udevadm") {
		t.Errorf("init-bottom script:\n%s", bottom)
	}
	if out, err := exec.Command("sh", "-n", filepath.Join(dest, "scripts/init-bottom/udev")).CombinedOutput(); err != nil {
		t.Errorf("init-bottom script does not parse: %v\n%s", err, out)
	}
}

// Masked generators are symlinks to /dev/null in /etc/systemd/system-generators.
func TestTrimMasksGenerators(t *testing.T) {
	b, fr := quietBuilder(t)
	_, _ = b.Build(context.Background(), BuildOptions{})
	for _, c := range fr.calls {
		if strings.HasPrefix(c, "chroot ") && strings.Contains(c, "/etc/systemd/system-generators/$g") {
			for _, g := range maskedGenerators {
				if !strings.Contains(c, g) {
					t.Errorf("generator %s not masked", g)
				}
			}
			return
		}
	}
	t.Errorf("the build masks no generator:\n%s", strings.Join(fr.calls, "\n"))
}
