package image

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/labctl/labctl/provision/cloudinit"
)

func TestBootCmdline(t *testing.T) {
	m := Manifest{Kind: KindBuilt, Cmdline: Cmdline(true), Firstboot: FirstbootLabctl}
	if got, want := m.BootCmdline(), Cmdline(true)+" cloud-init=disabled"; got != want {
		t.Errorf("with first boot: %q, want %q", got, want)
	}
	for _, m := range []Manifest{
		{Kind: KindBuilt, Cmdline: Cmdline(false)},                       // untrimmed: cloud-init
		{Kind: KindBuilt, Cmdline: Cmdline(true), Firstboot: "labctl-9"}, // a layout this labctl cannot write
		{Kind: KindImported}, // own bootloader
	} {
		if got := m.BootCmdline(); got != m.Cmdline {
			t.Errorf("%+v: BootCmdline %q, want %q", m, got, m.Cmdline)
		}
	}
}

func TestTrimEnablesFirstboot(t *testing.T) {
	b, fr := quietBuilder(t)
	_, _ = b.Build(context.Background(), BuildOptions{}) // fails later, at inspect
	for _, c := range fr.calls {
		if strings.HasPrefix(c, "chroot ") && strings.Contains(c, "systemctl enable labctl-firstboot.service") {
			return
		}
	}
	t.Errorf("the build never enables labctl-firstboot.service:\n%s", strings.Join(fr.calls, "\n"))
}

// testSeedFiles renders a seed like engine.Seeder does and writes its
// labctl/ directory under dir, as the mounted ISO shows it.
func testSeedFiles(t *testing.T, dir string) cloudinit.Seed {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	hk, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s := cloudinit.Seed{
		Hostname: "web-1", FQDN: "web-1.lab.test", User: "labctl",
		AuthorizedKeys: []string{strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk))) + " user@labctl"},
		HostKeyPEM:     pem.EncodeToMemory(block), HostKey: hk,
		NICs: []cloudinit.NIC{
			{MAC: "52:54:00:aa:bb:01", Name: "eth0", Address: netip.MustParsePrefix("10.0.10.11/24"), Gateway: netip.MustParseAddr("10.0.10.1")},
			{MAC: "52:54:00:aa:bb:02", Name: "eth1", DHCP: true},
		},
		Files: []cloudinit.File{
			{Path: "/etc/labctl/role $(touch pwned)", Content: []byte("web\n'quoted' `x`\n"), Mode: 0o600, Owner: "labctl:labctl"},
			{Path: "/srv/www/index.html", Content: []byte("hi")},
		},
	}
	files, err := cloudinit.Render(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files.Labctl {
		p := filepath.Join(dir, cloudinit.LabctlDir, f.Name)
		writeTestFile(t, p, string(f.Data))
		if err := os.Chmod(p, 0o555); err != nil { // as a mounted ISO without Rock Ridge shows them
			t.Fatal(err)
		}
	}
	return s
}

// TestFirstbootScript runs the first-boot script with sh against a temp
// root; useradd, chown, findmnt and resize2fs are fakes that log.
func TestFirstbootScript(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	tmp := t.TempDir()
	root, seed, bin := filepath.Join(tmp, "root"), filepath.Join(tmp, "seed"), filepath.Join(tmp, "bin")
	s := testSeedFiles(t, seed)
	log := filepath.Join(tmp, "log")
	fake := func(name, body string) {
		writeTestFile(t, filepath.Join(bin, name), "#!/bin/sh\necho \""+name+" $*\" >>\"$LOG\"\n"+body)
		if err := os.Chmod(filepath.Join(bin, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fake("useradd", `echo "labctl:x:1000:1000:labctl:/home/labctl:/bin/bash" >>"$LABCTL_ROOT/etc/passwd"`)
	fake("chown", "")
	fake("findmnt", "echo /dev/vda")
	fake("resize2fs", "")
	writeTestFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n")
	writeTestFile(t, filepath.Join(root, "etc/hosts"), "127.0.0.1\tlocalhost\n127.0.1.1 old\n")
	writeTestFile(t, filepath.Join(root, "etc/ssh/ssh_host_rsa_key"), "stale")
	writeTestFile(t, filepath.Join(root, "etc/systemd/network/10-labctl-nic05.link"), "stale")
	writeTestFile(t, filepath.Join(root, "proc/sys/kernel/hostname"), "localhost\n")
	script, err := rootfsFiles.ReadFile("rootfs/trim/usr/local/lib/labctl/firstboot")
	if err != nil {
		t.Fatal(err)
	}
	run := func() {
		t.Helper()
		cmd := exec.Command("sh", "-c", string(script))
		cmd.Dir = tmp
		cmd.Env = []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "LABCTL_ROOT=" + root, "LABCTL_SEED=" + seed, "LOG=" + log}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("firstboot: %v\n%s", err, out)
		}
	}
	run()

	read := func(p string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Error(err)
		}
		return string(data)
	}
	hk := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey)))
	for p, want := range map[string]string{
		"etc/hostname":                             "web-1\n",
		"proc/sys/kernel/hostname":                 "web-1\n",
		"etc/hosts":                                "127.0.0.1\tlocalhost\n127.0.1.1 web-1.lab.test web-1\n",
		"etc/ssh/ssh_host_ed25519_key":             string(s.HostKeyPEM),
		"etc/ssh/ssh_host_ed25519_key.pub":         hk + "\n",
		"home/labctl/.ssh/authorized_keys":         s.AuthorizedKeys[0] + "\n",
		"etc/sudoers.d/90-labctl-users":            "labctl ALL=(ALL) NOPASSWD:ALL\n",
		"etc/labctl/role $(touch pwned)":           "web\n'quoted' `x`\n",
		"srv/www/index.html":                       "hi",
		"etc/systemd/network/10-labctl-nic00.link": "[Match]\nMACAddress=52:54:00:aa:bb:01\n\n[Link]\nName=eth0\n",
		"var/lib/labctl/instance":                  read("../seed/labctl/instance"),
		"run/labctl/booted":                        "",
	} {
		if got := read(p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for p, mode := range map[string]os.FileMode{
		"etc/ssh/ssh_host_ed25519_key": 0o600, "home/labctl/.ssh": 0o700 | os.ModeDir,
		"home/labctl/.ssh/authorized_keys": 0o600, "etc/sudoers.d/90-labctl-users": 0o440,
		"etc/labctl/role $(touch pwned)": 0o600, "srv/www/index.html": 0o644,
		"etc/systemd/network/10-labctl-nic00.link": 0o644, "etc/systemd/network/10-labctl-nic01.network": 0o644,
		"etc/ssh/ssh_host_ed25519_key.pub": 0o644,
	} {
		if st, err := os.Stat(filepath.Join(root, p)); err != nil || st.Mode() != mode {
			t.Errorf("%s: mode %v (%v), want %v", p, st.Mode(), err, mode)
		}
	}
	for _, gone := range []string{"etc/ssh/ssh_host_rsa_key", "etc/systemd/network/10-labctl-nic05.link", "pwned"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s exists", gone)
		}
	}
	if _, err := os.Stat(filepath.Join(tmp, "pwned")); err == nil {
		t.Error("seed content was executed")
	}
	wantLog := "useradd -m -s /bin/bash -c labctl labctl\n" +
		"chown -R labctl: " + root + "/home/labctl/.ssh\n" +
		"chown labctl:labctl " + root + "/etc/labctl/role $(touch pwned)\n" +
		"chown root:root " + root + "/srv/www/index.html\n" +
		"findmnt -n -o SOURCE /\nresize2fs /dev/vda\n"
	if got := read("../log"); got != wantLog {
		t.Errorf("commands:\n%s\nwant:\n%s", got, wantLog)
	}

	// A reboot with the same seed: marker again, nothing redone.
	if err := os.Remove(filepath.Join(root, "run/labctl/booted")); err != nil {
		t.Fatal(err)
	}
	run()
	if got := read("../log"); got != wantLog {
		t.Errorf("reboot ran commands:\n%s", strings.TrimPrefix(got, wantLog))
	}
	if _, err := os.Stat(filepath.Join(root, "run/labctl/booted")); err != nil {
		t.Error("no boot marker after a reboot")
	}
}

// A seed without labctl/ (made by an older labctl) fails with a reason
// bootDone shows, and no boot marker.
func TestFirstbootScriptNoLabctlDir(t *testing.T) {
	tmp := t.TempDir()
	root, seed := filepath.Join(tmp, "root"), filepath.Join(tmp, "seed")
	writeTestFile(t, filepath.Join(seed, "meta-data"), "instance-id: x\n")
	script, err := rootfsFiles.ReadFile("rootfs/trim/usr/local/lib/labctl/firstboot")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", string(script))
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LABCTL_ROOT=" + root, "LABCTL_SEED=" + seed}
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("firstboot succeeded without labctl/: %s", out)
	}
	if data, err := os.ReadFile(filepath.Join(root, "run/labctl/failed")); err != nil || !strings.Contains(string(data), "labctl/") {
		t.Errorf("failed marker %q (%v), want the reason", data, err)
	}
	if _, err := os.Stat(filepath.Join(root, "run/labctl/booted")); err == nil {
		t.Error("boot marker written on failure")
	}
}
