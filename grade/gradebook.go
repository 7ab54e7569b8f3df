package grade

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
)

// GradebookSchema names the JSON of a Gradebook.
const GradebookSchema = "labctl.gradebook/v1"

// Gradebook is the grades of every copy of a class, one row per copy.
type Gradebook struct {
	Schema  string    `json:"schema"` // GradebookSchema
	Class   string    `json:"class"`
	Results []*Result `json:"copies"`
}

// checks are the rubric lines of any row, in rubric order.
func (b *Gradebook) checks() []Line {
	var out []Line
	for _, it := range items {
		for _, r := range b.Results {
			if l := r.Line(it.Check); l != nil {
				out = append(out, Line{Check: l.Check, Title: l.Title, Max: l.Max})
				break
			}
		}
	}
	return out
}

// WriteCSV writes one row per copy: copy, total, max, percent, then the
// points of each check, and why a copy could not be graded.
func (b *Gradebook) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cols := b.checks()
	head := []string{"copy", "lab", "total", "max", "percent"}
	for _, c := range cols {
		head = append(head, string(c.Check))
	}
	head = append(head, "error")
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range b.Results {
		row := []string{r.Copy, r.Lab, strconv.Itoa(r.Total), strconv.Itoa(r.Max), fmt.Sprintf("%.1f", r.Percent())}
		for _, c := range cols {
			cell := ""
			if l := r.Line(c.Check); l != nil {
				cell = strconv.Itoa(l.Points)
			}
			row = append(row, cell)
		}
		row = append(row, r.Error)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteHTML writes a self-contained page: one row per copy, one column per
// check, what was observed and the hint on hover.
func (b *Gradebook) WriteHTML(w io.Writer) error {
	type cell struct {
		Text, Title string
		OK, Missing bool
	}
	type row struct {
		Copy, Lab, Total string
		Cells            []cell
	}
	cols := b.checks()
	var rows []row
	for _, r := range b.Results {
		rw := row{Copy: r.Copy, Lab: r.Lab, Total: fmt.Sprintf("%d/%d (%.0f %%)", r.Total, r.Max, r.Percent())}
		if r.Error != "" {
			rw.Total = "not graded"
			rw.Lab = r.Error
		}
		for _, c := range cols {
			l := r.Line(c.Check)
			if l == nil {
				rw.Cells = append(rw.Cells, cell{Text: "–", Missing: true})
				continue
			}
			title := l.Observed
			if l.Hint != "" {
				title += "\nHint: " + l.Hint
			}
			rw.Cells = append(rw.Cells, cell{Text: fmt.Sprintf("%d/%d", l.Points, l.Max), Title: title, OK: l.OK})
		}
		rows = append(rows, rw)
	}
	return gradebookPage.Execute(w, map[string]any{"Class": b.Class, "Cols": cols, "Rows": rows})
}

var gradebookPage = template.Must(template.New("gradebook").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gradebook {{.Class}}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { border: 1px solid #999; padding: 0.3em 0.6em; text-align: center; }
th.check { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; }
td.ok { background: #d8f0d8; }
td.fail { background: #f6d5d5; }
td.name { text-align: left; }
</style>
</head>
<body>
<h1>Gradebook: {{.Class}}</h1>
<p>Hover over a cell for what labctl grade observed and, when it failed, the hint.</p>
<table>
<tr><th>Copy</th><th>Total</th>{{range .Cols}}<th class="check" title="{{.Title}}">{{.Check}} ({{.Max}})</th>{{end}}</tr>
{{range .Rows}}<tr><td class="name">{{.Copy}}<br><small>{{.Lab}}</small></td><td>{{.Total}}</td>{{range .Cells}}<td class="{{if .Missing}}{{else if .OK}}ok{{else}}fail{{end}}" title="{{.Title}}">{{.Text}}</td>{{end}}</tr>
{{end}}</table>
</body>
</html>
`))

// Sort orders the rows by copy name.
func (b *Gradebook) Sort() {
	slices.SortFunc(b.Results, func(x, y *Result) int { return strings.Compare(x.Copy, y.Copy) })
}
