package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// dialFunc connects to libvirt; tests swap in a fake.
type dialFunc func(ctx context.Context, uri string) (libvirt.Hypervisor, error)

func dialLibvirt(ctx context.Context, uri string) (libvirt.Hypervisor, error) {
	return libvirt.Dial(ctx, uri)
}

// dialTimeout bounds the wait for libvirt in image commands, which work
// without it.
const dialTimeout = 10 * time.Second

// basePool is the libvirt side of the image commands: which labs use each
// image (through their copies in the shared base pool) and the copies no
// one needs any more.
type basePool struct {
	uri   string
	hv    libvirt.Hypervisor
	usage *engine.BaseUsage
}

// openBasePool connects to libvirt ($LABCTL_URI / --connect, default
// qemu:///system) and reads the base pool's usage.
func (f *imageFlags) openBasePool(ctx context.Context) (*basePool, error) {
	uri := provision.LabURI(f.uri, &topology.Lab{})
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	hv, err := f.dial(dctx, uri)
	if err != nil {
		return nil, err
	}
	u, err := engine.ObserveBase(ctx, hv)
	if err != nil {
		hv.Close()
		return nil, fmt.Errorf("read libvirt at %s: %w", uri, err)
	}
	return &basePool{uri: uri, hv: hv, usage: u}, nil
}

func (b *basePool) Close() {
	if b != nil && b.hv != nil {
		b.hv.Close()
	}
}

// usedBy is the image.UsedByFunc of the observed pool.
func (b *basePool) usedBy(name string) []string { return b.usage.UsedBy(name) }

// currentDisks maps every stored image to its disk's sha256: the copies
// `labctl up` would use next, never garbage.
func currentDisks(s image.Store) (map[string]string, error) {
	imgs, err := s.List()
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(imgs))
	for _, img := range imgs {
		out[img.Manifest.Name] = img.Manifest.SHA256
	}
	return out, nil
}

// collect removes (or with dryRun only lists) the base copies nothing uses
// that are not the current disk of a stored image; only limits it to
// those images' copies. It reports each volume on a's stdout.
func (b *basePool) collect(ctx context.Context, a *App, s image.Store, dryRun bool, only ...string) ([]*engine.BaseCopy, error) {
	current, err := currentDisks(s)
	if err != nil {
		return nil, err
	}
	garbage, err := b.usage.Garbage(current, only...)
	if err != nil {
		return nil, err
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, c := range garbage {
		if !dryRun {
			if err := engine.RemoveCopies(ctx, b.hv, []*engine.BaseCopy{c}); err != nil {
				return nil, err
			}
		}
		for _, v := range c.Volumes {
			fmt.Fprintf(a.IO.Out, "%s base volume %s/%s (%s)\n", verb, engine.BasePool, v.Name, libvirt.FormatBytes(v.Allocation))
		}
	}
	return garbage, nil
}

// collectAfter is the garbage collection after rm, build and import of
// name: best effort, a note instead of an error when libvirt is away.
func (f *imageFlags) collectAfter(ctx context.Context, a *App, b *basePool, name string) {
	if b == nil {
		var err error
		if b, err = f.openBasePool(ctx); err != nil {
			fmt.Fprintf(a.IO.Err, "note: base volumes of image %q were not collected (%v); run `labctl image prune` later\n", name, err)
			return
		}
		defer b.Close()
	}
	if _, err := b.collect(ctx, a, f.store(), false, name); err != nil {
		var ue *engine.UncheckedError
		if errors.As(err, &ue) {
			fmt.Fprintf(a.IO.Err, "note: base volumes of image %q were not collected: %v\n", name, err)
			return
		}
		fmt.Fprintf(a.IO.Err, "note: base volumes of image %q were not collected: %v; run `labctl image prune` later\n", name, err)
		return
	}
	for _, c := range b.usage.Copies {
		if c.Image == name && c.InUse() {
			fmt.Fprintf(a.IO.Err, "note: kept base copy %s-%s of image %q in pool %s: used by %s\n",
				c.Image, c.Digest, name, engine.BasePool, strings.Join(c.Users(), ", "))
		}
	}
}
