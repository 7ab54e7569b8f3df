package engine

import (
	"context"
	"errors"
	"path"
	"sort"
	"sync"

	"github.com/labctl/labctl/provision/libvirt"
	"golang.org/x/sync/errgroup"
)

// DownOptions configure Down.
type DownOptions struct {
	Pool     string // the lab's storage pool (LabPoolName)
	PoolPath string // directory labctl gives that pool ("" = DefaultImagesDir/<pool>)
	Parallel int
	Progress Progress
	// Owner is who asks; Down refuses a lab another owner holds unless
	// Force (the CLI allows it only for root).
	Owner string
	Force bool
}

// DownResult lists what Down removed.
type DownResult struct {
	Domains  []string `json:"domains"`
	Volumes  []string `json:"volumes"`
	Networks []string `json:"networks"`
	Pool     string   `json:"pool,omitempty"` // set when the lab's own pool was removed
}

// Empty reports whether Down found nothing to remove.
func (r *DownResult) Empty() bool {
	return len(r.Domains)+len(r.Volumes)+len(r.Networks) == 0 && r.Pool == ""
}

// Down removes every object lab owns, found through libvirt: domains (with
// snapshots, managed save and NVRAM) whose metadata names the lab, the
// lab-pool volumes their disks use, networks whose metadata names the lab,
// and the pool labctl created for the lab once only its marker is left.
// It works after an interrupted up and with objects already deleted by
// hand, and touches nothing else: not bridges, other labs or owners, other
// volumes (even with the lab's name prefix) or the base pool.
func Down(ctx context.Context, hv libvirt.Hypervisor, lab string, opts DownOptions) (*DownResult, error) {
	if opts.Pool == "" {
		opts.Pool = lab
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Progress == nil {
		opts.Progress = nopProgress{}
	}
	live, err := Observe(ctx, hv, lab, opts.Pool)
	if err != nil {
		return nil, err
	}
	if err := live.checkOwner(opts.Owner, opts.Force); err != nil {
		return nil, err
	}
	res := &DownResult{}
	var mu sync.Mutex
	add := func(list *[]string, name string) {
		mu.Lock()
		*list = append(*list, name)
		mu.Unlock()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallel)
	for name, d := range live.Domains {
		g.Go(func() error {
			opts.Progress.VM(d.Meta.Object, PhaseDelete, nil)
			if err := deleteDomain(gctx, hv, live, name); err != nil {
				opts.Progress.VM(d.Meta.Object, PhaseFailed, err)
				return err
			}
			for _, v := range live.DomainVolumes[name] {
				add(&res.Volumes, v)
			}
			add(&res.Domains, name)
			opts.Progress.VM(d.Meta.Object, PhaseDone, nil)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(opts.Parallel)
	for name := range live.Networks {
		g.Go(func() error {
			opts.Progress.Info("deleting network " + name)
			if err := hv.DeleteNetwork(gctx, name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return err
			}
			add(&res.Networks, name)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	// The pool goes only when labctl created it for the lab (its marker,
	// or, from before markers, named after the lab in the directory labctl
	// gives it) and nothing but the marker is left in it.
	if live.Pool != nil && !live.Shared(opts.Pool, opts.PoolPath) {
		vols, err := hv.ListVolumes(ctx, opts.Pool)
		if err != nil {
			return res, err
		}
		if len(vols) == 1 && vols[0].Name == PoolMarker(lab) {
			if err := hv.DeleteVolume(ctx, opts.Pool, vols[0].Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return res, err
			}
			vols = nil
		}
		if len(vols) == 0 {
			if err := hv.DeletePool(ctx, opts.Pool); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return res, err
			}
			res.Pool = opts.Pool
		}
	}
	for _, l := range [][]string{res.Domains, res.Volumes, res.Networks} {
		sort.Strings(l)
	}
	return res, nil
}

// Shared reports whether the lab pool is not the lab's own: labctl did not
// mark it, and it is not the unmarked pool an older labctl made for the lab
// (named after it, in the directory labctl gives it).
func (l *Live) Shared(pool, poolPath string) bool {
	if l.PoolMarked {
		return false
	}
	if poolPath == "" {
		poolPath = path.Join(DefaultImagesDir, pool)
	}
	return pool != l.Lab || l.Pool == nil || path.Clean(l.Pool.Path) != path.Clean(poolPath)
}
