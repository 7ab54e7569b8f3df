package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/engine"
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
			copies, err := a.selectCopies(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			if len(copies) > 1 {
				return a.classStatus(ctx, argOr(args), f, copies, asJSON)
			}
			if len(copies) == 1 {
				f = f.forCopy(copies[0])
			}
			st, rows, err := a.status(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.IO.Out, labStatus{st.Lab, st.URI, rows})
			}
			t := newTable(a.IO.Out, "VM", "STATE", "IPS", "ACCEL", "UPTIME")
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
				t.row(r.Name, state, strings.Join(r.IPs, " "), accel, engine.FormatUptime(r.UptimeSec))
			}
			return t.render()
		},
	}
	f.register(cmd, true)
	return cmd
}

// labStatus is one lab's (or copy's) status as JSON.
type labStatus struct {
	Lab string            `json:"lab"`
	URI string            `json:"uri"`
	VMs []engine.VMStatus `json:"vms"`
}

func (a *App) status(ctx context.Context, arg string, f lifecycleFlags) (*engine.State, []engine.VMStatus, error) {
	s, err := a.openSession(ctx, arg, f)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	return s.Status(ctx, time.Now())
}

// classStatus is the class view: one line per copy.
func (a *App) classStatus(ctx context.Context, arg string, f lifecycleFlags, copies []classCopy, asJSON bool) error {
	var all []labStatus
	t := newTable(a.IO.Out, "COPY", "LAB", "HOST", "VMS", "RUNNING", "UP TO DATE")
	for _, c := range copies {
		st, rows, err := a.status(ctx, arg, f.forCopy(c))
		if err != nil {
			return fmt.Errorf("copy %s: %w", c.Name, err)
		}
		all = append(all, labStatus{st.Lab, st.URI, rows})
		running, current := 0, 0
		for _, r := range rows {
			if r.State == "running" {
				running++
			}
			if r.UpToDate && !r.Orphan {
				current++
			}
		}
		t.row(c.Name, st.Lab, st.URI, fmt.Sprint(len(rows)), fmt.Sprint(running), fmt.Sprint(current))
	}
	if asJSON {
		return writeJSON(a.IO.Out, struct {
			Copies []labStatus `json:"copies"`
		}{all})
	}
	return t.render()
}
