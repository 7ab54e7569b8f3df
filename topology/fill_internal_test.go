package topology

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFillWants rewrites "# want: ?:? text" headers with the position of the
// first matching error (maintenance helper; LABCTL_FILL_WANTS=1).
func TestFillWants(t *testing.T) {
	if os.Getenv("LABCTL_FILL_WANTS") == "" {
		t.Skip("set LABCTL_FILL_WANTS=1")
	}
	re := regexp.MustCompile(`(?m)^# want: \?:\? (.+)$`)
	files, err := filepath.Glob("testdata/invalid/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(src)
		if m == nil {
			continue
		}
		text := string(m[1])
		_, _, diags := LoadSource(map[string][]byte{f: src}, LoadOptions{})
		for _, d := range diags {
			if d.Subject != nil && strings.Contains(strings.ToLower(diagText(d)), strings.ToLower(text)) {
				lines := strings.Split(string(src), "\n")
				fmt.Printf("%s %d:%d | %s | %s\n", filepath.Base(f), d.Subject.Start.Line, d.Subject.Start.Column, strings.TrimSpace(lines[d.Subject.Start.Line-1]), d.Summary)
				src = re.ReplaceAll(src, []byte(fmt.Sprintf("# want: %d:%d %s", d.Subject.Start.Line, d.Subject.Start.Column, text)))
				if err := os.WriteFile(f, src, 0o644); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
	}
}
