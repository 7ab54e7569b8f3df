package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

// hostsOpener loads the lab at arg and returns Runners for its VMs plus a
// function that releases them. provision and verify take it as a
// parameter so their tests can use fakes.
type hostsOpener func(ctx context.Context, arg string, f lifecycleFlags) (*topology.Lab, func(vm string) (ssh.Runner, error), func(), error)

// sshHosts reaches the lab's VMs over SSH as root (sudo), with the pinned
// keys from the lab's key store, exactly as `labctl up` does.
func (a *App) sshHosts(ctx context.Context, arg string, f lifecycleFlags) (*topology.Lab, func(vm string) (ssh.Runner, error), func(), error) {
	lc, err := a.openLab(ctx, arg, f)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := lc.checkHolder(ctx, f.ownerFlags); err != nil {
		lc.hv.Close()
		return nil, nil, nil, err
	}
	// libvirt stays open until done: with a qemu+ssh URI its SSH connection
	// carries the guest SSH connections.
	st, err := provision.Desired(lc.lab, provision.Options{DomainType: lc.opts.DomainType, Images: func(n string) (*provision.BaseImage, error) {
		return &provision.BaseImage{Name: n}, nil // only names and addresses are needed
	}})
	if err != nil {
		lc.hv.Close()
		return nil, nil, nil, err
	}
	pool := ssh.NewPool()
	for _, vm := range st.VMs {
		cfg, err := lc.sshConfig(vm, true)
		if err != nil {
			pool.Close()
			lc.hv.Close()
			return nil, nil, nil, err
		}
		pool.Add(cfg)
	}
	hosts := func(vm string) (ssh.Runner, error) {
		if st.VM(vm) == nil {
			return nil, fmt.Errorf("lab %s has no VM %q", lc.lab.Name, vm)
		}
		return pool.Runner(vm), nil
	}
	return lc.lab, hosts, func() { pool.Close(); lc.hv.Close() }, nil
}

func newProvisionCmd(a *App) *cobra.Command { return provisionCmd(a, a.sshHosts) }

func provisionCmd(a *App, open hostsOpener) *cobra.Command {
	var f lifecycleFlags
	var labPath string
	var parallel int
	cmd := &cobra.Command{
		Use:   "provision [VM...]",
		Short: "Configure the guests (roles: RAID, NFS, Apache, LVS) over SSH; idempotent",
		Long: `provision runs the roles of every VM (or only the named VMs) over SSH, in
dependency order: raid → nfs_server → nfs_client → web → real_server →
lvs_director → client, VMs of one stage in parallel. Each step compares
before it writes and restarts a service only when its config changed, so
a second run reports every step unchanged. ` + "`labctl up`" + ` runs the same roles.`,
		Example: `  labctl provision --lab labs/lvs-nat-ha
  labctl provision --lab labs/lvs-nat-ha director-1 director-2
  labctl provision -l labs/lvs-nat-ha -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			lab, hosts, done, err := open(ctx, labPath, f)
			if err != nil {
				return err
			}
			defer done()
			var progress io.Writer
			if !a.Quiet {
				progress = a.IO.Err
			}
			// Recorded like up does, so that a later no-op up knows these
			// VMs are configured (or, after a failure, that they are not).
			applied, err := roles.LoadApplied(keys.DefaultDir(lab.Name))
			if err != nil {
				return err
			}
			only := args
			if len(only) == 0 {
				only = nil
			}
			if err := applied.Forget(only); err != nil {
				return err
			}
			start := time.Now()
			rep, err := roles.Apply(ctx, lab, hosts, roles.Options{Only: args, Out: progress, Parallel: parallel})
			if err == nil {
				err = applied.Record(lab, only)
			}
			if asJSON {
				if jerr := writeJSON(a.IO.Out, rep); jerr != nil && err == nil {
					err = jerr
				}
			} else if err == nil {
				fmt.Fprintf(a.IO.Out, "lab %s provisioned: %d steps, %d changed, %d unchanged (%.1fs)\n", lab.Name,
					len(rep.Steps), rep.Count(roles.StatusChanged), rep.Count(roles.StatusUnchanged), time.Since(start).Seconds())
			}
			return err
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVarP(&labPath, "lab", "l", "", "lab directory or file (default: ./lab.hcl or the current directory)")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "configure at most this many VMs at once (0 = all of a stage)")
	return cmd
}
