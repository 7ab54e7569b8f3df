package provision

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
// snapshots, managed save and NVRAM) whose metadata names the lab, volumes
// of the lab pool with the lab's prefix, networks whose metadata names the
// lab, and the lab's dedicated pool once empty. It works after an
// interrupted up and with objects already deleted by hand, and touches
// nothing else: not bridges, other labs, other volumes or the base pool.
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
			if err := hv.DeleteDomain(gctx, name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				opts.Progress.VM(d.Meta.Object, PhaseFailed, err)
				return err
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
	for name, v := range live.Volumes {
		g.Go(func() error {
			if err := hv.DeleteVolume(gctx, v.Pool, name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return err
			}
			add(&res.Volumes, name)
			return nil
		})
	}
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
	// The pool goes only when it is the lab's dedicated one (named after
	// the lab, in the directory labctl gives it) and nothing else is in it.
	if live.Pool != nil && opts.Pool == lab {
		want := opts.PoolPath
		if want == "" {
			want = path.Join(DefaultImagesDir, opts.Pool)
		}
		vols, err := hv.ListVolumes(ctx, opts.Pool)
		if err != nil {
			return res, err
		}
		if len(vols) == 0 && path.Clean(live.Pool.Path) == path.Clean(want) {
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
