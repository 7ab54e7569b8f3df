package libvirt

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestIsSSHURI(t *testing.T) {
	for uri, want := range map[string]bool{
		"qemu+ssh://root@lab-server/system":   true,
		"qemu+ssh://lab-server:2222/system?x": true,
		"qemu:///system":                      false,
		"qemu+tcp://lab-server/system":        false,
		"":                                    false,
		"::bad":                               false,
	} {
		if got := IsSSHURI(uri); got != want {
			t.Errorf("IsSSHURI(%q) = %v, want %v", uri, got, want)
		}
	}
}

// sshConnFor logs in to srv as go-libvirt does for a qemu+ssh URI and
// returns a Conn holding that SSH connection (no libvirt protocol needed).
func sshConnFor(t *testing.T, srv *server, key testKey) (*Conn, net.Conn) {
	t.Helper()
	d := srv.dialer(t, key)
	d.Socket = startEcho(t)
	rd := &recordingDialer{ctx: context.Background(), d: d}
	lc, err := rd.Dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lc.Close() })
	return &Conn{uri: "qemu+ssh://tester@" + srv.addr + "/system", jump: rd.conn()}, lc
}

func TestDialGuestThroughLibvirtSSH(t *testing.T) {
	key := newKey(t)
	srv := startServer(t, key.Signer.PublicKey(), newKey(t).Signer)
	c, libvirtConn := sshConnFor(t, srv, key)
	ctx := context.Background()

	guest := startTCPEcho(t)
	g, err := c.DialGuest(ctx, "tcp", guest)
	if err != nil {
		t.Fatal(err)
	}
	echoed(t, g, "hello guest")
	echoed(t, libvirtConn, "libvirt still there") // both channels share the connection
	if n := srv.live.Load(); n != 1 {
		t.Errorf("%d SSH connections, want 1 (the guest goes through libvirt's)", n)
	}

	// A guest port nothing listens on: the error names the jump host.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	_, err = c.DialGuest(ctx, "tcp", closed)
	if err == nil || !strings.Contains(err.Error(), "through libvirt host tester@"+srv.addr) {
		t.Errorf("dial to a closed port: err = %v, want one naming the libvirt host", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.DialGuest(cancelled, "tcp", guest); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled dial: err = %v, want context.Canceled", err)
	}

	// Closing the libvirt connection ends the guest connections over it.
	libvirtConn.Close()
	_ = g.SetReadDeadline(time.Now().Add(5 * time.Second)) // unsupported on channels: harmless
	done := make(chan error, 1)
	go func() { _, err := g.Read(make([]byte, 1)); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("guest conn still readable after the libvirt connection closed")
		}
	case <-time.After(5 * time.Second):
		t.Error("guest conn still open 5 s after the libvirt connection closed")
	}
	srv.waitLive(t, 0)
}

func TestDialGuestWithoutSSH(t *testing.T) {
	c := &Conn{uri: "qemu:///system"}
	if _, err := c.DialGuest(context.Background(), "tcp", "10.0.0.1:22"); !errors.Is(err, ErrNoJump) {
		t.Errorf("err = %v, want ErrNoJump", err)
	}
}
