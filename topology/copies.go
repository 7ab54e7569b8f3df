package topology

import (
	"fmt"
	"net/netip"
)

// MaxCopies bounds a class: a copy costs one management /24 and a set of
// bridges on the host, and a class is sized for a room, not a data centre.
const MaxCopies = 200

// maxCopyName leaves room for the lab's own name in the 40 characters of
// a lab name.
const maxCopyName = 16

// CopyNames returns the copies of a class of n: "1" … "n".
func CopyNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprint(i + 1)
	}
	return out
}

// CheckCopyName says whether name can name a copy (a roster entry): the
// copy's name becomes part of every libvirt object name.
func CheckCopyName(name string) error {
	if !labNameRe.MatchString(name) || len(name) > maxCopyName {
		return fmt.Errorf("copy name %q: use 1–%d lower-case letters, digits and hyphens, not starting or ending with '-'", name, maxCopyName)
	}
	return nil
}

// HandoutName is the lab block's own name: the class's for a copy, else
// Name. What labctl derives inside the guests (MACs, VRRP router ids, the
// header of every file it writes) uses it, so every copy of a class is the
// same inside and a copy cloned from another needs no change but its
// management address and keys.
func (l *Lab) HandoutName() string {
	if l.Class != "" {
		return l.Class
	}
	return l.Name
}

// closeForCopy makes a copy's networks safe to repeat: the host has one
// address per network, so two copies' nat or routed networks would put the
// same gateway address on two host bridges (libvirt refuses the second).
// A copy's networks are therefore isolated, without a host address: the
// copy is closed, every in-lab address is the lab's own, and labctl reaches
// the VMs over the copy's own management network only. It runs after the
// addresses are assigned, so they are exactly those of the lab itself.
func (x *expander) closeForCopy() {
	if x.lab.Copy == "" {
		return
	}
	for _, n := range x.lab.Networks {
		if n.Management {
			continue
		}
		e := x.l.ev.networks[n.Name]
		switch {
		case n.Mode == NetBridge:
			x.l.errorf(e.s.rng("mode"), "Network shared by copies", "copy %s: network %q joins host bridge %q, so every copy would share it; copies need their own networks (mode nat, routed or isolated).", x.lab.Copy, n.Name, n.Bridge)
		case n.DHCP:
			x.l.errorf(e.s.rng("dhcp"), "DHCP in a copy", "copy %s: network %q gets DHCP from the host, which a closed copy has no address for; give its VMs static addresses (nic ip).", x.lab.Copy, n.Name)
		case n.Mode == NetNAT || n.Mode == NetRouted:
			n.Mode, n.HostIP = NetIsolated, netip.Addr{}
		}
	}
}
