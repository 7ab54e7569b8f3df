package ssh

import (
	"fmt"
	"net"

	"golang.org/x/crypto/ssh"
)

// HostKeyError is a server that did not present the pinned host key. It is
// never retried: either another machine answers at the address or the VM
// was not booted from labctl's seed.
type HostKeyError struct {
	Host     string // VM name
	Addr     string
	Expected string // SHA256 fingerprint of the pinned key
	Offered  string // SHA256 fingerprint of the key the server sent
}

func (e *HostKeyError) Error() string {
	return fmt.Sprintf("ssh to %s (%s): HOST KEY MISMATCH: expected %s, server offered %s; "+
		"another machine may answer at this address, or the VM was not booted from labctl's seed (not retrying)",
		e.Host, e.Addr, e.Expected, e.Offered)
}

// pinned checks the server's key with ssh.FixedHostKey and turns a
// mismatch into a *HostKeyError.
func pinned(host, addr string, want ssh.PublicKey) ssh.HostKeyCallback {
	fixed := ssh.FixedHostKey(want)
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		if err := fixed(hostname, remote, key); err != nil {
			return &HostKeyError{
				Host:     host,
				Addr:     addr,
				Expected: ssh.FingerprintSHA256(want),
				Offered:  ssh.FingerprintSHA256(key),
			}
		}
		return nil
	}
}
