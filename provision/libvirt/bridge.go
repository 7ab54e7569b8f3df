package libvirt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"
)

// BridgeState says whether the host has the bridge a bridge-mode network
// attaches its VMs to.
type BridgeState int

const (
	// BridgeUnknown: labctl cannot tell (a remote URI whose libvirt has no
	// interface driver); the check is skipped.
	BridgeUnknown BridgeState = iota
	BridgePresent
	BridgeMissing
	// BridgeNotBridge: the device exists but is no Linux bridge (e.g. a
	// NIC, or an Open vSwitch bridge, which needs a virtualport labctl
	// does not write).
	BridgeNotBridge
)

// sysClassNet is where Linux lists network devices; a variable for tests.
var sysClassNet = "/sys/class/net"

// HostBridge implements Hypervisor. On a local URI (qemu:///…) it reads
// /sys/class/net/NAME/bridge: libvirt's interface API needs the netcf or
// udev interface backend, which a Debian libvirt may not ship. On a remote
// URI it asks libvirt's interface list and returns BridgeUnknown when
// libvirt cannot list interfaces.
func (c *Conn) HostBridge(ctx context.Context, name string) (BridgeState, error) {
	if err := ctx.Err(); err != nil {
		return BridgeUnknown, err
	}
	if isLocalURI(c.uri) {
		return localBridge(name)
	}
	ifaces, _, err := c.l.ConnectListAllInterfaces(1, golibvirt.ConnectListInterfacesActive|golibvirt.ConnectListInterfacesInactive)
	if err != nil {
		return BridgeUnknown, nil
	}
	for _, i := range ifaces {
		if i.Name == name {
			return BridgePresent, nil
		}
	}
	return BridgeMissing, nil
}

// isLocalURI tells whether uri reaches a libvirtd on this machine.
func isLocalURI(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Host == "" && (u.Scheme == "qemu" || strings.HasSuffix(u.Scheme, "+unix"))
}

func localBridge(name string) (BridgeState, error) {
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return BridgeMissing, nil
	}
	dev := filepath.Join(sysClassNet, name)
	if _, err := os.Stat(dev); errors.Is(err, fs.ErrNotExist) {
		return BridgeMissing, nil
	} else if err != nil {
		return BridgeUnknown, fmt.Errorf("host bridge %q: %w", name, err)
	}
	if _, err := os.Stat(filepath.Join(dev, "bridge")); err != nil {
		return BridgeNotBridge, nil
	}
	return BridgePresent, nil
}
