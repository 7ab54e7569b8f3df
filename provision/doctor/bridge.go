package doctor

import (
	"context"
	"fmt"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// bridgeChecks reports, per bridge-mode network of the lab, whether its
// host bridge exists (up refuses to start without it).
func bridgeChecks(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab) []Check {
	var out []Check
	if lab == nil {
		return nil
	}
	for _, n := range lab.Networks {
		if n.Mode != topology.NetBridge {
			continue
		}
		name := "bridge " + n.Bridge
		st, err := hv.HostBridge(ctx, n.Bridge)
		fix := fmt.Sprintf("ip link add %s type bridge && ip link set %s up (as root), or use mode = \"nat\"", n.Bridge, n.Bridge)
		switch {
		case err != nil:
			out = append(out, Check{name, "fail", err.Error(), ""})
		case st == libvirt.BridgePresent:
			out = append(out, Check{name, "ok", fmt.Sprintf("network %q attaches to it", n.Name), ""})
		case st == libvirt.BridgeMissing:
			out = append(out, Check{name, "fail", fmt.Sprintf("network %q needs host bridge %q, which does not exist", n.Name, n.Bridge), fix})
		case st == libvirt.BridgeNotBridge:
			out = append(out, Check{name, "fail", fmt.Sprintf("network %q needs host bridge %q, but that device is not a Linux bridge", n.Name, n.Bridge), "name a Linux bridge in bridge ="})
		default:
			out = append(out, Check{name, "warn", fmt.Sprintf("cannot tell whether host bridge %q exists on %s (libvirt lists no interfaces)", n.Bridge, hv.URI()), "check on the host: ip link show " + n.Bridge})
		}
	}
	return out
}
