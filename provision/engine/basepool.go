package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/labctl/labctl/provision/libvirt"
)

// BaseCopy is one image's bytes imported into the shared base pool: the
// volumes "<image>-<sha12>.<ext>" (the disk, plus kernel and initrd for
// direct kernel boot) and what uses them. A rebuilt image gets a new copy;
// labs keep using the copy their disks were cloned from.
type BaseCopy struct {
	Image   string           `json:"image"`
	Digest  string           `json:"digest"` // first 12 hex digits of the disk's sha256
	Volumes []libvirt.Volume `json:"volumes"`
	// Labs are the labs whose domains or volumes use the copy (by labctl's
	// ownership metadata, else by lab volume name); Others are users labctl
	// did not create: "domain NAME" or "volume POOL/NAME".
	Labs   []string `json:"labs,omitempty"`
	Others []string `json:"others,omitempty"`
}

// InUse reports whether anything uses the copy.
func (c *BaseCopy) InUse() bool { return len(c.Labs)+len(c.Others) > 0 }

// Users is Labs then Others.
func (c *BaseCopy) Users() []string { return append(slices.Clone(c.Labs), c.Others...) }

// Bytes is the disk space the copy's volumes take.
func (c *BaseCopy) Bytes() uint64 {
	var n uint64
	for _, v := range c.Volumes {
		n += v.Allocation
	}
	return n
}

// BaseUsage is the shared base pool as it is now: labctl's copies with
// their users, volumes labctl did not name (never touched), and pools whose
// volumes could not be read.
type BaseUsage struct {
	Pool    *libvirt.Pool // nil when no lab was ever brought up
	Copies  []*BaseCopy   // sorted by image, then digest
	Foreign []string      // base pool volumes not named by labctl
	// Unchecked are inactive pools: a volume in one may be backed by a
	// copy, so nothing is garbage while there are any.
	Unchecked []string
}

// baseVolumeRE matches the names imageSpec gives base volumes.
var baseVolumeRE = regexp.MustCompile(`^([a-z0-9][a-z0-9._-]*)-([0-9a-f]{12})\.(qcow2|raw|vmlinuz|initrd)$`)

// labVolumeRE matches "<lab>.<vm>.<disk>.<ext>" (see VolumePrefix): lab
// names have no dots.
var labVolumeRE = regexp.MustCompile(`^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.[a-z][a-z0-9_-]*\.[^.]+\.[a-z0-9]+$`)

// maxBacking bounds a backing chain walk (chains here are one or two deep).
const maxBacking = 32

// ObserveBase reads the base pool and finds what uses each copy: every
// volume of every active pool whose backing chain reaches it, and every
// domain whose disks, kernel or initrd do.
func ObserveBase(ctx context.Context, hv libvirt.Hypervisor) (*BaseUsage, error) {
	u := &BaseUsage{}
	pools, err := hv.ListPools(ctx)
	if err != nil {
		return nil, err
	}
	byPath := map[string]libvirt.Volume{}
	byPoolName := map[[2]string]string{}
	var all []libvirt.Volume
	copies := map[[2]string]*BaseCopy{}
	basePaths := map[string]*BaseCopy{}
	for _, p := range pools {
		if p.Name == BasePool {
			u.Pool = &p
		}
		if !p.Active {
			u.Unchecked = append(u.Unchecked, p.Name)
			continue
		}
		vols, err := hv.ListVolumes(ctx, p.Name)
		if errors.Is(err, libvirt.ErrNotFound) {
			continue // undefined since ListPools
		}
		if err != nil {
			return nil, err
		}
		for _, v := range vols {
			byPath[v.Path] = v
			byPoolName[[2]string{v.Pool, v.Name}] = v.Path
			if p.Name != BasePool {
				all = append(all, v)
				continue
			}
			m := baseVolumeRE.FindStringSubmatch(v.Name)
			if m == nil {
				u.Foreign = append(u.Foreign, v.Name)
				continue
			}
			key := [2]string{m[1], m[2]}
			c := copies[key]
			if c == nil {
				c = &BaseCopy{Image: m[1], Digest: m[2]}
				copies[key] = c
				u.Copies = append(u.Copies, c)
			}
			c.Volumes = append(c.Volumes, v)
			basePaths[v.Path] = c
		}
	}

	labs := map[*BaseCopy]map[string]bool{}
	others := map[*BaseCopy]map[string]bool{}
	mark := func(c *BaseCopy, lab, other string) {
		m, key := labs, lab
		if lab == "" {
			m, key = others, other
		}
		if m[c] == nil {
			m[c] = map[string]bool{}
		}
		m[c][key] = true
	}
	// reach follows the backing chain from path to a base copy.
	reach := func(path string) *BaseCopy {
		seen := map[string]bool{}
		for i := 0; path != "" && i < maxBacking && !seen[path]; i++ {
			if c := basePaths[path]; c != nil {
				return c
			}
			seen[path] = true
			path = byPath[path].Backing
		}
		return nil
	}

	doms, err := hv.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	domOwner := map[string][2]string{} // volume path → (lab, other) of a domain using it
	for _, d := range doms {
		lab, other := "", "domain "+d.Name
		if d.Meta != nil && d.Meta.Lab != "" {
			lab = d.Meta.Lab
		}
		for _, p := range domainPaths(d, byPoolName) {
			if _, ok := domOwner[p]; !ok || lab != "" {
				domOwner[p] = [2]string{lab, other}
			}
			if c := reach(p); c != nil {
				mark(c, lab, other)
			}
		}
	}
	for _, v := range all {
		c := reach(v.Path)
		if c == nil {
			continue
		}
		if o, ok := domOwner[v.Path]; ok {
			mark(c, o[0], o[1])
		} else if m := labVolumeRE.FindStringSubmatch(v.Name); m != nil {
			mark(c, m[1], "") // a lab volume no domain uses (an up cut short)
		} else {
			mark(c, "", "volume "+v.Pool+"/"+v.Name)
		}
	}

	for _, c := range u.Copies {
		c.Labs, c.Others = sortedSet(labs[c]), sortedSet(others[c])
		sort.Slice(c.Volumes, func(i, j int) bool { return c.Volumes[i].Name < c.Volumes[j].Name })
	}
	sort.Slice(u.Copies, func(i, j int) bool {
		a, b := u.Copies[i], u.Copies[j]
		if a.Image != b.Image {
			return a.Image < b.Image
		}
		return a.Digest < b.Digest
	})
	sort.Strings(u.Foreign)
	return u, nil
}

// domainPaths lists the files a domain reads: disk sources (a volume
// source resolved through the pool listing) and kernel and initrd.
func domainPaths(d libvirt.Domain, byPoolName map[[2]string]string) []string {
	if d.Def == nil {
		return nil
	}
	var out []string
	if o := d.Def.OS; o != nil {
		out = append(out, o.Kernel, o.Initrd)
	}
	if d.Def.Devices != nil {
		for _, disk := range d.Def.Devices.Disks {
			switch s := disk.Source; {
			case s == nil:
			case s.File != nil:
				out = append(out, s.File.File)
			case s.Volume != nil:
				out = append(out, byPoolName[[2]string{s.Volume.Pool, s.Volume.Volume}])
			}
		}
	}
	return slices.DeleteFunc(out, func(p string) bool { return p == "" })
}

func sortedSet(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// UsedBy lists the labs (then other users) of every copy of image.
func (u *BaseUsage) UsedBy(image string) []string {
	set := map[string]bool{}
	var others []string
	for _, c := range u.Copies {
		if c.Image != image {
			continue
		}
		for _, l := range c.Labs {
			set[l] = true
		}
		others = append(others, c.Others...)
	}
	out := sortedSet(set)
	slices.Sort(others)
	return append(out, slices.Compact(others)...)
}

// UncheckedError says garbage collection is off because some pools are
// inactive: their volumes may be backed by base copies.
type UncheckedError struct{ Pools []string }

func (e *UncheckedError) Error() string {
	return fmt.Sprintf("storage pool(s) %s are inactive, so labctl cannot tell whether their volumes are linked clones of base images: start them (virsh pool-start NAME) to collect unused base volumes",
		strings.Join(e.Pools, ", "))
}

// Garbage lists the copies nothing uses that are not the current disk of a
// stored image. current maps each stored image to its disk's sha256; with
// only given, just copies of those images are considered.
func (u *BaseUsage) Garbage(current map[string]string, only ...string) ([]*BaseCopy, error) {
	if len(u.Unchecked) > 0 {
		return nil, &UncheckedError{Pools: u.Unchecked}
	}
	var out []*BaseCopy
	for _, c := range u.Copies {
		if c.InUse() || (len(only) > 0 && !slices.Contains(only, c.Image)) {
			continue
		}
		if sha, ok := current[c.Image]; ok && strings.HasPrefix(sha, c.Digest) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// RemoveCopies deletes the volumes of copies from the base pool. A volume
// already gone (a concurrent prune) is not an error.
func RemoveCopies(ctx context.Context, hv libvirt.Hypervisor, copies []*BaseCopy) error {
	for _, c := range copies {
		for _, v := range c.Volumes {
			err := hv.DeleteVolume(ctx, BasePool, v.Name)
			if err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return fmt.Errorf("remove base volume %q: %w", v.Name, err)
			}
		}
	}
	return nil
}
