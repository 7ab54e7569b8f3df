package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

func newDownCmd(a *App) *cobra.Command {
	if a.fakes.Connect != nil {
		return newDownCmdWith(a, dialFunc(a.fakes.Connect))
	}
	return newDownCmdWith(a, dialLibvirt)
}

func newDownCmdWith(a *App, dial dialFunc) *cobra.Command {
	var f lifecycleFlags
	var name string
	var keepKeys bool
	cmd := &cobra.Command{
		Use:   "down [DIR|FILE]",
		Short: "Remove every libvirt object the lab owns, and its local state",
		Long: `down removes the lab's domains (with snapshots), volumes, cloud-init seeds,
networks and its dedicated storage pool, found through libvirt by labctl's
metadata (volumes: those its domains' disks use), plus its local keys. It
works after an interrupted up and when objects were removed by hand, and
never touches what the lab does not own: host bridges, other labs, another
owner's lab (root may, with --force), other volumes, base images.

` + namedDeletion,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			owner, err := f.ownerFlags.resolve()
			if err != nil {
				return err
			}
			targets, err := a.downTargets(ctx, argOr(args), name, f)
			if err != nil {
				return err
			}
			var errs []error
			for _, t := range targets {
				if err := a.downOne(ctx, dial, t, owner, f, keepKeys, asJSON, len(targets) > 1); err != nil {
					errs = append(errs, fmt.Errorf("lab %s: %w", t.lab.Name, err))
				}
			}
			return errors.Join(errs...)
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVar(&name, "name", "", "remove lab NAME without reading its lab file")
	cmd.Flags().BoolVar(&keepKeys, "keep-keys", false, "keep the lab's SSH keys in its state directory")
	acceptYes(cmd)
	return cmd
}

// namedDeletion is the confirmation rule of labctl's destructive commands,
// for their help: a command asks before a deletion only when the deletion
// is a side effect (up replacing changed VMs); one whose arguments name
// what it deletes (down, image rm, image prune) never asks.
const namedDeletion = `It asks nothing: naming what to delete is the confirmation (only up asks,
before deletions that are a side effect). --yes is accepted, so scripts can
pass it to every labctl command that deletes.`

// acceptYes adds --yes/-y to a command that never asks.
func acceptYes(cmd *cobra.Command) {
	cmd.Flags().BoolP("yes", "y", false, "accepted for scripts; "+cmd.Name()+" never asks")
}

// downTarget is one lab (or copy) down removes, and its libvirt URI.
type downTarget struct {
	lab *topology.Lab
	uri string
}

// downTargets are the labs down removes: every copy of the lab (named by
// --name, or the lab file's) on its hosts, only the --copy ones when given,
// or the lab itself when it has no copies.
func (a *App) downTargets(ctx context.Context, arg, name string, f lifecycleFlags) ([]downTarget, error) {
	class := &topology.Lab{Name: name}
	if name != "" {
		if f.instance != "" {
			class.Name += "-" + f.instance
		}
		if err := topology.CheckLabName(class.Name); err != nil {
			return nil, fmt.Errorf("down --name: %w", err)
		}
	} else {
		var err error
		if class, err = a.load(arg, f.labFlags); err != nil {
			return nil, err
		}
	}
	uris, err := classHosts(f, class)
	if err != nil {
		return nil, err
	}
	c, err := a.findClass(ctx, uris, class.Name)
	if err != nil {
		return nil, err
	}
	a.warnAll(c.Warnings)
	if len(c.Copies) == 0 && len(f.copies) == 0 {
		return []downTarget{{class, provision.LabURI(f.uri, class)}}, nil
	}
	var out []downTarget
	for _, cp := range c.Copies {
		if len(f.copies) == 0 || slices.Contains(f.copies, cp.Name) {
			out = append(out, downTarget{a.copyLab(arg, name, f, cp.Name, class), cp.URI})
		}
	}
	for _, want := range f.copies {
		if _, ok := c.Copy(want); !ok {
			return nil, fmt.Errorf("lab %s has no copy %q on %s", class.Name, want, strings.Join(uris, ", "))
		}
	}
	return out, nil
}

// copyLab is the lab of one copy for Teardown: loaded from the lab file
// (its pool may be set there), or by name alone with --name.
func (a *App) copyLab(arg, name string, f lifecycleFlags, copy string, class *topology.Lab) *topology.Lab {
	if name == "" {
		f.labFlags.copy = copy
		if lab, err := a.loadWith(arg, f.labFlags, topology.LoadOptions{}, true); err == nil {
			return lab
		}
	}
	return &topology.Lab{Name: class.Name + "-" + copy}
}

// downOne removes one lab (or copy) and reports it;
// quietEmpty: several labs are removed, so one with nothing left says nothing.
func (a *App) downOne(ctx context.Context, dial dialFunc, t downTarget, owner string, f lifecycleFlags, keepKeys, asJSON, quietEmpty bool) error {
	hv, err := dial(ctx, t.uri)
	if err != nil {
		return err
	}
	defer hv.Close()
	lab := t.lab
	prog := a.newProgress(asJSON)
	res, err := provision.Teardown(ctx, hv, lab, provision.TeardownOptions{
		Owner: owner, Force: f.force, KeepKeys: keepKeys, Progress: prog})
	prog.Stop()
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(a.IO.Out, res)
	}
	if res.Empty() {
		if !quietEmpty {
			fmt.Fprintf(a.IO.Out, "lab %s: nothing to remove\n", lab.Name)
		}
		return nil
	}
	fmt.Fprintf(a.IO.Out, "lab %s removed: %d domains, %d volumes, %d networks", lab.Name,
		len(res.Domains), len(res.Volumes), len(res.Networks))
	if res.Pool != "" {
		fmt.Fprintf(a.IO.Out, ", pool %s", res.Pool)
	}
	fmt.Fprintln(a.IO.Out)
	return nil
}
