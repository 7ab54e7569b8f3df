// Package keys keeps a lab's SSH keys in its state directory: one user key
// that labctl logs in with, and one host key per VM that labctl generates,
// hands to the guest through cloud-init and then pins (no trust on first use).
package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

const (
	userKeyFile = "id_ed25519"
	hostKeyDir  = "hostkeys"
)

// validName keeps VM names usable as file names without escaping the store.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Store is one lab's key directory. It is safe for concurrent use, also by
// several labctl processes: a key file is created once and never replaced.
type Store struct {
	dir string
	mu  sync.Mutex // serialises creation within this process
}

// Open creates dir (mode 0700) if needed and returns its store.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("open key store: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open key store %q: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(abs, hostKeyDir), 0o700); err != nil {
		return nil, fmt.Errorf("open key store %q: %w", abs, err)
	}
	// MkdirAll leaves existing directories alone and obeys umask; keys must
	// not be listable by others either way.
	for _, d := range []string{abs, filepath.Join(abs, hostKeyDir)} {
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("open key store %q: %w", abs, err)
		}
	}
	return &Store{dir: abs}, nil
}

// Dir is the store's absolute directory.
func (s *Store) Dir() string { return s.dir }

// UserKeyPath is the private key file of the lab user, usable with
// `ssh -i` (OpenSSH format, mode 0600).
func (s *Store) UserKeyPath() string { return filepath.Join(s.dir, userKeyFile) }

// HostKeyPath is the private host key file of vm.
func (s *Store) HostKeyPath(vm string) string {
	return filepath.Join(s.dir, hostKeyDir, vm+"_ed25519")
}

// UserKey returns the lab user's signer and its authorized_keys line,
// creating the key on first use.
func (s *Store) UserKey() (ssh.Signer, string, error) {
	pemBytes, err := s.ensure(s.UserKeyPath(), "labctl@"+filepath.Base(s.dir))
	if err != nil {
		return nil, "", fmt.Errorf("user key: %w", err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, "", fmt.Errorf("user key %s: %w", s.UserKeyPath(), err)
	}
	return signer, AuthorizedKey(signer.PublicKey()), nil
}

// HostKey returns vm's host key as OpenSSH private key PEM and its public
// key, creating it on first use; later calls return the same key.
func (s *Store) HostKey(vm string) ([]byte, ssh.PublicKey, error) {
	if !validName.MatchString(vm) {
		return nil, nil, fmt.Errorf("host key: invalid VM name %q", vm)
	}
	pemBytes, err := s.ensure(s.HostKeyPath(vm), "root@"+vm)
	if err != nil {
		return nil, nil, fmt.Errorf("host key of %q: %w", vm, err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("host key of %q: %s: %w", vm, s.HostKeyPath(vm), err)
	}
	return pemBytes, signer.PublicKey(), nil
}

// HostPublicKey returns vm's pinned host key without creating one; a VM
// labctl never created a key for gives an error wrapping fs.ErrNotExist.
func (s *Store) HostPublicKey(vm string) (ssh.PublicKey, error) {
	if !validName.MatchString(vm) {
		return nil, fmt.Errorf("host key: invalid VM name %q", vm)
	}
	pemBytes, err := readPrivate(s.HostKeyPath(vm))
	if err != nil {
		return nil, fmt.Errorf("host key of %q: %w", vm, err)
	}
	signer, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("host key of %q: %s: %w", vm, s.HostKeyPath(vm), err)
	}
	return signer.PublicKey(), nil
}

// RemoveAll deletes the store's directory and every key in it (labctl down).
func (s *Store) RemoveAll() error {
	if s.dir == "" || s.dir == string(filepath.Separator) {
		return fmt.Errorf("remove key store: refusing to remove %q", s.dir)
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("remove key store %q: %w", s.dir, err)
	}
	return nil
}

// AuthorizedKey formats pub as one authorized_keys line without newline.
func AuthorizedKey(pub ssh.PublicKey) string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
}

// ensure returns the private key PEM at path, generating it if missing.
func (s *Store) ensure(path, comment string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := readPrivate(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return b, err
	}
	pemBytes, pub, err := generate(comment)
	if err != nil {
		return nil, err
	}
	created, err := createOnce(path, pemBytes)
	if err != nil {
		return nil, err
	}
	if !created { // another process won the race: use its key
		return readPrivate(path)
	}
	pubLine := AuthorizedKey(pub) + " " + comment + "\n"
	if err := os.WriteFile(path+".pub", []byte(pubLine), 0o644); err != nil {
		return nil, fmt.Errorf("write %s.pub: %w", path, err)
	}
	return pemBytes, nil
}

func generate(comment string) ([]byte, ssh.PublicKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, nil, fmt.Errorf("encode ed25519 key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode ed25519 key: %w", err)
	}
	return pem.EncodeToMemory(block), signer.PublicKey(), nil
}

// createOnce writes data to a temp file and hard-links it into place, so
// the key appears complete or not at all and is never overwritten.
func createOnce(path string, data []byte) (bool, error) {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	// CreateTemp already uses 0600; Chmod makes it independent of that detail.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("create %s: %w", path, err)
	}
	return true, nil
}

// readPrivate reads a private key and refuses one others can read, as
// OpenSSH does.
func readPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("private key %s has mode %04o, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// secretDir holds the lab's other secrets (e.g. the corosync authkey).
const secretDir = "secrets"

// Secret returns the lab's random secret called name, size bytes long,
// generating it on first use. Like the keys it is created once (mode
// 0600) and never replaced, so every node that gets it gets the same.
func (s *Store) Secret(name string, size int) ([]byte, error) {
	if !validName.MatchString(name) || size <= 0 {
		return nil, fmt.Errorf("secret %q of %d bytes: invalid name or size", name, size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	dir := filepath.Join(s.dir, secretDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	b, err := readPrivate(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return checkSize(path, b, size, err)
	}
	b = make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generate secret %s: %w", name, err)
	}
	created, err := createOnce(path, b)
	if err != nil {
		return nil, err
	}
	if !created { // another process won the race: use its secret
		b, err = readPrivate(path)
	}
	return checkSize(path, b, size, err)
}

func checkSize(path string, b []byte, size int, err error) ([]byte, error) {
	if err == nil && len(b) != size {
		err = fmt.Errorf("secret %s has %d bytes, want %d", path, len(b), size)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}
