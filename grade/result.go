package grade

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/olekukonko/tablewriter"

	"github.com/labctl/labctl/topology"
)

// Schema names the JSON of a Result; bump it when a field changes meaning.
const Schema = "labctl.grade/v1"

// Line is one scored line of the rubric.
type Line struct {
	Check    topology.GradeCheck `json:"check"`
	Title    string              `json:"title"`
	Drill    bool                `json:"drill"`
	Points   int                 `json:"points"`
	Max      int                 `json:"max"`
	OK       bool                `json:"ok"`
	Observed string              `json:"observed"`
	Hint     string              `json:"hint,omitempty"` // only on a failed line
	Seconds  float64             `json:"seconds,omitempty"`
}

// Result is the grade of one lab (one copy of a class).
type Result struct {
	Schema   string    `json:"schema"`
	Lab      string    `json:"lab"`
	Class    string    `json:"class,omitempty"`
	Copy     string    `json:"copy,omitempty"`
	Exercise string    `json:"exercise,omitempty"`
	Total    int       `json:"total"`
	Max      int       `json:"max"`
	Lines    []Line    `json:"checks"`
	At       time.Time `json:"at"`
	Seconds  float64   `json:"seconds"`
	// Error says why the lab (copy) could not be graded; it then has no
	// lines and scores 0.
	Error string `json:"error,omitempty"`
}

func (r *Result) order(rubric []Item) {
	pos := map[topology.GradeCheck]int{}
	for i, it := range rubric {
		pos[it.Check] = i
	}
	slices.SortStableFunc(r.Lines, func(a, b Line) int { return pos[a.Check] - pos[b.Check] })
}

func (r *Result) total() {
	r.Total, r.Max = 0, 0
	for _, l := range r.Lines {
		r.Total += l.Points
		r.Max += l.Max
	}
}

// Percent is the score in percent of the maximum (0 for an empty rubric).
func (r *Result) Percent() float64 {
	if r.Max == 0 {
		return 0
	}
	return 100 * float64(r.Total) / float64(r.Max)
}

// Line returns the line of check c (nil when the rubric has none).
func (r *Result) Line(c topology.GradeCheck) *Line {
	for i := range r.Lines {
		if r.Lines[i].Check == c {
			return &r.Lines[i]
		}
	}
	return nil
}

// WriteTable prints the lines, the hints of the failed ones and the total.
func (r *Result) WriteTable(w io.Writer) error {
	t := tablewriter.NewWriter(w)
	t.Header("Check", "Points", "Observed", "Hint")
	for _, l := range r.Lines {
		if err := t.Append(l.Title, fmt.Sprintf("%d/%d", l.Points, l.Max), l.Observed, l.Hint); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "lab %s: %d of %d points (%.0f %%)\n", r.Lab, r.Total, r.Max, r.Percent())
	return err
}

// WriteJSON prints r as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(r)
}
