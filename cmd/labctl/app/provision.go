package app

import (
	"fmt"
	"io"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/roles"
	"github.com/spf13/cobra"
)

func newProvisionCmd(a *App) *cobra.Command { return provisionCmd(a, a.sshHosts) }

func provisionCmd(a *App, open hostsOpener) *cobra.Command {
	var f lifecycleFlags
	var labPath string
	var parallel int
	var solution bool
	cmd := &cobra.Command{
		Use:   "provision [VM...]",
		Short: "Configure the guests (roles: RAID, NFS, Apache, LVS) over SSH; idempotent",
		Long: `provision runs the roles of every VM (or only the named VMs) over SSH.
Each VM runs its roles in dependency order (raid → nfs_server → nfs_client →
web → real_server → lvs_director → client), the VMs in parallel; NFS
clients start once the NFS server is configured, directors once the web
servers are. Each step compares
before it writes and restarts a service only when its config changed, so
a second run reports every step unchanged. ` + "`labctl up`" + ` runs the same roles.

In a lab with an exercise block, the student's roles are left out (their
packages are checked); --solution configures them too, the teacher's model
answer.`,
		Example: `  labctl provision --lab labs/lvs-nat-ha
  labctl provision --lab labs/lvs-nat-ha director-1 director-2
  labctl provision -l labs/lvs-nat-ha -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			copies, err := a.selectCopies(ctx, labPath, f)
			if err != nil {
				return err
			}
			return a.eachCopy(copies, f, false, func(f lifecycleFlags) error {
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
				start := time.Now()
				rep, err := provision.ApplyRoles(ctx, lab, hosts, roles.Options{Only: args, Out: progress, Parallel: parallel, Solution: solution})
				if asJSON {
					if jerr := writeJSON(a.IO.Out, rep); jerr != nil && err == nil {
						err = jerr
					}
				} else if err == nil {
					fmt.Fprintf(a.IO.Out, "lab %s provisioned: %d steps, %d changed, %d unchanged (%.1fs)\n", lab.Name,
						len(rep.Steps), rep.Count(roles.StatusChanged), rep.Count(roles.StatusUnchanged), time.Since(start).Seconds())
					writeStudentWork(a.IO.Out, lab, solution)
				}
				return err
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().StringVarP(&labPath, "lab", "l", "", "lab directory or file (default: ./lab.hcl or the current directory)")
	cmd.Flags().BoolVar(&solution, "solution", false, "configure the roles the lab's exercise leaves to the student too (the model answer)")
	cmd.Flags().IntVar(&parallel, "parallel", 0, "configure at most this many VMs at once (0 = all)")
	return cmd
}
