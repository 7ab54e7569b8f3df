package ssh

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// noDeadlineConn is a conn that refuses deadlines, like an x/crypto SSH
// channel: the conn labctl gets for a guest through the libvirt host.
type noDeadlineConn struct{ net.Conn }

func (noDeadlineConn) SetDeadline(time.Time) error      { return errors.New("deadline not supported") }
func (noDeadlineConn) SetReadDeadline(time.Time) error  { return errors.New("deadline not supported") }
func (noDeadlineConn) SetWriteDeadline(time.Time) error { return errors.New("deadline not supported") }

// TestDialThroughDialContext: cfg.DialContext carries the whole connection
// (the host key is still the pinned one), and a conn without deadlines works.
func TestDialThroughDialContext(t *testing.T) {
	f := newFixture(t)
	var dialed []string
	f.cfg.Addr = "10.99.0.5:22" // not routable here: only the dialer reaches it
	f.cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, network+" "+addr)
		nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", f.srv.Addr())
		return noDeadlineConn{nc}, err
	}
	c := dial(t, f.cfg)
	res, err := c.Run(context.Background(), "echo through")
	if err != nil || string(res.Stdout) != "through\n" {
		t.Fatalf("Run = %q, %v", res.Stdout, err)
	}
	if len(dialed) != 1 || dialed[0] != "tcp 10.99.0.5:22" {
		t.Errorf("dialed %q, want one tcp 10.99.0.5:22", dialed)
	}

	f.cfg.HostKey = newSigner(t).PublicKey()
	_, err = Dial(context.Background(), f.cfg)
	var hk *HostKeyError
	if !errors.As(err, &hk) {
		t.Fatalf("wrong pinned key through the dialer: err = %v, want *HostKeyError", err)
	}
}

// TestDialNoDeadlineConnTimesOut: a peer that never answers the handshake
// over a conn without deadlines is still given up after cfg.Timeout.
func TestDialNoDeadlineConnTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accept and stay silent
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	f := newFixture(t)
	f.cfg.Timeout = 300 * time.Millisecond
	f.cfg.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr().String())
		return noDeadlineConn{nc}, err
	}
	start := time.Now()
	_, err = Dial(context.Background(), f.cfg)
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "handshake timed out") {
		t.Fatalf("err = %v, want a handshake timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %s, want about %s", d, f.cfg.Timeout)
	}
}
