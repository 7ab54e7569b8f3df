//go:build realvm

package ssh

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/cloudinit"
	"github.com/labctl/labctl/provision/keys"
)

// TestBootSeed boots a labctl base image under QEMU with a seed from
// provision/cloudinit and keys from provision/keys, then checks over SSH
// (pinned host key, sudo) what cloud-init did. Run it with
// testdata/boot-vm.sh, which provides the network namespace and taps.
func TestBootSeed(t *testing.T) {
	imgDir := os.Getenv("LABCTL_BOOT_IMAGE")
	if imgDir == "" {
		t.Skip("LABCTL_BOOT_IMAGE not set")
	}
	ctx := context.Background()
	dir := t.TempDir()
	store, err := keys.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	signer, authorized, err := store.UserKey()
	if err != nil {
		t.Fatal(err)
	}
	hostPEM, hostPub, err := store.HostKey("bootvm")
	if err != nil {
		t.Fatal(err)
	}
	// The first PCI NIC gets the name eth1 and the second eth0: the seed
	// must rename by MAC, not rely on probe order.
	files, err := cloudinit.Render(cloudinit.Seed{
		Hostname: "bootvm", FQDN: "bootvm.lab.test", User: "labctl",
		AuthorizedKeys: []string{authorized}, HostKeyPEM: hostPEM, HostKey: hostPub,
		NICs: []cloudinit.NIC{
			{MAC: "52:54:00:77:00:02", Name: "eth0", Address: netip.MustParsePrefix("10.77.0.2/24"), Gateway: netip.MustParseAddr("10.77.0.1"), MTU: 1400},
			{MAC: "52:54:00:78:00:02", Name: "eth1", Address: netip.MustParsePrefix("10.78.0.2/24")},
		},
		Files: []cloudinit.File{{Path: "/etc/labctl/seeded", Content: []byte("yes\n"), Mode: 0o600}},
	})
	if err != nil {
		t.Fatal(err)
	}
	iso, err := os.Create(filepath.Join(dir, "seed.iso"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cloudinit.WriteISO(iso, files); err != nil {
		t.Fatal(err)
	}
	iso.Close()
	disk := filepath.Join(dir, "vm.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", filepath.Join(imgDir, "disk.qcow2"), disk).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v: %s", err, out)
	}
	console := filepath.Join(dir, "console.log")
	qemu := exec.Command("qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "1", "-nographic", "-no-reboot",
		"-kernel", filepath.Join(imgDir, "vmlinuz"), "-initrd", filepath.Join(imgDir, "initrd.img"),
		"-append", "root=/dev/vda rw console=ttyS0",
		"-drive", "file="+disk+",if=virtio,format=qcow2",
		"-drive", "file="+iso.Name()+",if=virtio,format=raw,readonly=on",
		"-netdev", "tap,id=n1,ifname=lctap1,script=no,downscript=no", "-device", "virtio-net-pci,netdev=n1,mac=52:54:00:78:00:02",
		"-netdev", "tap,id=n0,ifname=lctap0,script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0,mac=52:54:00:77:00:02",
		"-serial", "file:"+console, "-monitor", "none", "-display", "none")
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = qemu.Process.Kill()
		_ = qemu.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(console)
			t.Logf("console (tail):\n%s", Tail(b, 60))
		}
	})

	start := time.Now()
	cfg := Config{Host: "bootvm", Addr: "10.77.0.2:22", User: "labctl", Signer: signer, HostKey: hostPub, Sudo: true}
	c, err := WaitReady(ctx, cfg, 6*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Logf("SSH ready %s after QEMU start", time.Since(start).Round(time.Second))

	run := func(cmd string) string {
		t.Helper()
		res, err := c.Run(ctx, cmd)
		if err != nil {
			t.Errorf("%s: %v", cmd, err)
		}
		return strings.TrimSpace(string(res.Stdout))
	}
	t.Logf("cloud-init: %s", run("cloud-init status --wait --long 2>&1 || true"))
	t.Logf("cloud-init problems:\n%s", run("grep -E 'WARNING|ERROR|Traceback|failed' /var/log/cloud-init.log | head -40 || true"))
	t.Logf("after cloud-init: %s after QEMU start", time.Since(start).Round(time.Second))
	checks := []struct{ cmd, want string }{
		{"cloud-init status | awk '{print $2}'", "done"},
		{"id -u", "0"},
		{"hostname", "bootvm"},
		{"cat /sys/class/net/eth0/address", "52:54:00:77:00:02"},
		{"cat /sys/class/net/eth1/address", "52:54:00:78:00:02"},
		{"ip -4 -o addr show dev eth0 | awk '{print $4}'", "10.77.0.2/24"},
		{"ip -4 -o addr show dev eth1 | awk '{print $4}'", "10.78.0.2/24"},
		{"cat /sys/class/net/eth0/mtu", "1400"},
		{"ip route show default | awk '{print $3, $5}'", "10.77.0.1 eth0"},
		{"ls /etc/ssh/ | grep '^ssh_host_' | tr '\\n' ' '", "ssh_host_ed25519_key ssh_host_ed25519_key.pub"},
		{"sshd -T 2>/dev/null | grep -E '^(passwordauthentication|permitrootlogin) ' | sort | tr '\\n' ' '", "passwordauthentication no permitrootlogin without-password"},
		{"passwd -S labctl | awk '{print $2}'", "L"},
		{"cat /etc/labctl/seeded; stat -c %a /etc/labctl/seeded", "yes\n600"},
		{"getent hosts bootvm.lab.test | awk '{print $2}'", "bootvm.lab.test"},
	}
	for _, ck := range checks {
		if got := run(ck.cmd); got != ck.want {
			t.Errorf("%s = %q, want %q", ck.cmd, got, ck.want)
		}
	}
}
