package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// checkBridges makes sure every bridge-mode network's host bridge exists
// before up creates anything: libvirt would only fail when the first VM
// starts, leaving a half-made lab. labctl never creates host bridges.
func checkBridges(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab) error {
	var errs []error
	for _, n := range lab.Networks {
		if n.Mode != topology.NetBridge {
			continue
		}
		br := n.Bridge
		if br == "" {
			br = n.LibvirtName
		}
		st, err := hv.HostBridge(ctx, br)
		if err != nil {
			return err
		}
		where := ""
		if n.Range.Filename != "" {
			where = fmt.Sprintf("%s:%d: ", n.Range.Filename, n.Range.Start.Line)
		}
		switch st {
		case libvirt.BridgeMissing:
			errs = append(errs, fmt.Errorf("%snetwork %q: host bridge %q does not exist on %s; create it first (e.g. ip link add %s type bridge && ip link set %s up, or in /etc/network/interfaces), or use mode = \"nat\"", where, n.Name, br, hv.URI(), br, br))
		case libvirt.BridgeNotBridge:
			errs = append(errs, fmt.Errorf("%snetwork %q: host device %q on %s is not a Linux bridge (an Open vSwitch bridge is not supported either); name a Linux bridge", where, n.Name, br, hv.URI()))
		}
	}
	return errors.Join(errs...)
}
