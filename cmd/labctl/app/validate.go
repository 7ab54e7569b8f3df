package app

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newValidateCmd(a *App) *cobra.Command {
	var f labFlags
	cmd := &cobra.Command{
		Use:   "validate [FILE|DIR]",
		Short: "Check a lab file for errors without touching libvirt",
		Long: `Validate reads a lab (one .hcl file, or every .hcl file of a directory) and
reports every error at once, each with file:line:column and a source snippet.
Without an argument it reads ./lab.hcl, or the current directory.`,
		Example: `  labctl validate labs/lvs-nat-ha
  labctl validate lab.hcl -var web_count=2`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := a.load(argOrEmpty(args), f)
			if err != nil {
				return err
			}
			if !a.Quiet {
				fmt.Fprintf(a.IO.Out, "lab %q is valid: %d networks, %d VMs, %d LVS services, %d NFS exports\n",
					lab.Name, len(lab.Networks), len(lab.VMs), len(lab.LVS), len(lab.NFS))
			}
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func argOrEmpty(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
