package app

import (
	"fmt"
	"strings"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/spf13/cobra"
)

func newSSHCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	var labPath string
	var root bool
	cmd := &cobra.Command{
		Use:   "ssh VM [-- CMD...]",
		Short: "Open a shell on a VM, or run CMD there, over SSH with its pinned host key",
		Example: `  labctl ssh web-1
  labctl ssh --lab labs/minimal storage -- lsblk
  labctl ssh --root director-1 -- ipvsadm -Ln`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			vmName, rest := args[0], args[1:]
			if dash := cmd.ArgsLenAtDash(); dash == 0 {
				return fmt.Errorf("name the VM before --")
			} else if dash < 0 && len(rest) > 0 {
				return fmt.Errorf("unexpected arguments %q: put the command after --", rest)
			}
			f, err := a.oneCopy(ctx, labPath, f)
			if err != nil {
				return err
			}
			s, err := a.openSession(ctx, labPath, f)
			if err != nil {
				return err
			}
			defer s.Close()
			if err := s.CheckHolder(ctx); err != nil {
				return err
			}
			st, err := s.Machines()
			if err != nil {
				return err
			}
			vm := st.VM(vmName)
			if vm == nil {
				names := []string{}
				for _, v := range st.VMs {
					names = append(names, v.Name)
				}
				return fmt.Errorf("lab %s has no VM %q (VMs: %s)", s.Lab.Name, vmName, strings.Join(names, ", "))
			}
			cfg, err := s.SSHConfig(vm, root)
			if err != nil {
				return err
			}
			var code int
			if len(rest) > 0 {
				code, err = ssh.Exec(ctx, cfg, strings.Join(rest, " "), a.IO.In, a.IO.Out, a.IO.Err)
			} else {
				code, err = ssh.Interactive(ctx, cfg, a.IO.In, a.IO.Out, a.IO.Err)
			}
			if err != nil {
				return err
			}
			if code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVarP(&labPath, "lab", "l", "", "lab directory or file (default: ./lab.hcl or the current directory)")
	cmd.Flags().BoolVar(&root, "root", false, "run CMD as root (sudo -n)")
	return cmd
}
