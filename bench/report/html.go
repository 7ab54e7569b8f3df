package report

import (
	"errors"
	"fmt"
	"html/template"
	"io"

	"github.com/labctl/labctl/bench/result"
)

type chart struct {
	Title string
	SVG   template.HTML // produced by gonum/plot's SVG canvas
}

type page struct {
	Tables []table
	Charts []chart
}

// HTML writes a self-contained page: tables plus inline SVG charts, no
// external resources.
func HTML(w io.Writer, runs []*result.Run) error {
	pg := page{Tables: tables(runs)}
	add := func(title string, b []byte, err error) error {
		if errors.Is(err, errNoData) {
			return nil
		}
		if err != nil {
			return err
		}
		pg.Charts = append(pg.Charts, chart{Title: title, SVG: template.HTML(b)}) //nolint:gosec // our own SVG
		return nil
	}
	b, err := ThroughputChart(runs)
	if err := add("Throughput vs real servers", b, err); err != nil {
		return err
	}
	b, err = LatencyCDFChart(runs)
	if err := add("Latency CDF", b, err); err != nil {
		return err
	}
	for _, r := range runs {
		for i := range r.Faults {
			f := &r.Faults[i]
			b, err := FailoverChart(f)
			title := fmt.Sprintf("Failover timeline — %s — %s:%s", r.ID, f.Fault.Kind, f.Fault.Target)
			if f.Repeat > 0 {
				title += fmt.Sprintf(" — repetition %d", f.Repeat)
			}
			if err := add(title, b, err); err != nil {
				return err
			}
		}
	}
	if err := pageTmpl.Execute(w, pg); err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	return nil
}

var pageTmpl = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>labctl bench report</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f2f2f2; }
p.note { color: #555; font-size: 0.9em; }
figure { margin: 1em 0 2em; }
figcaption { font-weight: bold; margin-bottom: 0.3em; }
</style>
</head>
<body>
<h1>labctl bench report</h1>
{{range .Tables}}<h2>{{.Title}}</h2>
{{if .Note}}<p class="note">{{.Note}}</p>
{{end}}<table>
<tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{range .Charts}}<figure>
<figcaption>{{.Title}}</figcaption>
{{.SVG}}
</figure>
{{end}}</body>
</html>
`))
