package libvirt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
)

// GuestDialer is a Hypervisor that reaches the guests from the libvirt
// host's side: with a qemu+ssh URI the guests' private networks exist only
// there, so labctl's SSH to them is carried by the SSH connection libvirt
// already runs on (a jump, as ssh -J does, without a second login).
type GuestDialer interface {
	// DialGuest opens network ("tcp") to addr from the libvirt host.
	DialGuest(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ GuestDialer = (*Conn)(nil)

// ErrNoJump is returned by DialGuest on a connection that is not over SSH.
var ErrNoJump = errors.New("libvirt is not reached over SSH: no jump to the guests")

// IsSSHURI reports whether uri reaches libvirt over SSH (qemu+ssh://...).
func IsSSHURI(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && strings.HasSuffix(u.Scheme, "+ssh")
}

// DialGuest implements GuestDialer over the qemu+ssh connection; for other
// URIs it returns ErrNoJump.
func (c *Conn) DialGuest(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.jump == nil {
		return nil, fmt.Errorf("dial %s: %w", addr, ErrNoJump)
	}
	return c.jump.dialFromHost(ctx, network, addr)
}

// dialFromHost opens a direct-tcpip channel: the SSH server connects to
// addr and relays. The returned conn has no deadlines (x/crypto's channels
// refuse them); close it to stop a read.
func (c *sshConn) dialFromHost(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := c.client.DialContext(ctx, network, addr)
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("through libvirt host %s: %w", c.via, err)
	}
	return nc, nil
}

// recordingDialer is the socket.Dialer handed to go-libvirt for a qemu+ssh
// URI: it keeps the SSH connection it made, for DialGuest.
type recordingDialer struct {
	ctx context.Context
	d   *SSHDialer
	mu  sync.Mutex
	c   *sshConn
}

func (r *recordingDialer) Dial() (net.Conn, error) {
	nc, err := r.d.DialContext(r.ctx)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.c = nc.(*sshConn)
	r.mu.Unlock()
	return nc, nil
}

func (r *recordingDialer) conn() *sshConn {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c
}
