package report

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/result"
)

// Chart size in the page.
const (
	chartW = 7 * vg.Inch
	chartH = 4 * vg.Inch
)

// errNoData means a chart has nothing to draw; the page leaves it out.
var errNoData = errors.New("no data for chart")

// svg renders p as an SVG element (without the XML prolog, for inlining).
// gonum/plot panics on some degenerate inputs; that becomes an error.
func svg(p *plot.Plot) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw chart %q: %v", p.Title.Text, r)
		}
	}()
	wt, err := p.WriterTo(chartW, chartH, "svg")
	if err != nil {
		return nil, fmt.Errorf("draw chart %q: %w", p.Title.Text, err)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("draw chart %q: %w", p.Title.Text, err)
	}
	b := buf.Bytes()
	if i := bytes.Index(b, []byte("<svg")); i > 0 {
		b = b[i:]
	}
	return b, nil
}

func render(p *plot.Plot, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	return svg(p)
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	return p
}

// series is one line of the throughput chart: one run and one
// scheduler/mode/persistence combination, over the number of real servers.
type series struct {
	name string
	pts  []result.Point
}

// throughputSeries groups each run's points by everything but the number
// of real servers.
func throughputSeries(runs []*result.Run) []series {
	var out []series
	for _, r := range runs {
		idx := map[string]int{}
		for _, p := range r.Points {
			v := p.Variation
			v.RealServers = 0
			key := v.Label()[len("rs=0"):]
			name := key
			if len(runs) > 1 {
				name = r.ID + key
			}
			i, ok := idx[key]
			if !ok {
				i = len(out)
				idx[key] = i
				out = append(out, series{name: name})
			}
			out[i].pts = append(out[i].pts, p)
		}
	}
	for _, s := range out {
		sort.SliceStable(s.pts, func(i, j int) bool { return s.pts[i].Variation.RealServers < s.pts[j].Variation.RealServers })
	}
	return out
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// ThroughputChart plots mean throughput against the number of active real
// servers, with 95% confidence intervals as error bars.
func ThroughputChart(runs []*result.Run) ([]byte, error) { return render(throughputPlot(runs)) }

func throughputPlot(runs []*result.Run) (*plot.Plot, error) {
	p := newPlot("Throughput vs real servers (mean, 95% CI)", "active real servers", "requests/s")
	p.Y.Min = 0
	n := 0
	for i, s := range throughputSeries(runs) {
		ep := errPoints{}
		for _, pt := range s.pts {
			t := pt.Throughput
			if t.N == 0 {
				continue
			}
			ep.XYs = append(ep.XYs, plotter.XY{X: float64(pt.Variation.RealServers), Y: t.Mean})
			ep.YErrors = append(ep.YErrors, struct{ Low, High float64 }{t.HalfWidth, t.HalfWidth})
		}
		if len(ep.XYs) == 0 {
			continue
		}
		line, points, err := plotter.NewLinePoints(ep.XYs)
		if err != nil {
			return nil, fmt.Errorf("throughput chart %s: %w", s.name, err)
		}
		bars, err := plotter.NewYErrorBars(ep)
		if err != nil {
			return nil, fmt.Errorf("throughput chart %s: %w", s.name, err)
		}
		c := plotutil.Color(i)
		line.Color, points.Color, bars.Color = c, c, c
		points.Shape = plotutil.Shape(i)
		p.Add(line, points, bars)
		p.Legend.Add(legendName(s.name), line, points)
		for _, xy := range ep.XYs {
			p.Y.Max = math.Max(p.Y.Max, xy.Y)
		}
		n++
	}
	if n == 0 {
		return nil, errNoData
	}
	p.Y.Max *= 1.25 // room for the legend
	p.X.Tick.Marker = integerTicks{}
	return p, nil
}

func legendName(s string) string {
	if s == "" {
		return "all"
	}
	if s[0] == ' ' {
		return s[1:]
	}
	return s
}

// integerTicks labels whole numbers only (counts of servers).
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for v := math.Ceil(lo); v <= hi && len(t) < 64; v++ {
		t = append(t, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return t
}

// cdfQuantiles are the percentiles drawn for a latency CDF, dense in the tail.
var cdfQuantiles = func() []float64 {
	var q []float64
	for p := 0.0; p < 90; p += 2.5 {
		q = append(q, p)
	}
	for _, tail := range []float64{10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.01, 0.001} {
		q = append(q, 100-tail)
	}
	return append(q, 100)
}()

// LatencyCDFChart plots the latency distribution of every point that has a
// histogram (built-in generator), merged over its repeats.
func LatencyCDFChart(runs []*result.Run) ([]byte, error) { return render(latencyPlot(runs)) }

func latencyPlot(runs []*result.Run) (*plot.Plot, error) {
	p := newPlot("Latency CDF (merged repeats)", "latency (ms, log)", "percentile")
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 100
	p.Legend.Top, p.Legend.Left = false, false
	n := 0
	for _, r := range runs {
		for _, pt := range r.Points {
			if pt.Histogram == "" {
				continue
			}
			h, err := load.DecodeHistogram(pt.Histogram)
			if err != nil {
				return nil, fmt.Errorf("latency chart %s %s: %w", r.ID, pt.Variation.Label(), err)
			}
			if h.TotalCount() == 0 {
				continue
			}
			xys := make(plotter.XYs, 0, len(cdfQuantiles))
			for _, q := range cdfQuantiles {
				ms := float64(h.ValueAtQuantile(q)) / 1000
				xys = append(xys, plotter.XY{X: math.Max(ms, 0.001), Y: q})
			}
			line, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("latency chart: %w", err)
			}
			line.Color = plotutil.Color(n)
			line.Dashes = plotutil.Dashes(n / 7)
			p.Add(line)
			name := pt.Variation.Label()
			if len(runs) > 1 {
				name = r.ID + " " + name
			}
			p.Legend.Add(name, line)
			n++
		}
	}
	if n == 0 {
		return nil, errNoData
	}
	return p, nil
}

// FailoverChart plots one fault's probe timeline: latency of successful
// probes, failed probes on the axis in red, and the inject/revert times.
func FailoverChart(f *result.FaultResult) ([]byte, error) { return render(failoverPlot(f)) }

func failoverPlot(f *result.FaultResult) (*plot.Plot, error) {
	if len(f.Probes) == 0 || f.During.FaultAt.IsZero() {
		return nil, errNoData
	}
	t0 := f.During.FaultAt
	p := newPlot(fmt.Sprintf("Fault %s:%s — probe timeline", f.Fault.Kind, f.Fault.Target),
		"time since fault injection (s)", "probe latency (ms)")
	var ok, failed plotter.XYs
	maxY := 1.0
	for _, pr := range f.Probes {
		x := pr.At.Sub(t0).Seconds()
		if pr.OK {
			ok = append(ok, plotter.XY{X: x, Y: pr.LatencyMs})
			maxY = math.Max(maxY, pr.LatencyMs)
		} else {
			failed = append(failed, plotter.XY{X: x, Y: 0})
		}
	}
	p.Y.Min, p.Y.Max = 0, maxY*1.3
	if len(ok) > 0 {
		s, err := plotter.NewScatter(ok)
		if err != nil {
			return nil, fmt.Errorf("failover chart: %w", err)
		}
		s.Color = plotutil.Color(2) // blue
		s.Shape = draw.CircleGlyph{}
		s.Radius = vg.Points(1.5)
		p.Add(s)
		p.Legend.Add("ok", s)
	}
	if len(failed) > 0 {
		s, err := plotter.NewScatter(failed)
		if err != nil {
			return nil, fmt.Errorf("failover chart: %w", err)
		}
		s.Color = color.RGBA{R: 0xd0, A: 0xff}
		s.Shape = draw.CrossGlyph{}
		s.Radius = vg.Points(3)
		p.Add(s)
		p.Legend.Add("failed", s)
	}
	for i, ev := range f.Events {
		x := ev.At().Sub(t0).Seconds()
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: maxY * 1.3}})
		if err != nil {
			return nil, fmt.Errorf("failover chart: %w", err)
		}
		l.Color = plotutil.Color(4 - 3*(i%2)) // inject orange, revert green
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
		p.Legend.Add(ev.Name, l)
	}
	return p, nil
}
