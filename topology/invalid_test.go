package topology

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// want is one expected diagnostic: "# want: LINE:COL substring" at the top
// of a testdata/invalid file. A file that also has the line "# no other
// errors" fails on any error no want matches (a follow-on error).
type want struct {
	line, col int
	text      string
}

var wantRe = regexp.MustCompile(`^# want: (\d+):(\d+) (.+)$`)

func readWants(t *testing.T, src []byte) []want {
	t.Helper()
	var ws []want
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		m := wantRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var w want
		fmt.Sscan(m[1], &w.line)
		fmt.Sscan(m[2], &w.col)
		w.text = m[3]
		ws = append(ws, w)
	}
	return ws
}

func diagText(d *hcl.Diagnostic) string { return d.Summary + "; " + d.Detail }

func TestInvalidCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("error corpus has %d files, want at least 30", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".hcl"), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			lab, _, diags := LoadSource(map[string][]byte{f: src}, LoadOptions{})
			if lab != nil || !diags.HasErrors() {
				t.Fatalf("loaded without errors; want a diagnostic")
			}
			ws := readWants(t, src)
			if len(ws) == 0 {
				t.Fatalf("no '# want: L:C text' header")
			}
			matched := map[*hcl.Diagnostic]bool{}
			for _, w := range ws {
				found := false
				for _, d := range diags {
					if d.Severity != hcl.DiagError || d.Subject == nil {
						continue
					}
					if d.Subject.Start.Line == w.line && d.Subject.Start.Column == w.col &&
						strings.Contains(strings.ToLower(diagText(d)), strings.ToLower(w.text)) {
						found = true
						matched[d] = true
					}
				}
				if !found {
					var got []string
					for _, d := range diags {
						pos := "-"
						if d.Subject != nil {
							pos = fmt.Sprintf("%d:%d", d.Subject.Start.Line, d.Subject.Start.Column)
						}
						got = append(got, pos+" "+diagText(d))
					}
					t.Errorf("want %d:%d %q; got:\n  %s", w.line, w.col, w.text, strings.Join(got, "\n  "))
				}
			}
			if bytes.Contains(src, []byte("\n# no other errors\n")) {
				for _, d := range diags {
					if d.Severity == hcl.DiagError && !matched[d] {
						t.Errorf("follow-on error: %s", diagText(d))
					}
				}
			}
		})
	}
}
