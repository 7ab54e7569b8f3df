package app

import (
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
)

func newStatusCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	cmd := &cobra.Command{
		Use:   "status [DIR|FILE]",
		Short: "Show the lab's VMs: state, IPs, accelerator, uptime",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			s, err := a.openSession(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			defer s.Close()
			st, rows, err := s.Status(ctx, time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.IO.Out, struct {
					Lab string            `json:"lab"`
					URI string            `json:"uri"`
					VMs []engine.VMStatus `json:"vms"`
				}{st.Lab, st.URI, rows})
			}
			t := tablewriter.NewWriter(a.IO.Out)
			t.Header("VM", "STATE", "IPS", "ACCEL", "UPTIME")
			for _, r := range rows {
				state := r.State
				if r.Orphan {
					state += " (not in lab file)"
				} else if r.State != "absent" && !r.UpToDate {
					state += " (changed: run up)"
				}
				accel := r.Accel
				if accel == "" {
					accel = "-"
				}
				if err := t.Append(r.Name, state, strings.Join(r.IPs, " "), accel, engine.FormatUptime(r.UptimeSec)); err != nil {
					return err
				}
			}
			if err := t.Render(); err != nil {
				return fmt.Errorf("status table: %w", err)
			}
			return nil
		},
	}
	f.register(cmd, true)
	return cmd
}
