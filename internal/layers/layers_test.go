// Package layers holds the test that keeps labctl's imports running one
// way: down the layers listed in README.md ("Layout").
package layers

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/labctl/labctl"

// layer of every package, by path prefix (longest match wins). A package
// may import only packages of its own or a lower layer; nothing imports cmd/.
var layers = []struct {
	prefix string
	rank   int
}{
	{"internal/version", 0}, {"templates", 0}, {"topology", 0}, // the language and embedded files
	{"provision/ssh", 1}, {"provision/guestout", 1}, {"provision/keys", 1}, // the guest side
	{"provision/cloudinit", 1}, {"provision/roles", 1},
	{"provision", 2}, {"provision/engine", 2}, {"image", 2}, // the Session that opens a lab, the libvirt engine, base images
	{"provision/doctor", 2}, {"provision/provisiontest", 2}, // host checks; fake guests for Session tests
	{"verify", 3}, {"bench", 3}, {"grade", 3}, // checks, experiments and grades of a running lab
	{"cmd", 4}, {"docs", 4}, // the CLI; the docs' example tests
}

func rank(pkg string) (int, bool) {
	best, r := -1, 0
	for _, l := range layers {
		if (pkg == l.prefix || strings.HasPrefix(pkg, l.prefix+"/")) && len(l.prefix) > best {
			best, r = len(l.prefix), l.rank
		}
	}
	return r, best >= 0
}

func TestImportsRunDownTheLayers(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(f[0], module), "/")
		if pkg == "e2e" || pkg == "internal/layers" {
			continue
		}
		seen++
		from, ok := rank(pkg)
		if !ok {
			t.Errorf("%s has no layer: add it to layers (and to README's Layout)", pkg)
			continue
		}
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			to, ok := rank(dep)
			switch {
			case !ok:
				t.Errorf("%s imports %s, which has no layer", pkg, dep)
			case strings.HasPrefix(dep, "cmd/") && !strings.HasPrefix(pkg, "cmd/"):
				t.Errorf("%s imports %s: nothing imports the CLI", pkg, dep)
			case to > from:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must run down the layers", pkg, from, dep, to)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list found only %d packages", seen)
	}
}

func TestRank(t *testing.T) {
	for pkg, want := range map[string]int{"provision": 2, "provision/roles/rolestest": 1, "provision/libvirt/fake": 2, "bench/testbed": 3, "cmd/labctl/app": 4} {
		if got, ok := rank(pkg); !ok || got != want {
			t.Errorf("rank(%s) = %d, %v; want %d", pkg, got, ok, want)
		}
	}
}
