package app

import (
	"context"
	"fmt"
	"net"

	"github.com/labctl/labctl/provision/libvirt"
)

// guestDialFunc opens a connection to a VM, as net.Dialer.DialContext does.
type guestDialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// guestDialer picks how guest SSH (up's wait, roles, verify, bench, ssh)
// reaches the VMs for uri: directly from this machine (nil) for a local
// daemon, or, for qemu+ssh, through the SSH connection to the libvirt host,
// whose private networks the VMs' management addresses are on. Host keys
// stay pinned either way: the dialer only carries the bytes.
func guestDialer(uri string, hv libvirt.Hypervisor) (guestDialFunc, error) {
	if !libvirt.IsSSHURI(uri) {
		return nil, nil
	}
	g, ok := hv.(libvirt.GuestDialer)
	if !ok {
		return nil, fmt.Errorf("libvirt URI %s: this connection cannot reach the VMs through the libvirt host", uri)
	}
	return g.DialGuest, nil
}
