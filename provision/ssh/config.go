package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/crypto/ssh"
)

// Defaults for Config fields left zero.
const (
	DefaultTimeout   = 10 * time.Second
	DefaultKeepAlive = 15 * time.Second
)

// Config says how to reach one VM.
type Config struct {
	Host    string        // VM name, used in errors
	Addr    string        // "ip:22"
	User    string        // login user
	Signer  ssh.Signer    // the lab's user key
	HostKey ssh.PublicKey // the VM's pinned host key (from provision/keys)
	// Timeout bounds TCP connect plus SSH handshake of one dial
	// (default DefaultTimeout).
	Timeout time.Duration
	// Sudo runs Run, Exec, WriteFile and ReadFile as root via `sudo -n`.
	Sudo bool
	// KeepAlive is how often an idle connection is probed; a connection
	// that misses a probe is closed so the next command reconnects
	// (default DefaultKeepAlive, negative disables).
	KeepAlive time.Duration
	// DialContext opens the TCP connection; nil means net.Dialer. labctl
	// points it at a dialer inside the lab's network namespace.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c *Config) check() error {
	switch {
	case c.Host == "":
		return errors.New("ssh: config without host name")
	case c.Addr == "":
		return fmt.Errorf("ssh to %s: no address", c.Host)
	case c.User == "":
		return fmt.Errorf("ssh to %s: no user", c.Host)
	case c.Signer == nil:
		return fmt.Errorf("ssh to %s: no user key", c.Host)
	case c.HostKey == nil:
		// Refusing here is what keeps host keys pinned: there is no
		// "accept any key" mode.
		return fmt.Errorf("ssh to %s: no pinned host key", c.Host)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("ssh to %s: address %q: %w", c.Host, c.Addr, err)
	}
	return nil
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Config) keepAlive() time.Duration {
	if c.KeepAlive == 0 {
		return DefaultKeepAlive
	}
	return c.KeepAlive
}

// hostKeyAlgorithms makes the server present the pinned key's type, so a
// server that also has other host keys can't pick one we don't know.
func hostKeyAlgorithms(k ssh.PublicKey) []string {
	if k.Type() == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	}
	return []string{k.Type()}
}
