package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/labctl/labctl/provision/libvirt"
)

// Live is what libvirt has now for one lab: the objects the lab owns (by
// metadata for domains and networks; for volumes, by the disks of the
// lab's domains, which up defines before it creates their volumes) plus
// everything else, for clash checks.
type Live struct {
	Lab      string
	Networks map[string]libvirt.Network // owned, by libvirt name
	Domains  map[string]libvirt.Domain  // owned, by libvirt name
	Volumes  map[string]libvirt.Volume  // owned, in the lab pool, by name
	// DomainVolumes lists, per owned domain, the lab-pool volumes its disks
	// use: the record of what labctl created for it.
	DomainVolumes map[string][]string
	// PoolVolumes is every volume of the lab pool, owned or not.
	PoolVolumes map[string]libvirt.Volume
	// PoolMarked: the lab pool holds labctl's marker (labctl created it).
	PoolMarked bool
	Pool       *libvirt.Pool             // the lab pool, nil when absent
	needMark   bool                      // up marks the lab pool (checkLabPool)
	Base       map[string]libvirt.Volume // volumes of the shared base pool
	BasePool   *libvirt.Pool

	allNetworks []libvirt.Network
	allDomains  []libvirt.Domain
}

// Owned reports whether the lab owns any object at all.
func (l *Live) Owned() int { return len(l.Networks) + len(l.Domains) + len(l.Volumes) }

// Observe reads the lab's objects from libvirt. labPool is the lab's
// storage pool (LabPoolName).
func Observe(ctx context.Context, hv libvirt.Hypervisor, lab, labPool string) (*Live, error) {
	l := &Live{Lab: lab, Networks: map[string]libvirt.Network{}, Domains: map[string]libvirt.Domain{},
		Volumes: map[string]libvirt.Volume{}, Base: map[string]libvirt.Volume{},
		DomainVolumes: map[string][]string{}, PoolVolumes: map[string]libvirt.Volume{}}
	nets, err := hv.ListNetworks(ctx)
	if err != nil {
		return nil, err
	}
	l.allNetworks = nets
	for _, n := range nets {
		if n.Meta != nil && n.Meta.Lab == lab {
			l.Networks[n.Name] = n
		}
	}
	doms, err := hv.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	l.allDomains = doms
	for _, d := range doms {
		if d.Meta != nil && d.Meta.Lab == lab {
			l.Domains[d.Name] = d
		}
	}
	if l.Pool, err = lookupPool(ctx, hv, labPool); err != nil {
		return nil, err
	}
	if l.Pool != nil {
		vols, err := hv.ListVolumes(ctx, labPool)
		if err != nil {
			return nil, err
		}
		for _, v := range vols {
			l.PoolVolumes[v.Name] = v
		}
		l.PoolMarked = l.PoolVolumes[PoolMarker(lab)].Name != ""
		for name, d := range l.Domains {
			for _, vol := range domainVolumes(d, labPool) {
				if v, ok := l.PoolVolumes[vol]; ok {
					l.Volumes[vol] = v
					l.DomainVolumes[name] = append(l.DomainVolumes[name], vol)
				}
			}
		}
	}
	if l.BasePool, err = lookupPool(ctx, hv, BasePool); err != nil {
		return nil, err
	}
	if l.BasePool != nil {
		vols, err := hv.ListVolumes(ctx, BasePool)
		if err != nil {
			return nil, err
		}
		for _, v := range vols {
			l.Base[v.Name] = v
		}
	}
	return l, nil
}

func lookupPool(ctx context.Context, hv libvirt.Hypervisor, name string) (*libvirt.Pool, error) {
	p, err := hv.Pool(ctx, name)
	if errors.Is(err, libvirt.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ClashError reports a libvirt object the lab needs whose name (or bridge)
// is taken by something the lab does not own.
type ClashError struct {
	Kind  string // network | domain | bridge
	Name  string
	Owner string // "" for objects labctl did not create, else the owning lab
}

func (e *ClashError) Error() string {
	owner := "not created by labctl"
	if e.Owner != "" {
		owner = "owned by lab " + e.Owner
	}
	if e.Kind == "bridge" {
		return fmt.Sprintf("bridge %s is already used by libvirt network %q; give the lab's network another bridge", e.Name, e.Owner)
	}
	return fmt.Sprintf("%s %q already exists and is %s; rename the lab or remove that %s", e.Kind, e.Name, owner, e.Kind)
}

// Clashes lists desired objects whose names are taken by foreign objects.
func (l *Live) Clashes(s *State) []error {
	var errs []error
	byName := map[string]libvirt.Network{}
	byBridge := map[string]libvirt.Network{}
	for _, n := range l.allNetworks {
		byName[n.Name] = n
		if n.Bridge != "" {
			byBridge[n.Bridge] = n
		}
	}
	for _, ns := range s.Networks {
		if ns.External {
			continue
		}
		if n, ok := byName[ns.LibvirtName]; ok && (n.Meta == nil || n.Meta.Lab != s.Lab) {
			errs = append(errs, &ClashError{Kind: "network", Name: ns.LibvirtName, Owner: metaLab(n.Meta)})
			continue
		}
		if n, ok := byBridge[ns.Bridge]; ok && n.Name != ns.LibvirtName {
			errs = append(errs, &ClashError{Kind: "bridge", Name: ns.Bridge, Owner: n.Name})
		}
	}
	doms := map[string]libvirt.Domain{}
	for _, d := range l.allDomains {
		doms[d.Name] = d
	}
	for _, vm := range s.VMs {
		if d, ok := doms[vm.LibvirtName]; ok && (d.Meta == nil || d.Meta.Lab != s.Lab) {
			errs = append(errs, &ClashError{Kind: "domain", Name: vm.LibvirtName, Owner: metaLab(d.Meta)})
		}
	}
	errs = append(errs, l.ownershipClashes(s)...)
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errs
}

func metaLab(m *libvirt.Meta) string {
	if m == nil {
		return ""
	}
	return m.Lab
}
