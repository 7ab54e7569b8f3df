package doctor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// storageChecks checks the pools, the base images and free disk space.
func storageChecks(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab, local bool) []Check {
	var out []Check
	add := func(name, status, detail, fix string) {
		out = append(out, Check{Name: name, Status: status, Detail: detail, Fix: fix})
	}
	// Pools: the shared base pool and where new pools go.
	for _, name := range poolsToCheck(lab) {
		p, err := hv.Pool(ctx, name)
		switch {
		case errors.Is(err, libvirt.ErrNotFound):
			dir := filepath.Join(engine.DefaultImagesDir, name)
			if local {
				if werr := writable(engine.DefaultImagesDir); werr != nil {
					add("pool "+name, "fail", "absent, and "+engine.DefaultImagesDir+" is not writable: "+werr.Error(),
						"mkdir -p "+engine.DefaultImagesDir+" as root")
					continue
				}
			}
			add("pool "+name, "ok", "absent; up creates it in "+dir, "")
		case err != nil:
			add("pool "+name, "fail", err.Error(), "virsh pool-info "+name)
		case !p.Active:
			add("pool "+name, "warn", "defined but inactive", "virsh pool-start "+name)
		default:
			detail := fmt.Sprintf("%s, %s free", p.Path, libvirt.FormatBytes(p.Available))
			if local {
				if werr := writable(p.Path); werr != nil {
					add("pool "+name, "fail", detail+"; not writable: "+werr.Error(), "check ownership and mount options of "+p.Path)
					continue
				}
			}
			add("pool "+name, "ok", detail, "")
		}
	}

	// Images.
	store := image.DefaultStore()
	if lab != nil {
		seen := map[string]bool{}
		for _, vm := range lab.VMs {
			name := vm.Image
			if name == "" {
				name = lab.Image
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			if img, err := store.Get(name); err != nil {
				add("image "+name, "fail", err.Error(), "labctl image build "+name)
			} else {
				boot := "disk boot"
				if img.DirectKernelBoot() {
					boot = "direct kernel boot"
				}
				add("image "+name, "ok", img.DiskPath()+" ("+boot+")", "")
			}
		}
	} else if imgs, err := store.List(); err != nil || len(imgs) == 0 {
		add("images", "warn", "no base image in "+store.Dir, "labctl image build NAME")
	} else {
		names := []string{}
		for _, im := range imgs {
			names = append(names, im.Manifest.Name)
		}
		add("images", "ok", strings.Join(names, ", ")+" in "+store.Dir, "")
	}

	if local {
		for _, dir := range []string{engine.DefaultImagesDir, store.Dir} {
			free, err := freeBytes(dir)
			if err != nil {
				continue
			}
			if free < 5<<30 {
				add("disk "+dir, "warn", libvirt.FormatBytes(free)+" free", "free space: each VM's clone grows as the guest writes")
			} else {
				add("disk "+dir, "ok", libvirt.FormatBytes(free)+" free", "")
			}
		}
		out = append(out, localPitfalls()...)
	}
	return out
}

func poolsToCheck(lab *topology.Lab) []string {
	out := []string{engine.BasePool}
	if lab != nil {
		out = append(out, engine.LabPoolName(lab))
	}
	return out
}
