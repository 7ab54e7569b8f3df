package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/labctl/labctl/grade"
	"github.com/labctl/labctl/verify"
)

func newGradeCmd(a *App) *cobra.Command { return gradeCmd(a, a.openBench, selfExecutable) }

func gradeCmd(a *App, open benchOpener, agent func() ([]byte, error)) *cobra.Command {
	var f lifecycleFlags
	var opts grade.Options
	var gradebook string
	cmd := &cobra.Command{
		Use:   "grade [DIR|FILE]",
		Short: "Score the running cluster by what it does: checks and failure drills, with points and hints",
		Long: `grade scores a lab by its behaviour, from outside and inside, never by its
config files: the checks of labctl verify (the VIP on one director, the
IPVS table, every real server answering through the VIP, NFS on the RAID,
the array clean), then drills that inject a fault while the client VM
probes the service, revert it and wait until the cluster is as before:

  failover     keepalived on the active director is killed: the other
               director must take the VIP within --max-outage
  backend_out  Apache on a real server stops: it must leave the pool and
               come back
  raid_member  a RAID member fails: the array must degrade, the site keep
               serving, and the array rebuild

A drill whose prerequisites fail is not run (it scores 0 and says why).
Each line has points (an exercise block's points override them) and a hint
shown when it fails. On a class, every copy is graded (-o json prints a
labctl.gradebook/v1 object with one result per copy) and --gradebook DIR
writes grades.csv and grades.html, one row per copy. grade exits 0
whatever the score, and non-zero when it could not grade.`,
		Example: `  labctl grade labs/lvs-nat-ha-exercise
  labctl grade labs/lvs-nat-ha-exercise --copy alice -o json
  labctl grade labs/lvs-nat-ha-exercise --gradebook out/grades`,
		Args: cobra.MaximumNArgs(1),
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
			if !a.Quiet {
				opts.Progress = func(format string, args ...any) { fmt.Fprintf(a.IO.Err, format+"\n", args...) }
			}
			book := &grade.Gradebook{Schema: grade.GradebookSchema}
			err = a.eachCopy(copies, f, false, func(f lifecycleFlags) error {
				// A copy that cannot be graded keeps its row, saying why.
				failed := func(err error) error {
					book.Results = append(book.Results, &grade.Result{Schema: grade.Schema, Copy: f.copy, Error: err.Error()})
					return err
				}
				env, err := open(ctx, argOr(args), f)
				if err != nil {
					return failed(err)
				}
				defer env.close()
				book.Class = env.lab.HandoutName()
				res, err := grade.Run(ctx, grade.Env{Lab: env.lab, Hosts: env.hosts, Power: env.power, Agent: agent}, opts)
				if res == nil {
					return failed(err)
				}
				book.Results = append(book.Results, res)
				if len(copies) == 0 || !asJSON {
					if werr := writeGrade(a.IO.Out, res, asJSON); werr != nil {
						return errors.Join(err, werr)
					}
				}
				return err
			})
			if len(copies) > 0 && asJSON {
				if werr := writeJSON(a.IO.Out, book); werr != nil && err == nil {
					err = werr
				}
			}
			if gradebook != "" && len(book.Results) > 0 {
				if werr := writeGradebook(gradebook, book); werr != nil {
					err = errors.Join(err, werr)
				} else {
					a.infof("gradebook: %s, %s", filepath.Join(gradebook, "grades.csv"), filepath.Join(gradebook, "grades.html"))
				}
			}
			return err
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.BoolVar(&opts.NoDrills, "no-drills", false, "score the checks only; the drills score 0 (\"not run\")")
	fl.DurationVar(&opts.MaxOutage, "max-outage", 0, "longest outage a drill may cause and still pass (default 15s with keepalived, 90s with pacemaker)")
	fl.DurationVar(&opts.Hold, "hold", 15*time.Second, "how long each drill's fault lasts before it is reverted")
	fl.DurationVar(&opts.Recover, "recover", 90*time.Second, "longest wait after a revert for the cluster to be as before")
	fl.StringVar(&gradebook, "gradebook", "", "write grades.csv and grades.html (one row per copy) into this directory")
	opts.Verify = verify.Options{Requests: 30, Timeout: 5 * time.Second}
	return cmd
}

func writeGrade(w io.Writer, res *grade.Result, asJSON bool) error {
	if asJSON {
		return res.WriteJSON(w)
	}
	return res.WriteTable(w)
}

// writeGradebook writes the class's CSV and HTML gradebook into dir.
func writeGradebook(dir string, book *grade.Gradebook) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	book.Sort()
	for name, write := range map[string]func(io.Writer) error{"grades.csv": book.WriteCSV, "grades.html": book.WriteHTML} {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = write(fh)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("gradebook %s: %w", name, err)
		}
	}
	return nil
}
