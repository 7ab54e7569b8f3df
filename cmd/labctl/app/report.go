package app

import (
	"bytes"
	"fmt"
	"os"

	"github.com/labctl/labctl/bench/report"
	"github.com/spf13/cobra"
)

func newReportCmd(a *App) *cobra.Command {
	var htmlOut, mdOut string
	cmd := &cobra.Command{
		Use:   "report RUN_DIR...",
		Short: "Summarise bench runs as markdown and a self-contained HTML page",
		Long: `Report reads one or more bench run directories (results.json, schema
labctl.bench/v2 or v1) and writes a markdown summary and/or an HTML page with
inline SVG charts: throughput against active real servers with 95% confidence
intervals, latency CDFs and failover timelines; per fault its outage and MTTR
(mean and 95% CI over the repetitions) and availability. Several runs are
compared side by side. Without --html or --markdown the markdown goes to stdout.`,
		Example: `  labctl report results/lvs-thesis-20261126T090000Z
  labctl report --html report.html --markdown report.md results/run-a results/run-b`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runs, err := report.Load(args)
			if err != nil {
				return err
			}
			if htmlOut != "" {
				var buf bytes.Buffer
				if err := report.HTML(&buf, runs); err != nil {
					return err
				}
				if err := os.WriteFile(htmlOut, buf.Bytes(), 0o644); err != nil {
					return fmt.Errorf("write report %q: %w", htmlOut, err)
				}
			}
			if mdOut == "" && htmlOut == "" {
				mdOut = "-"
			}
			if mdOut == "" {
				return nil
			}
			var buf bytes.Buffer
			if err := report.Markdown(&buf, runs); err != nil {
				return err
			}
			if mdOut == "-" {
				_, err := a.IO.Out.Write(buf.Bytes())
				return err
			}
			if err := os.WriteFile(mdOut, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write report %q: %w", mdOut, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&htmlOut, "html", "", "write the HTML page to `FILE`")
	cmd.Flags().StringVar(&mdOut, "markdown", "", "write the markdown summary to `FILE` (- = stdout)")
	return cmd
}
