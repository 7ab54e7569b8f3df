package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// linkLatest points base/latest at dir (relative, replaced atomically).
func linkLatest(base, dir string) error {
	tmp := filepath.Join(base, ".latest.tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(dir), tmp); err != nil {
		return fmt.Errorf("link %s/latest: %w", base, err)
	}
	if err := os.Rename(tmp, filepath.Join(base, "latest")); err != nil {
		return fmt.Errorf("link %s/latest: %w", base, err)
	}
	return nil
}

func writeBenchSummary(w io.Writer, runs []benchRun) error {
	for _, br := range runs {
		r := br.Run
		fmt.Fprintf(w, "%s  (%s, %s)\n", br.Dir, r.Experiment.Tool, r.Provenance.End.Sub(r.Provenance.Start).Round(time.Second))
		t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
		t.Header("point", "n", "req/s", "95% CI", "errors", "p50 ms", "p99 ms", "backends")
		for _, p := range r.Points {
			p50, p99 := "", ""
			if p.P50 != nil {
				p50 = fmt.Sprintf("%.1f", p.P50.Mean)
			}
			if p.P99 != nil {
				p99 = fmt.Sprintf("%.1f", p.P99.Mean)
			}
			if err := t.Append(p.Variation.Label(), fmt.Sprint(p.Throughput.N), fmt.Sprintf("%.1f", p.Throughput.Mean),
				p.Throughput.Interval("%.1f"), fmt.Sprintf("%.2f%%", 100*p.ErrorRate.Mean), p50, p99, backendsOf(p)); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		for _, line := range strings.Split(r.Notes, "\n") {
			if strings.HasPrefix(line, "fault ") {
				fmt.Fprintln(w, "  "+line)
			}
		}
		if br.Err != "" {
			fmt.Fprintln(w, "  error: "+firstLine(br.Err))
		}
	}
	return nil
}

// backendsOf sums the samples' responses per backend.
func backendsOf(p result.Point) string {
	sum := map[string]int64{}
	for _, s := range p.Samples {
		for k, v := range s.Backends {
			sum[k] += v
		}
	}
	keys := make([]string, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, sum[k])
	}
	return strings.Join(parts, " ")
}
