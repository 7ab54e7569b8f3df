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
			lab, hosts, done, err := open(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			defer done()
			res, err := verify.Run(ctx, lab, hosts, verify.Options{Requests: requests, Timeout: timeout})
			if err != nil {
				return err
			}
			if asJSON {
				err = res.WriteJSON(a.IO.Out)
			} else {
				err = res.WriteTable(a.IO.Out)
			}
			if err != nil {
				return err
			}
			if !res.OK() {
				if !asJSON {
					fmt.Fprintf(a.IO.Err, "%d of %d checks failed\n", res.Failed(), len(res.Checks))
				}
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().IntVar(&requests, "requests", 30, "HTTP requests sent through each VIP to see every real server")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "timeout of each HTTP request")
	return cmd
}
