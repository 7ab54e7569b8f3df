package app

import (
	"context"
	"fmt"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/placement"
	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
)

func newClassCmd(a *App) *cobra.Command {
	var f labFlags
	var hosts, output string
	cmd := &cobra.Command{
		Use:   "class [DIR|FILE]",
		Short: "Show the lab's classroom copies on every host: one line per copy",
		Long: `class asks every libvirt host (--hosts, default: the lab's uri) for the
copies of the lab, from labctl's ownership metadata alone, and prints one
line per copy: its host, owner and how many of its VMs run. A host that
cannot be reached is named on stderr and skipped; a copy found on two hosts
is an error. It changes nothing.`,
		Example: `  labctl class labs/lvs-nat-ha --hosts qemu+ssh://teacher@lab1/system,qemu+ssh://teacher@lab2/system`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON := output == "json"
			if !asJSON && output != "text" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			lab, err := a.load(argOr(args), f)
			if err != nil {
				return err
			}
			uris := []string{provision.LabURI("", lab)}
			if hosts != "" {
				if uris, err = placement.ParseHosts(hosts); err != nil {
					return err
				}
			}
			c, err := a.findClass(cmd.Context(), uris, lab.Name)
			if err != nil {
				return err
			}
			for _, w := range c.Warnings {
				if !a.Quiet {
					fmt.Fprintln(a.IO.Err, "warning:", escapeControl(w))
				}
			}
			if asJSON {
				return writeJSON(a.IO.Out, c)
			}
			if len(c.Copies) == 0 {
				fmt.Fprintf(a.IO.Out, "no copies of %s on %d host(s)\n", lab.Name, len(uris))
				return nil
			}
			t := tablewriter.NewWriter(a.IO.Out)
			t.Header("COPY", "HOST", "OWNER", "VMS RUNNING")
			for _, cp := range c.Copies {
				owner := cp.Owner
				if owner == "" {
					owner = "-"
				}
				if err := t.Append(cp.Name, cp.URI, owner, fmt.Sprintf("%d/%d", cp.Running, len(cp.VMs))); err != nil {
					return err
				}
			}
			if err := t.Render(); err != nil {
				return fmt.Errorf("class table: %w", err)
			}
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&hosts, "hosts", "", "libvirt URIs of the class's hosts, comma-separated (default: the lab's uri)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// findClass finds the copies of class on the hosts at uris.
func (a *App) findClass(ctx context.Context, uris []string, class string) (*placement.Class, error) {
	hs := a.dialHosts(ctx, uris)
	defer hs.Close()
	return placement.Find(ctx, hs, class)
}

// dialHosts dials every host of a class at once (the fakes' Connect in
// tests), each bounded by dialTimeout so a host that is down costs at most
// that; a host that fails keeps its error for Place and Find to warn about.
func (a *App) dialHosts(ctx context.Context, uris []string) placement.Hosts {
	connect := dialFunc(dialLibvirt)
	if a.fakes.Connect != nil {
		connect = dialFunc(a.fakes.Connect)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	return placement.Dial(dctx, uris, connect)
}
