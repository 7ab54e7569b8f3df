package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/labctl/labctl/provision/libvirt"
	"golang.org/x/sync/errgroup"
)

// The steps of an up run on single objects: removing what is replaced,
// importing base images, creating a VM.

// removeStale deletes what must go before anything is created: domains
// being replaced or dropped, with the volumes their disks use (volumes
// first: an interrupted removal leaves the domain, the record, behind),
// and networks being replaced.
func (u *upRun) removeStale(ctx context.Context) error {
	p := u.opts.Progress
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.opts.Parallel)
	wantVM := map[string]bool{}
	for _, vm := range u.st.VMs {
		wantVM[vm.Name] = true
	}
	for _, c := range u.ch.Items {
		if c.Kind != "domain" || (c.Action != ActRecreate && c.Action != ActDelete) {
			continue
		}
		g.Go(func() error {
			if wantVM[c.Object] {
				p.VM(c.Object, PhaseDelete, nil)
			}
			return deleteDomain(gctx, u.hv, u.live, c.Name)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, c := range u.ch.Items {
		if c.Kind == "network" && (c.Action == ActRecreate || c.Action == ActDelete) {
			p.Info("deleting network " + c.Name)
			if err := u.hv.DeleteNetwork(ctx, c.Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
				return err
			}
		}
	}
	return nil
}

// deleteDomain deletes an owned domain's volumes, then the domain.
func deleteDomain(ctx context.Context, hv libvirt.Hypervisor, live *Live, name string) error {
	for _, vol := range live.DomainVolumes[name] {
		v := live.Volumes[vol]
		if err := hv.DeleteVolume(ctx, v.Pool, v.Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
			return err
		}
	}
	if err := hv.DeleteDomain(ctx, name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
		return err
	}
	return nil
}

// importVolume uploads one base image file into the shared pool, replacing
// an incomplete earlier upload.
func (u *upRun) importVolume(ctx context.Context, v *VolumeSpec) error {
	u.opts.Progress.Info(fmt.Sprintf("importing %s (%s) into pool %s", v.Name, libvirt.FormatBytes(uint64(v.Size)), v.Pool))
	if _, ok := u.live.Base[v.Name]; ok {
		if err := u.hv.DeleteVolume(ctx, v.Pool, v.Name); err != nil && !errors.Is(err, libvirt.ErrNotFound) {
			return err
		}
	}
	f, err := os.Open(v.Source)
	if err != nil {
		return fmt.Errorf("import %s: %w", v.Name, err)
	}
	defer f.Close()
	_, err = u.hv.CreateVolume(ctx, v.Pool, v.Def, f, v.Size)
	if errors.Is(err, libvirt.ErrExists) {
		return nil // a concurrent labctl imported the same content
	}
	return err
}

// bringUp creates a VM's volumes, defines its domain and, with start,
// starts it (a clone: restores it from its source, see Clone).
func (u *upRun) bringUp(ctx context.Context, vm *VMSpec, act Action, start bool) error {
	p := u.opts.Progress
	if act == ActCreate || act == ActRecreate {
		// The domain, defined first, is the record of the volumes labctl
		// creates for it: only those are ever deleted (libvirt defines a
		// domain whose volumes do not exist yet; they must by start).
		p.VM(vm.Name, PhaseDefine, nil)
		if err := u.hv.DefineDomain(ctx, vm.Def); err != nil {
			return err
		}
		p.VM(vm.Name, PhaseVolumes, nil)
		for _, v := range vm.Volumes {
			if u.opts.Clone != nil && v.Purpose != "seed" {
				if err := u.opts.Clone.Volume(ctx, vm, v); err != nil {
					return err
				}
				continue
			}
			var src io.Reader
			size := int64(0)
			if v.Purpose == "seed" {
				if vm.Seed == nil {
					return fmt.Errorf("no cloud-init seed for %s", vm.Name)
				}
				src, size = bytes.NewReader(vm.Seed), int64(len(vm.Seed))
			}
			if _, err := u.hv.CreateVolume(ctx, v.Pool, v.Def, src, size); err != nil {
				return err
			}
		}
	}
	if !start {
		return nil
	}
	if u.opts.Clone != nil {
		p.VM(vm.Name, PhaseRestore, nil)
		if err := u.opts.Clone.Restore(ctx, vm); err != nil {
			return err
		}
		r := u.result(vm.Name)
		u.mu.Lock()
		r.Cloned = true
		u.mu.Unlock()
		p.VM(vm.Name, PhaseReady, nil)
		return nil
	}
	p.VM(vm.Name, PhaseStart, nil)
	return u.hv.StartDomain(ctx, vm.LibvirtName)
}
