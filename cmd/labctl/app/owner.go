package app

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"strings"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// ownerFlags say who runs a lab: --owner NAME runs that owner's own copy of
// the lab file (names and subnets derived per owner); --force lets root
// change or remove a lab another owner holds.
type ownerFlags struct {
	owner string
	force bool
}

// geteuid is os.Geteuid, replaced in tests.
var geteuid = os.Geteuid

// realRoot reports whether labctl runs as root itself, not as root through
// sudo for another user: labctl runs under sudo on shared lab servers, so
// euid 0 alone would let every student act for every other one.
func realRoot() bool {
	uid := os.Getenv("SUDO_UID")
	return geteuid() == 0 && (uid == "" || uid == "0")
}

// caller is the Unix user who invoked labctl (SUDO_USER under sudo).
func caller() (string, error) {
	if s := os.Getenv("SUDO_USER"); s != "" && geteuid() == 0 {
		return s, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("who runs labctl: %w", err)
	}
	return u.Username, nil
}

// resolve returns who the lab's objects are recorded for: --owner, else
// the caller. Only root itself may name another owner than the caller:
// the owner is what keeps one student's lab from another's commands.
func (f ownerFlags) resolve() (string, error) {
	if f.owner == "" {
		return caller()
	}
	if err := topology.CheckLabName(f.owner); err != nil || len(f.owner) > 20 {
		return "", fmt.Errorf("--owner %q: want at most 20 characters of a-z, 0-9 and '-' (it becomes part of every libvirt name)", f.owner)
	}
	if !realRoot() {
		me, err := caller()
		if err != nil {
			return "", err
		}
		if me != f.owner {
			return "", fmt.Errorf("--owner %s: you are %s; only root itself (not through sudo) may act for another owner", f.owner, me)
		}
	}
	return f.owner, nil
}

// checkForce allows --force only for root itself.
func (f ownerFlags) checkForce() error {
	if f.force && !realRoot() {
		return fmt.Errorf("--force: only root itself (not through sudo) may change or remove a lab another owner holds")
	}
	return nil
}

// checkHolder refuses, naming the owner, a lab held by someone else
// (commands that change guests without going through provision.Up).
func (lc *lifecycle) checkHolder(ctx context.Context, f ownerFlags) error {
	live, err := provision.Observe(ctx, lc.hv, lc.lab.Name, provision.LabPoolName(lc.lab))
	if err != nil {
		return err
	}
	if h := live.Holder(lc.opts.Owner); h != "" && !f.force {
		return &provision.OwnerError{Lab: lc.lab.Name, Owner: h, You: lc.opts.Owner}
	}
	return nil
}

// subnetsInUse returns what a derived management subnet must avoid: the
// address ranges of libvirt networks lab does not own and, on a local host,
// the host's IPv4 routes not on a libvirt bridge; keep is the subnet of
// the lab's existing management network (reused for stability).
func subnetsInUse(ctx context.Context, hv libvirt.Hypervisor, lab string, local bool) (avoid []netip.Prefix, keep netip.Prefix, err error) {
	nets, err := hv.ListNetworks(ctx)
	if err != nil {
		return nil, keep, err
	}
	avoid, keep = provision.NetworkPrefixes(nets, lab)
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
