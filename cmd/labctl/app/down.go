package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
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
			labs, err := a.downTargets(ctx, argOr(args), name, f)
			if err != nil {
				return err
			}
			hv, err := dial(ctx, provision.LabURI(f.uri, labs[0]))
			if err != nil {
				return err
			}
			defer hv.Close()
			if name != "" && len(labs) == 1 && len(f.copies) == 0 {
				// A class removed by name: its copies are found on the host.
				copies, err := engine.Copies(ctx, hv, labs[0].Name)
				if err != nil {
					return err
				}
				for _, c := range copies {
					labs = append(labs, &topology.Lab{Name: labs[0].Name + "-" + c})
				}
			}
			var errs []error
			for _, lab := range labs {
				if err := a.downOne(ctx, hv, lab, owner, f, keepKeys, asJSON, len(labs) > 1); err != nil {
					errs = append(errs, fmt.Errorf("lab %s: %w", lab.Name, err))
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

// downTargets are the labs down removes: the one named by --name (with its
// --copy selection), else the lab file's copies on the host, else the lab.
func (a *App) downTargets(ctx context.Context, arg, name string, f lifecycleFlags) ([]*topology.Lab, error) {
	if name != "" {
		if f.instance != "" {
			name += "-" + f.instance
		}
		if err := topology.CheckLabName(name); err != nil {
			return nil, fmt.Errorf("down --name: %w", err)
		}
		if len(f.copies) == 0 {
			return []*topology.Lab{{Name: name}}, nil
		}
		var labs []*topology.Lab
		for _, c := range f.copies {
			if err := topology.CheckCopyName(c); err != nil {
				return nil, fmt.Errorf("--copy: %w", err)
			}
			labs = append(labs, &topology.Lab{Name: name + "-" + c})
		}
		return labs, nil
	}
	copies, err := a.selectCopies(ctx, arg, f)
	if err != nil {
		return nil, err
	}
	if len(copies) == 0 {
		copies = []string{""}
	}
	var labs []*topology.Lab
	for _, c := range copies {
		f.labFlags.copy = c
		lab, err := a.load(arg, f.labFlags)
		if err != nil {
			return nil, err
		}
		labs = append(labs, lab)
	}
	return labs, nil
}

// downOne removes one lab (or copy) and reports it;
// quietEmpty: several labs are removed, so one with nothing left says nothing.
func (a *App) downOne(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab, owner string, f lifecycleFlags, keepKeys, asJSON, quietEmpty bool) error {
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
