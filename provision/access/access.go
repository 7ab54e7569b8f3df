// Package access writes a student's access bundle for one lab (or one copy
// of a classroom lab): the lab user's private key, a known_hosts file with
// labctl's pinned host keys and an OpenSSH config with one Host entry per
// VM, so `ssh -F DIR/ssh_config web-1` reaches that lab and no other.
package access

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Files of a bundle.
const (
	KeyFile        = "id_ed25519"
	KnownHostsFile = "known_hosts"
	ConfigFile     = "ssh_config"
	ReadmeFile     = "README.md"
)

// Bundle is what one student gets.
type Bundle struct {
	Lab         string // lab name: "<class>-<copy>" for a copy
	Class, Copy string // empty for a lab that is not a copy
	User        string // the lab's SSH user
	Jump        string // ProxyJump ([user@]host[:port]), "" = none
	UserKey     []byte // the lab user's private key (OpenSSH PEM)
	Hosts       []Host
}

// Host is one VM of the bundle.
type Host struct {
	Name    string // VM name: the Host entry
	Address string // management address
	Port    int    // 0 = 22
	Roles   []string
	HostKey ssh.PublicKey // the key labctl generated and pinned
}

// Alias is the HostKeyAlias (and known_hosts name) of vm in lab: unique
// across copies, whose VMs share names and addresses.
func Alias(lab, vm string) string { return lab + "-" + vm }

var (
	plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	jumpUser  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]*$`)
	jumpHost  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
)

// ParseJump checks a --jump value, [user@]host[:port] (an IPv6 address in
// brackets), and returns it as ProxyJump takes it.
func ParseJump(s string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("--jump %q: %s (want USER@HOST[:PORT])", s, why)
	}
	rest := s
	if user, host, ok := strings.Cut(s, "@"); ok {
		if !jumpUser.MatchString(user) {
			return bad("invalid user name")
		}
		rest = host
	}
	host, port := rest, ""
	if h, p, err := net.SplitHostPort(rest); err == nil {
		host, port = h, p
	} else if strings.ContainsAny(rest, "[]") || strings.Count(rest, ":") == 1 {
		return bad("invalid host:port")
	}
	if ip := net.ParseIP(host); ip == nil && !jumpHost.MatchString(host) {
		return bad("invalid host name")
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return bad("invalid port")
		}
	}
	return s, nil
}

// Write creates dir (mode 0700) and writes the bundle into it; dir must be
// empty or missing unless overwrite, which replaces the bundle's files. It
// returns dir's absolute path, the one ssh_config names.
func Write(dir string, b *Bundle, overwrite bool) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("bundle directory %q: %w", dir, err)
	}
	cfg, err := b.SSHConfig(abs)
	if err != nil {
		return "", err
	}
	known, err := b.KnownHosts()
	if err != nil {
		return "", err
	}
	if len(b.UserKey) == 0 {
		return "", fmt.Errorf("lab %s: no user key for the bundle", b.Lab)
	}
	if err := os.Mkdir(abs, 0o700); errors.Is(err, fs.ErrExist) {
		entries, err := os.ReadDir(abs)
		if err != nil {
			return "", fmt.Errorf("bundle directory %s: %w", abs, err)
		}
		if len(entries) > 0 && !overwrite {
			return "", fmt.Errorf("bundle directory %s is not empty (pass --overwrite to replace the bundle in it)", abs)
		}
	} else if err != nil {
		return "", fmt.Errorf("bundle directory %s: %w", abs, err)
	}
	// Mkdir obeys umask and an existing directory keeps its mode: the key
	// must not be listable by others either way.
	if err := os.Chmod(abs, 0o700); err != nil {
		return "", fmt.Errorf("bundle directory %s: %w", abs, err)
	}
	for _, f := range []struct {
		name string
		data []byte
		mode fs.FileMode
	}{
		{KeyFile, b.UserKey, 0o600},
		{KnownHostsFile, []byte(known), 0o644},
		{ConfigFile, []byte(cfg), 0o644},
		{ReadmeFile, []byte(b.README(abs)), 0o644},
	} {
		if err := replace(filepath.Join(abs, f.name), f.data, f.mode); err != nil {
			return "", err
		}
	}
	return abs, nil
}

// replace writes path through a temp file and a rename, so a file already
// there (say, a key once readable by others) never keeps its old mode.
func replace(path string, data []byte, mode fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
