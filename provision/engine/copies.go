package engine

import (
	"context"
	"slices"

	"github.com/labctl/labctl/provision/libvirt"
)

// Copies lists, sorted, the copies of class that own a network or domain
// on hv. libvirt's metadata is the record (no local file), so any machine
// finds a class's copies on whichever host holds them.
func Copies(ctx context.Context, hv libvirt.Hypervisor, class string) ([]string, error) {
	seen := map[string]bool{}
	add := func(m *libvirt.Meta) {
		if m != nil && m.Class == class && m.Copy != "" && m.Lab == class+"-"+m.Copy {
			seen[m.Copy] = true
		}
	}
	nets, err := hv.ListNetworks(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		add(n.Meta)
	}
	doms, err := hv.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range doms {
		add(d.Meta)
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}
