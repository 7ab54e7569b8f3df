package provision

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"strings"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
)

// subnetsInUse returns what a derived management subnet must avoid: the
// address ranges of libvirt networks lab does not own and, on a local host,
// the host's IPv4 routes not on a libvirt bridge; keep is the subnet of
// the lab's existing management network (reused for stability).
func subnetsInUse(ctx context.Context, hv libvirt.Hypervisor, lab string, local bool) (avoid []netip.Prefix, keep netip.Prefix, err error) {
	nets, err := hv.ListNetworks(ctx)
	if err != nil {
		return nil, keep, err
	}
	avoid, keep = engine.NetworkPrefixes(nets, lab)
	if !local {
		return avoid, keep, nil
	}
	bridges := map[string]bool{}
	for _, n := range nets {
		bridges[n.Bridge] = true
	}
	routes, err := hostRoutes("/proc/net/route")
	if err != nil {
		return avoid, keep, nil // no routes to check (not Linux): libvirt's networks still are
	}
	for dev, ps := range routes {
		if !bridges[dev] {
			avoid = append(avoid, ps...)
		}
	}
	return avoid, keep, nil
}

// hostRoutes reads the IPv4 routing table (/proc/net/route of the network
// namespace labctl runs in) by device, without the default route.
func hostRoutes(file string) (map[string][]netip.Prefix, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]netip.Prefix{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 8 {
			continue
		}
		dst, err1 := hex.DecodeString(fs[1])
		mask, err2 := hex.DecodeString(fs[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		// The kernel prints each network-order word as a host (little-endian) u32.
		d, m := binary.BigEndian.Uint32(dst), binary.BigEndian.Uint32(mask)
		bits := 0
		for ; bits < 32 && m&(1<<bits) != 0; bits++ {
		}
		if bits == 0 {
			continue
		}
		a := netip.AddrFrom4([4]byte{byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24)})
		if p, err := a.Prefix(bits); err == nil {
			out[fs[0]] = append(out[fs[0]], p)
		}
	}
	return out, sc.Err()
}

// listDir lists a directory on the local libvirt host (provision checks a
// new pool's directory holds no files).
func listDir(dir string) ([]string, error) {
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names, nil
}
