// Package report renders bench run directories as a markdown summary and a
// self-contained HTML page with inline SVG charts (gonum/plot): throughput
// against real servers with confidence intervals, latency CDFs, failover
// timelines, and a side-by-side comparison of several runs.
package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/stats"
)

// Load reads run directories in the given order.
func Load(dirs []string) ([]*result.Run, error) {
	if len(dirs) == 0 {
		return nil, errors.New("report: no run directories given")
	}
	runs := make([]*result.Run, 0, len(dirs))
	for _, d := range dirs {
		r, err := result.Read(d)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// table is one rendered table, shared by the markdown and HTML forms.
type table struct {
	Title  string
	Note   string
	Header []string
	Rows   [][]string
}

func runsTable(runs []*result.Run) table {
	t := table{Title: "Runs", Header: []string{"Run", "Lab", "Experiment", "Service", "Tool", "Concurrency", "Bound", "Repeats",
		"labctl", "Accel", "Image", "libvirt / QEMU", "Host CPU", "Start (UTC)", "Took"}}
	for _, r := range runs {
		e, p := r.Experiment, r.Provenance
		bound := ""
		switch {
		case e.RateRPS > 0:
			bound = fmt.Sprintf("open loop %g req/s", e.RateRPS)
		case e.Requests > 0:
			bound = fmt.Sprintf("%d requests", e.Requests)
		}
		if e.DurationSec > 0 {
			bound = strings.TrimPrefix(bound+fmt.Sprintf(", ≤ %gs", e.DurationSec), ", ")
		}
		img := p.Image
		if p.ImageDigest != "" {
			img += " " + shortDigest(p.ImageDigest)
		}
		took := ""
		if !p.Start.IsZero() && p.End.After(p.Start) {
			took = p.End.Sub(p.Start).Round(time.Second).String()
		}
		t.Rows = append(t.Rows, []string{r.ID, r.Lab, e.Name, e.Service, e.Tool + ka(e.KeepAlive), fmt.Sprint(e.Concurrency), bound,
			fmt.Sprint(e.Repeat), strings.TrimSpace(p.LabctlVersion + " " + p.LabctlCommit), p.Accel, strings.TrimSpace(img),
			strings.Trim(p.LibvirtVersion+" / "+p.QEMUVersion, " /"), p.HostCPU, p.Start.UTC().Format("2006-01-02 15:04:05"), took})
	}
	return t
}

func ka(on bool) string {
	if on {
		return " (keep-alive)"
	}
	return ""
}

func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}

func pointsTable(r *result.Run) table {
	t := table{Title: "Throughput — " + r.ID,
		Note:   "Mean of the repeats with sample standard deviation and Student-t 95% confidence interval.",
		Header: []string{"Point", "n", "Mean req/s", "SD", "95% CI", "Errors", "p50 ms", "p99 ms", "Backends"}}
	for _, p := range r.Points {
		s := p.Throughput
		t.Rows = append(t.Rows, []string{p.Variation.Label(), fmt.Sprint(s.N), f1(s.Mean), f1(s.SD),
			ciRange(s, f1), pct(p.ErrorRate.Mean), meanOf(p.P50), meanOf(p.P99), spread(p)})
	}
	return t
}

func f1(x float64) string  { return fmt.Sprintf("%.1f", x) }
func f2(x float64) string  { return fmt.Sprintf("%.2f", x) }
func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

// ciRange is "low – high", or "n = 1, no interval".
func ciRange(s stats.Summary, f func(float64) string) string {
	if s.N < 2 {
		return s.Interval("")
	}
	return f(s.CILow) + " – " + f(s.CIHigh)
}

func meanOf(s *stats.Summary) string {
	if s == nil {
		return ""
	}
	return fmt.Sprintf("%.2f", s.Mean)
}

// spread is the share of responses per backend over all repeats.
func spread(p result.Point) string {
	tot := map[string]int64{}
	var sum int64
	for _, s := range p.Samples {
		for k, v := range s.Backends {
			tot[k] += v
			sum += v
		}
	}
	if sum == 0 {
		return ""
	}
	names := make([]string, 0, len(tot))
	for k := range tot {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		if k == "" {
			k = "unnamed"
		}
		parts[i] = fmt.Sprintf("%s %.0f%%", k, 100*float64(tot[names[i]])/float64(sum))
	}
	return strings.Join(parts, ", ")
}

// comparisonTable puts the runs side by side per variation. Runs that
// share no variation (e.g. rr/nat against wlc/dr) are compared by the
// number of real servers alone.
func comparisonTable(runs []*result.Run) table {
	t := table{Title: "Comparison", Note: "Mean req/s ± 95% CI half-width; Δ is relative to the first run.",
		Header: []string{"Point"}}
	key := func(v result.Variation) string { return v.Label() }
	if !sharedVariation(runs) {
		key = func(v result.Variation) string { return fmt.Sprintf("rs=%d", v.RealServers) }
		t.Note += " The runs share no variation, so points are matched by the number of real servers."
	}
	var labels []string
	cell := map[string]map[int]result.Point{}
	for i, r := range runs {
		t.Header = append(t.Header, r.ID)
		if i > 0 {
			t.Header = append(t.Header, "Δ")
		}
		for _, p := range r.Points {
			l := key(p.Variation)
			if cell[l] == nil {
				cell[l] = map[int]result.Point{}
				labels = append(labels, l)
			}
			cell[l][i] = p
		}
	}
	for _, l := range labels {
		row := []string{l}
		base, hasBase := cell[l][0]
		for i := range runs {
			p, ok := cell[l][i]
			v, d := "", ""
			if ok {
				v = f1(p.Throughput.Mean) + " " + p.Throughput.Interval("%.1f")
				if hasBase && base.Throughput.Mean != 0 {
					d = fmt.Sprintf("%+.1f%%", 100*(p.Throughput.Mean/base.Throughput.Mean-1))
				}
			}
			row = append(row, v)
			if i > 0 {
				row = append(row, d)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func sharedVariation(runs []*result.Run) bool {
	seen := map[string]int{}
	for i, r := range runs {
		for _, p := range r.Points {
			l := p.Variation.Label()
			if j, ok := seen[l]; ok && j != i {
				return true
			}
			seen[l] = i
		}
	}
	return false
}

// tables returns every table of the report in order.
func tables(runs []*result.Run) []table {
	ts := []table{runsTable(runs)}
	for _, r := range runs {
		if len(r.Points) > 0 {
			ts = append(ts, pointsTable(r))
		}
	}
	if len(runs) > 1 {
		ts = append(ts, comparisonTable(runs))
	}
	for _, r := range runs {
		if len(r.FaultStats) > 0 {
			ts = append(ts, faultStatsTable(r))
		}
		if len(r.Faults) > 0 {
			ts = append(ts, faultsTable(r))
		}
	}
	return ts
}
