package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labctl/labctl/bench/testbed/testbedtest"
	"github.com/labctl/labctl/grade"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

// grade on a simulated lab: JSON with the schema, a score whatever it is
// (the simulation answers only what bench needs, so verify fails some
// checks), exit 0, and the gradebook files.
func TestGradeCmdScoresAndWritesTheGradebook(t *testing.T) {
	s := testbedtest.New(rolestest.ThesisLab(topology.LVSNAT))
	defer s.Close()
	book := filepath.Join(t.TempDir(), "grades")
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	_, _, err := execute(gradeCmd(a, simOpener(s), fakeAgent), "-o", "json", "--no-drills", "--gradebook", book)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var res grade.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Schema != grade.Schema || res.Max == 0 {
		t.Fatalf("grade -o json: %v %+v\n%s", err, res, out.String())
	}
	for _, l := range res.Lines {
		if l.Drill && l.Observed != "not run (--no-drills)" {
			t.Errorf("drill %s with --no-drills: %q", l.Check, l.Observed)
		}
	}
	csv, err := os.ReadFile(filepath.Join(book, "grades.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "copy,lab,total,max,percent,directors,") {
		t.Errorf("grades.csv: %v %q", err, csv)
	}
	if html, err := os.ReadFile(filepath.Join(book, "grades.html")); err != nil || !strings.Contains(string(html), "<table>") {
		t.Errorf("grades.html: %v", err)
	}
}
