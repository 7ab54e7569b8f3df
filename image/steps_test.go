package image

import (
	"context"
	"os"
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
