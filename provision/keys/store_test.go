package keys

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestDefaultDir(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want string
	}{
		{"override", map[string]string{EnvStateDir: "/tmp/st", "XDG_STATE_HOME": "/x"}, 0, "/tmp/st/lab1"},
		{"root", nil, 0, "/var/lib/labctl/state/lab1"},
		{"user xdg", map[string]string{"XDG_STATE_HOME": "/x/state"}, 1000, "/x/state/labctl/lab1"},
		{"user relative xdg ignored", map[string]string{"XDG_STATE_HOME": "rel"}, 1000, "/home/u/.local/state/labctl/lab1"},
		{"user default", nil, 1000, "/home/u/.local/state/labctl/lab1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := defaultDir("lab1", env(tc.env), tc.euid, "/home/u"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestUserKeyStableAndPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab1")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := perm(t, dir); p != 0o700 {
		t.Errorf("dir mode %04o, want 0700", p)
	}
	signer, line, err := s.UserKey()
	if err != nil {
		t.Fatal(err)
	}
	if signer.PublicKey().Type() != ssh.KeyAlgoED25519 {
		t.Errorf("key type %s, want ed25519", signer.PublicKey().Type())
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		t.Fatalf("authorized key %q: %v", line, err)
	}
	if !bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) {
		t.Error("authorized key does not match signer")
	}
	if p := perm(t, s.UserKeyPath()); p != 0o600 {
		t.Errorf("private key mode %04o, want 0600", p)
	}
	pemBytes, err := os.ReadFile(s.UserKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pemBytes, []byte("-----BEGIN OPENSSH PRIVATE KEY-----")) {
		t.Errorf("private key is not OpenSSH PEM: %q", pemBytes[:40])
	}

	// A second store on the same directory sees the same key.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, line2, err := s2.UserKey()
	if err != nil {
		t.Fatal(err)
	}
	if line2 != line {
		t.Errorf("user key changed: %q then %q", line, line2)
	}
}

func TestHostKeyPerVM(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.HostPublicKey("web-1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("HostPublicKey before creation: %v, want ErrNotExist", err)
	}
	priv1, pub1, err := s.HostKey("web-1")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(priv1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(signer.PublicKey().Marshal(), pub1.Marshal()) {
		t.Error("private and public host key differ")
	}
	priv1b, pub1b, err := s.HostKey("web-1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(priv1, priv1b) || !bytes.Equal(pub1.Marshal(), pub1b.Marshal()) {
		t.Error("host key of web-1 changed on second call")
	}
	pinned, err := s.HostPublicKey("web-1")
	if err != nil || !bytes.Equal(pinned.Marshal(), pub1.Marshal()) {
		t.Errorf("HostPublicKey = %v, %v", pinned, err)
	}
	_, pub2, err := s.HostKey("web-2")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(pub1.Marshal(), pub2.Marshal()) {
		t.Error("two VMs share a host key")
	}
	if p := perm(t, s.HostKeyPath("web-1")); p != 0o600 {
		t.Errorf("host key mode %04o, want 0600", p)
	}
}

func TestHostKeyConcurrentSameVM(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	keys := make([]string, 8)
	errs := make([]error, 8)
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Separate stores model separate processes.
			s, err := Open(dir)
			if err != nil {
				errs[i] = err
				return
			}
			_, pub, err := s.HostKey("db")
			if err != nil {
				errs[i] = err
				return
			}
			keys[i] = string(pub.Marshal())
		}()
	}
	wg.Wait()
	for i := range keys {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if keys[i] != keys[0] {
			t.Fatal("concurrent callers got different host keys")
		}
	}
}

func TestBadInput(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "../x", "a/b", ".hidden", "-x"} {
		if _, _, err := s.HostKey(name); err == nil || !strings.Contains(err.Error(), "invalid VM name") {
			t.Errorf("HostKey(%q) = %v, want invalid VM name", name, err)
		}
	}
	if _, _, err := s.UserKey(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.UserKeyPath(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UserKey(); err == nil || !strings.Contains(err.Error(), "want 0600") {
		t.Errorf("world-readable key accepted: %v", err)
	}
	if _, err := Open(""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
}

func TestRemoveAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.HostKey("a"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("store dir still there: %v", err)
	}
}

// RemoveDir removes one lab's state and refuses anything that is not a
// plain lab name (`labctl down --name ../..` must not delete /var).
func TestRemoveDirRefusesPaths(t *testing.T) {
	base := t.TempDir()
	t.Setenv(EnvStateDir, base)
	for _, lab := range []string{"a", "b"} {
		if _, err := Open(DefaultDir(lab)); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../..", "a/../b", "/etc", "x..y", "-rf"} {
		if err := RemoveDir(bad); err == nil {
			t.Errorf("RemoveDir(%q) accepted", bad)
		}
	}
	if err := RemoveDir("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(DefaultDir("a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lab a's state still there: %v", err)
	}
	if _, err := os.Stat(DefaultDir("b")); err != nil {
		t.Errorf("lab b's state gone: %v", err)
	}
}

func TestSecretIsMadeOncePrivateAndOfItsSize(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Secret("corosync-authkey", 256)
	if err != nil || len(a) != 256 {
		t.Fatalf("Secret = %d bytes, %v", len(a), err)
	}
	b, err := s.Secret("corosync-authkey", 256)
	if err != nil || !bytes.Equal(a, b) {
		t.Fatalf("second Secret differs (%v)", err)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), "secrets", "corosync-authkey"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v, mode %v", err, fi.Mode())
	}
	if _, err := s.Secret("corosync-authkey", 128); err == nil {
		t.Error("a secret of another size was accepted")
	}
	if _, err := s.Secret("../escape", 16); err == nil {
		t.Error("a path as secret name was accepted")
	}
}
