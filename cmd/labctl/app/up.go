package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newUpCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	var yes, noConfigure, reconfigure, noClone, noSnapshot, snapshot bool
	var timeout time.Duration
	var parallel, bootParallel int
	var bootSlice time.Duration
	var cf classFlags
	cmd := &cobra.Command{
		Use:   "up [DIR|FILE]",
		Short: "Create or converge the lab's networks, disks and VMs, and wait for SSH",
		Long: `up makes libvirt match the lab file: it creates missing networks, volumes,
cloud-init seeds and VMs (in parallel), starts them and waits until each VM
answers SSH with its pinned host key, then configures the guests (roles).
Guests boot in waves sized to the host (--boot-parallel); a boot that makes
no progress is restarted once, then up fails showing its console.

Run again on an unchanged lab, up does nothing and says so. After a change to
the lab file it shows what differs (by spec hash per object) and recreates
only that, asking first unless --yes.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			copies, err := a.upCopies(ctx, argOr(args), f, cf)
			if err != nil {
				return err
			}
			// Copies after the first configured one are cloned from it.
			var from *lifecycleFlags
			return a.eachCopy(copies, f, true, func(f lifecycleFlags) error {
				start := time.Now()
				s, err := a.openSession(ctx, argOr(args), f)
				if err != nil {
					return err
				}
				defer s.Close()
				a.infof("lab %s on %s, accel %s: %s", s.Lab.Name, s.Opts.URI, engine.AccelName(s.Opts.DomainType), s.Opts.AccelReason)

				prog := a.newProgress(asJSON)
				req := provision.UpRequest{Parallel: parallel, Progress: prog, BootParallel: bootParallel,
					BootSlice: bootSlice, BootTimeout: timeout, NoConfigure: noConfigure, Reconfigure: reconfigure}
				if !yes {
					req.Confirm = func(c *engine.Changes) (bool, error) {
						prog.Pause()
						defer prog.Resume()
						return a.confirm(c)
					}
				}
				if from != nil && !noClone {
					src, err := a.openSession(ctx, argOr(args), *from)
					if err != nil {
						return fmt.Errorf("open copy %s to clone from: %w", from.copy, err)
					}
					defer src.Close()
					req.From = src
				}
				res, err := s.Up(ctx, req)
				// Copies of a class get their reset point by default. A single
				// lab only when asked: after an internal snapshot its disks
				// are copy-on-write, which slows and biases the IO a thesis
				// measures (a RAID rebuild, NFS under load).
				if err == nil && !noSnapshot && (s.Lab.Copy != "" || snapshot) {
					changed := !res.NoOp || len(res.Reconfigured) > 0
					if changed && res.NoOp && s.Lab.Exercise != nil {
						// The guests hold the student's work by now: a new
						// reset point would keep it.
						changed = false
						a.infof("lab %s: the %q snapshot still holds the lab before the student's work, without this change (labctl snapshot rm %s, then up, to take it again)", s.Lab.Name, provision.UpSnapshot, provision.UpSnapshot)
					}
					if serr := s.SaveUpSnapshot(ctx, changed); serr != nil {
						a.infof("warning: no %q snapshot of lab %s (reset needs it): %v", provision.UpSnapshot, s.Lab.Name, serr)
					}
				}
				if err == nil && from == nil && s.Lab.Copy != "" {
					from = &f
				}
				prog.Stop()
				if err != nil {
					if res != nil && asJSON {
						_ = writeJSON(a.IO.Out, res)
					}
					return err
				}
				if asJSON {
					return writeJSON(a.IO.Out, res)
				}
				if res.NoOp {
					if len(res.Reconfigured) > 0 {
						fmt.Fprintf(a.IO.Out, "lab %s is up to date: %d VMs, roles re-applied on %d (%.1fs)\n", s.Lab.Name, len(res.VMs), len(res.Reconfigured), time.Since(start).Seconds())
					} else {
						fmt.Fprintf(a.IO.Out, "lab %s is up to date: %d VMs, nothing to do (%.1fs)\n", s.Lab.Name, len(res.VMs), res.Seconds)
					}
					if !noConfigure {
						writeStudentWork(a.IO.Out, s.Lab, false)
					}
					return nil
				}
				fmt.Fprintf(a.IO.Out, "lab %s is up: %d VMs in %.1fs\n", s.Lab.Name, len(res.VMs), res.Seconds)
				for _, vm := range res.VMs {
					if vm.Cloned {
						fmt.Fprintf(a.IO.Out, "  %-16s %-9s cloned from copy %s in %5.1fs\n", vm.Name, vm.Action, from.copy, vm.Seconds)
					} else if vm.BootSeconds > 0 && vm.Restarts > 0 {
						fmt.Fprintf(a.IO.Out, "  %-16s %-9s boot-to-SSH %5.1fs (restarted %d× after a stuck boot)\n", vm.Name, vm.Action, vm.BootSeconds, vm.Restarts)
					} else if vm.BootSeconds > 0 {
						fmt.Fprintf(a.IO.Out, "  %-16s %-9s boot-to-SSH %5.1fs\n", vm.Name, vm.Action, vm.BootSeconds)
					} else {
						fmt.Fprintf(a.IO.Out, "  %-16s %s\n", vm.Name, vm.Action)
					}
				}
				if !noConfigure {
					writeStudentWork(a.IO.Out, s.Lab, false)
				}
				return nil
			})
		},
	}
	f.register(cmd, true)
	cf.register(cmd)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "recreate changed objects without asking")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long each VM may take to answer SSH, restarts included")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "concurrent libvirt operations")
	cmd.Flags().IntVar(&bootParallel, "boot-parallel", 0, "guests booting at once (0 = from the host's CPUs: 1 per CPU under TCG, 2×CPUs+2 under KVM)")
	cmd.Flags().DurationVar(&bootSlice, "boot-slice", 0, "admit the next guest after this long even if none answered SSH yet (0 = 2m under TCG, 30s under KVM)")
	cmd.Flags().BoolVar(&noConfigure, "no-configure", false, "do not configure guests (roles) after boot")
	cmd.Flags().BoolVar(&noSnapshot, "no-snapshot", false, "copies of a class: do not take the \"up\" snapshot (what reset returns to, and new copies are cloned from)")
	cmd.Flags().BoolVar(&snapshot, "snapshot", false, "a single lab: take the \"up\" snapshot too (copies of a class always do, unless --no-snapshot)")
	cmd.Flags().BoolVar(&noClone, "no-clone", false, "boot and configure every copy of a class, instead of cloning copies 2…N from the first one's \"up\" snapshot")
	cmd.Flags().BoolVar(&reconfigure, "reconfigure", false, "configure every guest even when neither libvirt nor the roles changed")
	return cmd
}

// confirm shows the pending changes and asks whether to apply them.
func (a *App) confirm(c *engine.Changes) (bool, error) {
	if a.Quiet { // otherwise up has just listed them
		fmt.Fprintln(a.IO.Err, "up will change the lab:")
		_ = c.Write(a.IO.Err)
	}
	f, ok := a.IO.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("up would delete or replace existing objects (listed above) and stdin is not a terminal to ask: re-run with --yes to apply")
	}
	fmt.Fprint(a.IO.Err, "Apply these changes? [y/N] ")
	line, err := bufio.NewReader(a.IO.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "y" || ans == "yes", nil
}

func argOr(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// infof prints a progress line on stderr unless -q.
func (a *App) infof(format string, args ...any) {
	if !a.Quiet {
		fmt.Fprintf(a.IO.Err, format+"\n", args...)
	}
}
