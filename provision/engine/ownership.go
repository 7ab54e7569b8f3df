package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// PoolMarker names the volume labctl writes into a pool it creates for
// lab: the record that the pool (and the directory behind it) is that
// lab's. Lab volumes hold three dots ("<lab>.<vm>.<disk>.<format>"), so no
// lab produces this name.
func PoolMarker(lab string) string { return "labctl-pool." + lab + ".json" }

// OwnerError refuses a change to a lab another owner holds.
type OwnerError struct {
	Lab   string
	Owner string // who holds it (from the metadata)
	You   string // who asks
}

func (e *OwnerError) Error() string {
	you := e.You
	if you == "" {
		you = "nobody"
	}
	return fmt.Sprintf("lab %q is held by owner %q (you are %q): labctl changes or removes another owner's lab only as root with --force; "+
		"to run your own copy of the lab file, pass --owner NAME", e.Lab, e.Owner, you)
}

// Holder returns the owner recorded on the lab's domains and networks
// when it is not owner, "" when owner holds the lab. Objects without an
// owner (made before owners were recorded) are anyone's.
func (l *Live) Holder(owner string) string {
	var metas []*libvirt.Meta
	for _, n := range l.Networks {
		metas = append(metas, n.Meta)
	}
	for _, d := range l.Domains {
		metas = append(metas, d.Meta)
	}
	for _, m := range metas {
		if m.Owner != "" && m.Owner != owner {
			return m.Owner
		}
	}
	return ""
}

// checkOwner refuses another owner's lab unless force (the CLI allows
// force only for root).
func (l *Live) checkOwner(owner string, force bool) error {
	if h := l.Holder(owner); h != "" && !force {
		return &OwnerError{Lab: l.Lab, Owner: h, You: owner}
	}
	return nil
}

// setOwner records owner in the metadata of every network and domain of s.
func (s *State) setOwner(owner string) error {
	set := func(x *string) error {
		m := libvirt.ParseMeta(*x)
		if m == nil {
			return fmt.Errorf("labctl metadata missing from %q", *x)
		}
		m.Owner = owner
		out, err := libvirt.MarshalMeta(m)
		*x = out
		return err
	}
	for _, n := range s.Networks {
		if n.Def != nil && n.Def.Metadata != nil {
			if err := set(&n.Def.Metadata.XML); err != nil {
				return err
			}
		}
	}
	for _, vm := range s.VMs {
		if err := set(&vm.Def.Metadata.XML); err != nil {
			return err
		}
	}
	return nil
}

// domainVolumes names the volumes of pool that d's disks use.
func domainVolumes(d libvirt.Domain, pool string) []string {
	if d.Def == nil || d.Def.Devices == nil {
		return nil
	}
	var out []string
	for _, disk := range d.Def.Devices.Disks {
		if disk.Source != nil && disk.Source.Volume != nil && disk.Source.Volume.Pool == pool {
			out = append(out, disk.Source.Volume.Volume)
		}
	}
	return out
}

// PoolError refuses a storage pool the lab may not use.
type PoolError struct {
	Pool   string
	Reason string
}

func (e *PoolError) Error() string { return fmt.Sprintf("storage pool %q: %s", e.Pool, e.Reason) }

// checkLabPool applies the pool rules before anything is created: the base
// pool is reserved; an existing pool is the lab's only when labctl marked
// it (or an older labctl's domains use it), else the lab file must say
// shared_pool = true; a new pool goes only into an empty or new directory
// that no other pool uses.
func checkLabPool(ctx context.Context, hv libvirt.Hypervisor, st *State, live *Live, lab *topology.Lab, listDir func(string) ([]string, error)) error {
	ps, shared := st.labPool(), lab.SharedPool
	if ps.Name == BasePool {
		return &PoolError{Pool: ps.Name, Reason: "reserved for labctl's base images; no lab may keep its volumes there (set another pool, or rename the lab)"}
	}
	if live.Pool != nil {
		if shared || live.PoolMarked || len(live.Volumes) > 0 {
			return nil
		}
		if len(live.PoolVolumes) == 0 && !live.Shared(ps.Name, lab.PoolPath) {
			// Empty, named after the lab, in its directory: the pool of an
			// up cut short before it was marked. Nothing to lose: mark it.
			live.needMark = true
			return nil
		}
		return &PoolError{Pool: ps.Name, Reason: fmt.Sprintf("exists and was not created by labctl for lab %q; "+
			"to keep the lab's volumes in it anyway, set shared_pool = true in the lab block (labctl then deletes only the volumes its VMs use)", st.Lab)}
	}
	if shared {
		return &PoolError{Pool: ps.Name, Reason: "does not exist, but the lab sets shared_pool = true (a shared pool must exist; drop shared_pool to let labctl create the pool)"}
	}
	pools, err := hv.ListPools(ctx)
	if err != nil {
		return err
	}
	for _, p := range pools {
		if p.Path != "" && path.Clean(p.Path) == path.Clean(ps.Path) {
			return &PoolError{Pool: ps.Name, Reason: fmt.Sprintf("its directory %s is already the directory of pool %q; give the lab an empty pool_path", ps.Path, p.Name)}
		}
	}
	live.needMark = true
	if listDir == nil {
		return nil // checked after the pool is defined (markNewPool)
	}
	names, err := listDir(ps.Path)
	if err != nil {
		return nil // cannot tell from here (permissions): checked after define
	}
	if len(names) > 0 {
		return dirNotEmpty(ps, names)
	}
	return nil
}

func dirNotEmpty(ps *PoolSpec, names []string) error {
	sort.Strings(names)
	if len(names) > 3 {
		names = append(names[:3], "…")
	}
	return &PoolError{Pool: ps.Name, Reason: fmt.Sprintf("directory %s already holds files labctl did not create (%s); "+
		"libvirt counts every file of a directory pool as a volume, so labctl creates a lab pool only in an empty or new directory: set pool_path to one",
		ps.Path, strings.Join(names, ", "))}
}

// markNewPool runs right after up defined (or found unmarked and empty)
// the lab pool: a remote directory that already held files is refused (the
// pool definition stays, the files are untouched), else the pool gets
// labctl's marker.
func (u *upRun) markNewPool(ctx context.Context, ps *PoolSpec) error {
	vols, err := u.hv.ListVolumes(ctx, ps.Name)
	if err != nil {
		return err
	}
	var names []string
	for _, v := range vols {
		if v.Name != PoolMarker(u.st.Lab) {
			names = append(names, v.Name)
		}
	}
	if len(names) > 0 {
		err := dirNotEmpty(ps, names)
		return fmt.Errorf("%w (the pool was defined; remove it with `virsh pool-destroy %s; virsh pool-undefine %s`, which keeps the files)", err, ps.Name, ps.Name)
	}
	if len(vols) > 0 {
		return nil // marked by an earlier, interrupted up
	}
	b, err := json.Marshal(map[string]string{"lab": u.st.Lab, "owner": u.opts.Owner, "labctl": u.opts.Version})
	if err != nil {
		return err
	}
	def := &libvirtxml.StorageVolume{Name: PoolMarker(u.st.Lab),
		Capacity: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: uint64(len(b))},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}}
	_, err = u.hv.CreateVolume(ctx, ps.Name, def, strings.NewReader(string(b)), int64(len(b)))
	return err
}

// labPool is the spec of the lab's own pool (not the shared base pool).
func (s *State) labPool() *PoolSpec {
	for _, p := range s.Pools {
		if !p.Shared {
			return p
		}
	}
	return nil
}

// ownershipClashes lists lab volumes whose names a foreign volume of the
// pool holds, and lab networks whose addresses overlap foreign networks'.
func (l *Live) ownershipClashes(s *State) []error {
	var errs []error
	for _, vm := range s.VMs {
		for _, v := range vm.Volumes {
			if _, foreign := l.PoolVolumes[v.Name]; foreign && l.Volumes[v.Name].Name == "" {
				errs = append(errs, &ClashError{Kind: "volume", Name: v.Pool + "/" + v.Name})
			}
		}
	}
	for _, ns := range s.Networks {
		if ns.External || ns.Def == nil {
			continue
		}
		for _, mine := range netPrefixes(ns.Def) {
			for _, n := range l.allNetworks {
				if n.Meta != nil && n.Meta.Lab == s.Lab {
					continue
				}
				for _, other := range netPrefixes(n.Def) {
					if mine.Overlaps(other) {
						errs = append(errs, &SubnetClashError{Network: ns.Name, CIDR: mine.Masked().String(), Other: n.Name, OtherCIDR: other.Masked().String()})
					}
				}
			}
		}
	}
	return errs
}
