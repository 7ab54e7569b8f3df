package provision

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
)

// jumpHV is the fake libvirt reached "over SSH": it records the guest
// dials it is asked to carry.
type jumpHV struct {
	*fake.Hypervisor
	dialed []string
}

var errJumped = errors.New("carried by the jump")

func (j *jumpHV) DialGuest(_ context.Context, network, addr string) (net.Conn, error) {
	j.dialed = append(j.dialed, network+" "+addr)
	return nil, errJumped
}

func TestGuestDialerChosenByURI(t *testing.T) {
	for _, uri := range []string{"qemu:///system", "qemu:///system?socket=/run/x.sock", "qemu+tcp://server/system"} {
		d, err := guestDialer(uri, &jumpHV{Hypervisor: fake.New()})
		if err != nil || d != nil {
			t.Errorf("%s: dialer %v, %v; want direct (nil)", uri, d != nil, err)
		}
	}

	hv := &jumpHV{Hypervisor: fake.New()}
	d, err := guestDialer("qemu+ssh://root@server/system", hv)
	if err != nil || d == nil {
		t.Fatalf("qemu+ssh: dialer %v, %v; want the jump", d != nil, err)
	}
	if _, err := d(context.Background(), "tcp", "172.16.5.10:22"); !errors.Is(err, errJumped) || len(hv.dialed) != 1 {
		t.Errorf("qemu+ssh dialer: err %v, dialed %q", err, hv.dialed)
	}

	// A connection that cannot jump must not silently fall back to direct.
	if _, err := guestDialer("qemu+ssh://root@server/system", fake.New()); err == nil || !strings.Contains(err.Error(), "cannot reach the VMs") {
		t.Errorf("qemu+ssh without a jump: err = %v", err)
	}
}

// TestSSHConfigUsesTheJump: every guest SSH user (up, roles, verify,
// bench, ssh) gets its config from SSHConfig, which must carry the dialer
// and still pin the VM's host key.
func TestSSHConfigUsesTheJump(t *testing.T) {
	store, err := keys.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, hostPub, err := store.HostKey("web-1")
	if err != nil {
		t.Fatal(err)
	}
	hv := &jumpHV{Hypervisor: fake.New()}
	dial, err := guestDialer("qemu+ssh://root@server/system", hv)
	if err != nil {
		t.Fatal(err)
	}
	lc := &Session{Lab: &topology.Lab{Name: "rmt", SSHUser: "labctl"}, HV: hv, Keys: store, dial: dial}
	cfg, err := lc.SSHConfig(&engine.VMSpec{Name: "web-1", Address: "172.16.5.10"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HostKey == nil || string(cfg.HostKey.Marshal()) != string(hostPub.Marshal()) {
		t.Error("host key not pinned to the VM's")
	}
	if cfg.DialContext == nil {
		t.Fatal("no dialer in the guest SSH config")
	}
	if _, err := cfg.DialContext(context.Background(), "tcp", cfg.Addr); !errors.Is(err, errJumped) {
		t.Fatalf("dial: %v", err)
	}
	if len(hv.dialed) != 1 || hv.dialed[0] != "tcp 172.16.5.10:22" {
		t.Errorf("jump asked for %q, want tcp 172.16.5.10:22", hv.dialed)
	}

	lc.dial = nil // local URI
	if cfg, _ := lc.SSHConfig(&engine.VMSpec{Name: "web-1", Address: "172.16.5.10"}, true); cfg.DialContext != nil {
		t.Error("local URI: guest SSH should dial directly")
	}
}

var _ libvirt.GuestDialer = (*jumpHV)(nil)
