// Package cloudinit renders a VM's cloud-init NoCloud seed (meta-data,
// user-data, network-config) and writes it as an ISO labelled "cidata".
//
// The seed installs a labctl-generated SSH host key so labctl can pin it,
// creates one passwordless sudo user reachable only by key, and configures
// every NIC statically by MAC. It asks cloud-init for nothing else, to keep
// first boot short.
package cloudinit

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/crypto/ssh"
)

// Seed is everything one VM's seed contains.
type Seed struct {
	// InstanceID identifies this seed to cloud-init; a new ID makes it run
	// its per-instance modules again. Empty: derived from the seed content.
	InstanceID string
	Hostname   string // short host name, e.g. "web-1"
	FQDN       string // optional, e.g. "web-1.lab.test"
	User       string // login user created with passwordless sudo
	// AuthorizedKeys are authorized_keys lines for User (at least one).
	AuthorizedKeys []string
	// HostKeyPEM is the OpenSSH ed25519 private host key sshd will use;
	// HostKey is its public half (the key labctl pins).
	HostKeyPEM []byte
	HostKey    ssh.PublicKey
	NICs       []NIC
	Files      []File // optional files written into the guest (write_files)
}

// NIC is one guest interface, matched by MAC and renamed to Name.
type NIC struct {
	MAC         string       // "52:54:00:12:34:56"
	Name        string       // guest device name, e.g. "eth0"
	Address     netip.Prefix // static address with prefix length, e.g. 10.0.0.5/24; invalid = none
	DHCP        bool         // use DHCPv4 (only when Address is not set)
	Gateway     netip.Addr   // default route via this NIC; invalid = none
	MTU         int          // 0 = leave the default
	Nameservers []netip.Addr // optional
	Search      []string     // optional DNS search domains
}

// File is one file cloud-init writes into the guest before sshd starts.
type File struct {
	Path    string      // absolute path
	Content []byte      // written verbatim (carried base64-encoded)
	Mode    fs.FileMode // permission bits; 0 = 0644
	Owner   string      // "user:group"; "" = root:root
}

// modeOwner is the file's mode ("0644", the default) and owner
// ("root:root", the default) as both seed formats write them.
func (f File) modeOwner() (mode, owner string) {
	m, owner := f.Mode, f.Owner
	if m == 0 {
		m = 0o644
	}
	if owner == "" {
		owner = "root:root"
	}
	return fmt.Sprintf("%04o", uint32(m)), owner
}

// Files are the rendered seed files.
type Files struct {
	MetaData      []byte
	UserData      []byte
	NetworkConfig []byte
	Labctl        []SeedFile // the LabctlDir files, for labctl's own images
}

var (
	hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	fqdnRe     = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)
	userRe     = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	ifnameRe   = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,15}$`)
	ownerRe    = regexp.MustCompile(`^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$`)
)

// validate reports the first problem with s, naming the field.
func (s *Seed) validate() error {
	if !hostnameRe.MatchString(s.Hostname) {
		return fmt.Errorf("hostname %q is not a valid host name", s.Hostname)
	}
	if s.FQDN != "" && !fqdnRe.MatchString(s.FQDN) {
		return fmt.Errorf("fqdn %q is not a valid domain name", s.FQDN)
	}
	if !userRe.MatchString(s.User) || s.User == "root" {
		return fmt.Errorf("user %q is not a valid non-root user name", s.User)
	}
	if len(s.AuthorizedKeys) == 0 {
		return errors.New("no authorized key for the user")
	}
	for _, k := range s.AuthorizedKeys {
		if _, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k)); err != nil || strings.ContainsAny(k, "\r\n") {
			return fmt.Errorf("authorized key %q is not one authorized_keys line", k)
		}
	}
	if s.HostKey == nil || s.HostKey.Type() != ssh.KeyAlgoED25519 {
		return errors.New("host key: need an ed25519 public key")
	}
	signer, err := ssh.ParsePrivateKey(s.HostKeyPEM)
	if err != nil {
		return fmt.Errorf("host key: private key: %w", err)
	}
	if string(signer.PublicKey().Marshal()) != string(s.HostKey.Marshal()) {
		return errors.New("host key: private and public key do not match")
	}
	names := map[string]bool{}
	macs := map[string]bool{}
	gw4, gw6 := 0, 0
	for i, n := range s.NICs {
		if err := n.validate(); err != nil {
			return fmt.Errorf("nic %d (%s): %w", i, n.Name, err)
		}
		mac := strings.ToLower(n.MAC)
		if names[n.Name] || macs[mac] {
			return fmt.Errorf("nic %d (%s): duplicate name or MAC", i, n.Name)
		}
		names[n.Name], macs[mac] = true, true
		if n.Gateway.Is4() {
			gw4++
		} else if n.Gateway.IsValid() {
			gw6++
		}
	}
	if gw4 > 1 || gw6 > 1 {
		return errors.New("more than one NIC has a default gateway")
	}
	for _, f := range s.Files {
		// No control characters: labctl's first-boot script reads the
		// path as one line.
		if !path.IsAbs(f.Path) || path.Clean(f.Path) != f.Path || strings.ContainsFunc(f.Path, unicode.IsControl) {
			return fmt.Errorf("file %q: need a clean absolute path without control characters", f.Path)
		}
		if f.Mode&^fs.ModePerm != 0 {
			return fmt.Errorf("file %q: mode %v has more than permission bits", f.Path, f.Mode)
		}
		if f.Owner != "" && !ownerRe.MatchString(f.Owner) {
			return fmt.Errorf("file %q: owner %q is not user[:group]", f.Path, f.Owner)
		}
	}
	return nil
}

func (n *NIC) validate() error {
	if hw, err := net.ParseMAC(n.MAC); err != nil || len(hw) != 6 {
		return fmt.Errorf("MAC %q is not an Ethernet address", n.MAC)
	}
	if !ifnameRe.MatchString(n.Name) {
		return fmt.Errorf("device name %q is not a valid interface name", n.Name)
	}
	if n.Address.IsValid() && n.DHCP {
		return errors.New("both a static address and DHCP")
	}
	if n.Gateway.IsValid() {
		if !n.Address.IsValid() {
			return fmt.Errorf("gateway %s without a static address", n.Gateway)
		}
		if n.Gateway.Is4() != n.Address.Addr().Is4() {
			return fmt.Errorf("gateway %s and address %s are of different families", n.Gateway, n.Address)
		}
	}
	if n.MTU != 0 && (n.MTU < 68 || n.MTU > 65535) {
		return fmt.Errorf("MTU %d out of range 68..65535", n.MTU)
	}
	for _, d := range n.Search {
		if !fqdnRe.MatchString(d) {
			return fmt.Errorf("search domain %q is not a valid domain name", d)
		}
	}
	return nil
}
