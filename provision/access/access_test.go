package access

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// hostKey is a fixed ed25519 public key, so the golden files stay put.
func hostKey(t *testing.T, seed byte) ssh.PublicKey {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// bundle is copy cp of class lvs-nat-ha, with host keys from seed.
func bundle(t *testing.T, cp string, seed byte) *Bundle {
	return &Bundle{Lab: "lvs-nat-ha-" + cp, Class: "lvs-nat-ha", Copy: cp, User: "labctl",
		Jump: "teacher@lab1:2222", UserKey: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n"),
		Hosts: []Host{
			{Name: "director-1", Address: "10.77.0.11", Roles: []string{"lvs_director"}, HostKey: hostKey(t, seed)},
			{Name: "web-1", Address: "10.77.0.21", Roles: []string{"web", "real_server"}, HostKey: hostKey(t, seed+1)},
		}}
}

func TestRenderGolden(t *testing.T) {
	b := bundle(t, "alice", 1)
	dir := "/home/teacher/class/alice"
	cfg, err := b.SSHConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	known, err := b.KnownHosts()
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string]string{ConfigFile: cfg, KnownHostsFile: known, ReadmeFile: b.README(dir)} {
		golden := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s differs from %s (go test -update):\n%s", name, golden, got)
		}
	}
}

func TestWriteModesAndRefusesNonEmptyDir(t *testing.T) {
	b := bundle(t, "alice", 1)
	dir := filepath.Join(t.TempDir(), "alice")
	if err := os.Mkdir(dir, 0o755); err != nil { // an empty directory is fine, and gets 0700
		t.Fatal(err)
	}
	abs, err := Write(dir, b, false)
	if err != nil {
		t.Fatal(err)
	}
	if abs != dir {
		t.Errorf("Write returned %q, want %q", abs, dir)
	}
	wantModes := func() {
		t.Helper()
		for name, want := range map[string]os.FileMode{".": 0o700, KeyFile: 0o600, KnownHostsFile: 0o644, ConfigFile: 0o644, ReadmeFile: 0o644} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %04o, want %04o", name, fi.Mode().Perm(), want)
			}
		}
		if key, _ := os.ReadFile(filepath.Join(dir, KeyFile)); !bytes.Equal(key, b.UserKey) {
			t.Errorf("key file holds %q, want the lab's key", key)
		}
	}
	wantModes()
	if _, err := Write(dir, b, false); err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "--overwrite") {
		t.Errorf("second Write: %v, want a refusal naming --overwrite", err)
	}
	// A key left readable by others is replaced, not rewritten in place.
	if err := os.Chmod(filepath.Join(dir, KeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(dir, b, true); err != nil {
		t.Fatal(err)
	}
	wantModes()
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) > 0 {
		t.Errorf("temp files left: %v", left)
	}
}

func TestKnownHostsPinsOnlyItsOwnCopy(t *testing.T) {
	alice, bob := bundle(t, "alice", 1), bundle(t, "bob", 11)
	known, err := alice.KnownHosts()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), KnownHostsFile)
	if err := os.WriteFile(path, []byte(known), 0o644); err != nil {
		t.Fatal(err)
	}
	check, err := knownhosts.New(path)
	if err != nil {
		t.Fatal(err)
	}
	// OpenSSH looks a HostKeyAlias up without a port, as Normalize does for :22.
	web := alice.Hosts[1]
	aliceWeb := Alias(alice.Lab, web.Name) + ":22"
	ip := &net.TCPAddr{IP: net.ParseIP(web.Address), Port: 22} // the same in every copy
	if err := check(aliceWeb, ip, web.HostKey); err != nil {
		t.Errorf("alice's web-1 key rejected: %v", err)
	}
	var ke *knownhosts.KeyError
	if err := check(aliceWeb, ip, bob.Hosts[1].HostKey); !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Errorf("bob's web-1 key under alice's alias: %v, want a key mismatch", err)
	}
	if err := check(Alias(bob.Lab, web.Name)+":22", ip, bob.Hosts[1].HostKey); !errors.As(err, &ke) || len(ke.Want) != 0 {
		t.Errorf("bob's alias in alice's known_hosts: %v, want an unknown host", err)
	}
}

func TestRefusesWhatSSHConfigCannotSay(t *testing.T) {
	for _, dir := range []string{"/tmp/50%", `/tmp/a"b`, "/tmp/${HOME}", "/tmp/a\nHost *", "relative"} {
		if _, err := bundle(t, "alice", 1).SSHConfig(dir); err == nil {
			t.Errorf("SSHConfig(%q) accepted", dir)
		}
	}
	for _, mod := range []func(b *Bundle){
		func(b *Bundle) { b.User = "labctl\n  ProxyCommand x" },
		func(b *Bundle) { b.Hosts[0].Name = "web 1" },
		func(b *Bundle) { b.Hosts[0].Address = "" },
		func(b *Bundle) { b.Hosts[0].HostKey = nil },
		func(b *Bundle) { b.Hosts = nil },
		func(b *Bundle) { b.Jump = "lab1 -oProxyCommand=x" },
	} {
		b := bundle(t, "alice", 1)
		mod(b)
		if _, err := Write(t.TempDir(), b, false); err == nil {
			t.Errorf("Write accepted %+v", b)
		}
	}
}

func TestParseJump(t *testing.T) {
	for _, ok := range []string{"teacher@lab1", "teacher@lab1.example.org:2222", "lab1", "t@192.0.2.1:22", "t@[2001:db8::1]:22", "2001:db8::1"} {
		if _, err := ParseJump(ok); err != nil {
			t.Errorf("ParseJump(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "@lab1", "t@", "t@lab1:0", "t@lab1:x", "t@-lab1", "a b@lab1", "t@lab1,other", "t@[lab1", "t@lab1:22:33x"} {
		if _, err := ParseJump(bad); err == nil {
			t.Errorf("ParseJump(%q) accepted", bad)
		}
	}
}

// TestOpenSSHResolvesBundle asks the OpenSSH client how it reads the
// bundle (ssh -G connects nowhere), in a directory whose name has a space.
func TestOpenSSHResolvesBundle(t *testing.T) {
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no OpenSSH client")
	}
	b := bundle(t, "alice", 1)
	parent := filepath.Join(t.TempDir(), "class 1")
	if err := os.Mkdir(parent, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, err := Write(filepath.Join(parent, "alice"), b, false)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sshBin, "-G", "-F", filepath.Join(dir, ConfigFile), "web-1").CombinedOutput()
	if err != nil {
		t.Fatalf("ssh -G: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			got[k] = v
		}
	}
	for k, want := range map[string]string{
		"hostname": "10.77.0.21", "user": "labctl", "port": "22",
		"identityfile": filepath.Join(dir, KeyFile), "userknownhostsfile": filepath.Join(dir, KnownHostsFile),
		"hostkeyalias": "lvs-nat-ha-alice-web-1", "stricthostkeychecking": "true",
		"identitiesonly": "yes", "proxyjump": "teacher@lab1:2222",
	} {
		if got[k] != want {
			t.Errorf("ssh -G %s = %q, want %q", k, got[k], want)
		}
	}
}
