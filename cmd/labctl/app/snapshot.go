package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
	"github.com/spf13/cobra"
)

func newSnapshotCmd(a *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Whole-lab snapshots: save, list, revert, rm",
		Long: `A lab snapshot is one internal libvirt snapshot per VM with the same name,
taken with every VM paused (so the cluster is consistent) and with memory:
reverting returns the running cluster to that moment. up takes one named
"up" after the roles have run (every copy of a class; a single lab with
up --snapshot); reset returns to it. down removes them all.
On a class, every command acts on each copy (or the --copy ones).`,
	}
	cmd.AddCommand(
		snapshotSub(a, "save NAME", "Snapshot every VM of the lab (paused together, with memory)", func(ctx context.Context, s *provision.Session, name string, replace bool) error {
			start := time.Now()
			if err := s.SaveSnapshot(ctx, name, replace); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "lab %s: snapshot %s saved in %.1fs\n", s.Lab.Name, name, time.Since(start).Seconds())
			return nil
		}),
		snapshotSub(a, "revert NAME", "Return every VM of the lab to the snapshot", func(ctx context.Context, s *provision.Session, name string, _ bool) error {
			start := time.Now()
			if err := s.RevertSnapshot(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "lab %s: reverted to %s in %.1fs\n", s.Lab.Name, name, time.Since(start).Seconds())
			return nil
		}),
		snapshotSub(a, "rm NAME", "Delete the snapshot from every VM of the lab", func(ctx context.Context, s *provision.Session, name string, _ bool) error {
			if err := s.DeleteSnapshot(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Out, "lab %s: snapshot %s removed\n", s.Lab.Name, name)
			return nil
		}),
		snapshotSub(a, "list", "List the lab's snapshots", func(ctx context.Context, s *provision.Session, _ string, _ bool) error {
			snaps, err := s.Snapshots(ctx)
			if err != nil {
				return err
			}
			t := newTable(a.IO.Out, "SNAPSHOT", "CREATED", "VMS", "MISSING")
			for _, l := range snaps {
				missing := "-"
				if len(l.Missing) > 0 {
					missing = fmt.Sprint(l.Missing)
				}
				t.row(l.Name, l.Created.Local().Format(time.DateTime), fmt.Sprint(len(l.VMs)), missing)
			}
			return t.render()
		}),
	)
	return cmd
}

// snapshotSub is one snapshot subcommand: [DIR|FILE] and, unless use is
// "list", a snapshot name last, run on the lab or on each copy.
func snapshotSub(a *App, use, short string, run func(ctx context.Context, s *provision.Session, name string, replace bool) error) *cobra.Command {
	var f lifecycleFlags
	var replace bool
	named := use != "list"
	usage := "list [DIR|FILE]"
	if named {
		usage = strings.TrimSuffix(use, " NAME") + " [DIR|FILE] NAME"
	}
	cmd := &cobra.Command{
		Use:   usage,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, arg := "", ""
			if named {
				if len(args) == 0 {
					return fmt.Errorf("name the snapshot: labctl snapshot %s [DIR|FILE] NAME", cmd.Name())
				}
				name, args = args[len(args)-1], args[:len(args)-1]
				if err := provision.CheckSnapshotName(name); err != nil {
					return err
				}
			}
			if len(args) > 1 {
				return fmt.Errorf("unexpected arguments %q: usage: labctl snapshot %s", args, usage)
			}
			arg = argOr(args)
			ctx := cmd.Context()
			copies, err := a.selectCopies(ctx, arg, f)
			if err != nil {
				return err
			}
			return a.eachCopy(copies, f, false, func(f lifecycleFlags) error {
				s, err := a.openSession(ctx, arg, f)
				if err != nil {
					return err
				}
				defer s.Close()
				return run(ctx, s, name, replace)
			})
		},
	}
	f.register(cmd, false)
	if use == "save NAME" {
		cmd.Flags().BoolVar(&replace, "replace", false, "replace a snapshot of that name")
	}
	return cmd
}

func newResetCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	var to string
	var noVerify bool
	cmd := &cobra.Command{
		Use:   "reset [DIR|FILE]",
		Short: "Return the lab (or each copy of a class) to its \"up\" snapshot and verify it",
		Long: `reset reverts every VM to the snapshot (default "up", which up takes once the
roles have run) and runs the same checks as verify, printing its table and
the time each took. It exits 1 when a check fails. On a class it resets each
copy, or the --copy ones.`,
		Example: `  labctl reset labs/classroom --copy 2
  labctl reset labs/classroom             # every copy, between two classes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			copies, err := a.selectCopies(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			return a.eachCopy(copies, f, false, func(f lifecycleFlags) error {
				s, err := a.openSession(ctx, argOr(args), f)
				if err != nil {
					return err
				}
				defer s.Close()
				start := time.Now()
				if err := s.RevertSnapshot(ctx, to); err != nil {
					return err
				}
				reverted := time.Since(start)
				if noVerify {
					fmt.Fprintf(a.IO.Out, "lab %s: reverted to %s in %.1fs\n", s.Lab.Name, to, reverted.Seconds())
					return nil
				}
				h, err := s.Hosts(ctx)
				if err != nil {
					return err
				}
				defer h.Close()
				res, err := verify.Run(ctx, s.Lab, h.Runner, verify.Options{Requests: resetRequests(s.Lab)})
				if err != nil {
					return err
				}
				if err := a.writeVerify(res, false); err != nil {
					return err
				}
				fmt.Fprintf(a.IO.Out, "lab %s: reverted to %s in %.1fs, checked in %.1fs\n", s.Lab.Name, to, reverted.Seconds(), (time.Since(start) - reverted).Seconds())
				if !res.OK() {
					return &ExitError{Code: 1}
				}
				return nil
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&to, "to", provision.UpSnapshot, "the snapshot to return to")
	cmd.Flags().BoolVar(&noVerify, "no-verify", false, "revert only, without the checks")
	return cmd
}

// resetRequests is how many requests reset's spread check sends through
// each VIP: three per real server (at least 6) see every backend under
// equal weights, where verify's default 30 is most of a reset's checks
// under TCG; unequal weights keep the default (0).
func resetRequests(lab *topology.Lab) int {
	n := 6
	for _, s := range lab.LVS {
		for _, b := range s.Backends {
			if b.Weight != s.Backends[0].Weight {
				return 0
			}
		}
		n = max(n, 3*len(s.Backends))
	}
	return n
}
