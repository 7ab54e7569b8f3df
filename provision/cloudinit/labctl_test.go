package cloudinit

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
)

// TestLabctlFilesGolden pins the first-boot files of the test seed (one
// golden file, each seed file under a "== name ==" header).
func TestLabctlFilesGolden(t *testing.T) {
	f, err := Render(testSeed(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, e := range f.Labctl {
		fmt.Fprintf(&b, "== %s ==\n%s", e.Name, e.Data)
	}
	golden(t, "web-1.labctl", b.Bytes())
}

// TestLabctlFileNames: the names must survive ISO 9660 level 1 as they are.
func TestLabctlFileNames(t *testing.T) {
	s := testSeed(t)
	for i := 0; i < 12; i++ {
		s.Files = append(s.Files, File{Path: fmt.Sprintf("/etc/f%d", i)})
	}
	f, err := Render(s)
	if err != nil {
		t.Fatal(err)
	}
	ok := regexp.MustCompile(`^[a-z0-9_]{1,12}(\.[a-z]{1,8})?$`)
	seen := map[string]bool{}
	for _, e := range f.Labctl {
		if !ok.MatchString(e.Name) || seen[e.Name] {
			t.Errorf("seed file name %q: not ISO-safe or duplicate", e.Name)
		}
		seen[e.Name] = true
	}
}
