package app

import (
	"fmt"
	"time"

	"github.com/labctl/labctl/verify"
	"github.com/spf13/cobra"
)

func newVerifyCmd(a *App) *cobra.Command { return verifyCmd(a, a.sshHosts) }

func verifyCmd(a *App, open hostsOpener) *cobra.Command {
	var f lifecycleFlags
	var requests int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "verify [DIR|FILE]",
		Short: "Check the running cluster: VIP, real servers, IPVS table, VRRP, NFS, RAID",
		Long: `verify checks the lab from inside, over SSH: HTTP through the VIP from the
client VM (and that every real server answers), the IPVS table on the
active director, that exactly one director holds the VIP and the other
runs keepalived, the real servers' routes or VIPs, the NFS mounts, and the
RAID level, members and state (a resyncing array is ok). It prints a table
(or JSON with -o json) and exits 1 when any check fails.`,
		Example: `  labctl verify labs/lvs-nat-ha
  labctl verify labs/lvs-nat-ha -o json --requests 60`,
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
			var class []copyResult
			err = a.eachCopy(copies, f, false, func(f lifecycleFlags) error {
				lab, hosts, done, err := open(ctx, argOr(args), f)
				if err != nil {
					class = append(class, copyResult{Copy: f.copy, Error: err.Error()})
					return err
				}
				defer done()
				res, err := verify.Run(ctx, lab, hosts, verify.Options{Requests: requests, Timeout: timeout})
				if err != nil {
					class = append(class, copyResult{Copy: f.copy, Lab: lab.Name, Error: err.Error()})
					return err
				}
				class = append(class, copyResult{Copy: f.copy, Lab: lab.Name, Result: res})
				if len(copies) == 0 || !asJSON {
					if err := a.writeVerify(res, asJSON); err != nil {
						return err
					}
				}
				if !res.OK() {
					return &ExitError{Code: 1}
				}
				return nil
			})
			if len(copies) > 0 {
				if werr := a.writeClassVerify(class, copies, asJSON); werr != nil && err == nil {
					err = werr
				}
			}
			return err
		},
	}
	f.register(cmd, true)
	cmd.Flags().IntVar(&requests, "requests", 30, "HTTP requests sent through each VIP to see every real server")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "timeout of each HTTP request")
	return cmd
}

// writeVerify prints one lab's (or copy's) checks.
func (a *App) writeVerify(res verify.Result, asJSON bool) error {
	if asJSON {
		return res.WriteJSON(a.IO.Out)
	}
	if err := res.WriteTable(a.IO.Out); err != nil {
		return err
	}
	if !res.OK() {
		fmt.Fprintf(a.IO.Err, "%d of %d checks failed\n", res.Failed(), len(res.Checks))
	}
	return nil
}

// copyResult is one copy's verify result in the class view.
type copyResult struct {
	Copy   string        `json:"copy"`
	Lab    string        `json:"lab"`
	Result verify.Result `json:"result"`
	Error  string        `json:"error,omitempty"` // why the copy could not be checked
}

// writeClassVerify prints the class view: one line per copy (a copy that
// could not be checked says why), or every copy's result as JSON.
func (a *App) writeClassVerify(class []copyResult, copies []classCopy, asJSON bool) error {
	if asJSON {
		return writeJSON(a.IO.Out, struct {
			Copies []copyResult `json:"copies"`
		}{class})
	}
	done := map[string]copyResult{}
	for _, r := range class {
		done[r.Copy] = r
	}
	t := newTable(a.IO.Out, "COPY", "LAB", "CHECKS", "FAILED", "RESULT")
	for _, cp := range copies {
		c := cp.Name
		r, ok := done[c]
		switch {
		case !ok:
			t.row(c, "-", "-", "-", "not checked")
		case r.Error != "":
			t.row(c, r.Lab, "-", "-", "not checked: "+firstLine(r.Error))
		case r.Result.OK():
			t.row(c, r.Lab, fmt.Sprint(len(r.Result.Checks)), "0", "ok")
		default:
			t.row(c, r.Lab, fmt.Sprint(len(r.Result.Checks)), fmt.Sprint(r.Result.Failed()), "FAILED")
		}
	}
	fmt.Fprintln(a.IO.Out, "== class")
	return t.render()
}
