package app

import (
	"fmt"

	"github.com/labctl/labctl/provision/doctor"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

func newDoctorCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	cmd := &cobra.Command{
		Use:   "doctor [DIR|FILE]",
		Short: "Check that this machine can run labs, and say how to fix what is missing",
		Long: `doctor checks libvirt, QEMU, the accelerator labctl will use (and why), the
storage pools, the base images (those of the lab when one is given), free
disk space, and the usual permission, AppArmor and network-namespace
pitfalls. Each problem comes with a fix. Exit status 1 when a check fails.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			var lab *topology.Lab
			if len(args) > 0 {
				if lab, err = a.load(args[0], f.labFlags); err != nil {
					return err
				}
			}
			checks := doctor.Run(cmd.Context(), f.uri, lab)
			failed := false
			for _, c := range checks {
				failed = failed || c.Status == "fail"
			}
			if asJSON {
				if err := writeJSON(a.IO.Out, checks); err != nil {
					return err
				}
			} else {
				mark := map[string]string{"ok": "✓", "warn": "!", "fail": "✗"}
				for _, c := range checks {
					fmt.Fprintf(a.IO.Out, "%s %-12s %s\n", mark[c.Status], c.Name, c.Detail)
					if c.Fix != "" && c.Status != "ok" {
						fmt.Fprintf(a.IO.Out, "  %-12s fix: %s\n", "", c.Fix)
					}
				}
			}
			if failed {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}
