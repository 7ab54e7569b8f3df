package roles

import (
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// renderLab renders every file every role writes on every VM of lab, keyed
// by "<vm>/<path>".
func renderLab(t *testing.T, lab *topology.Lab) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, vm := range lab.VMs {
		for _, name := range vm.Roles {
			r := roleByName(name)
			if r == nil {
				t.Fatalf("VM %s: unknown role %q", vm.Name, name)
			}
			files, err := r.files(lab, vm)
			if err != nil {
				t.Fatalf("VM %s role %s: %v", vm.Name, name, err)
			}
			for _, f := range files {
				p := strings.ReplaceAll(f.path, " (labctl block)", ".labctl-block")
				key := vm.Name + p
				if name == topology.RoleNFSClient && strings.HasSuffix(p, "fstab.labctl-block") {
					key += "-nfs"
				}
				out[key] = f.data
			}
		}
	}
	return out
}

// checkGolden compares rendered files with testdata/golden/<dir>/…, or
// rewrites them with -update.
func checkGolden(t *testing.T, dir string, got map[string][]byte) {
	t.Helper()
	root := filepath.Join("testdata", "golden", dir)
	if *update {
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		for k, b := range got {
			p := filepath.Join(root, filepath.FromSlash(k))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if p == root && errors.Is(err, fs.ErrNotExist) {
			return nil // a lab without roles renders nothing
		}
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		want[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("read golden files (run go test -update): %v", err)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			t.Errorf("%s: golden file no longer rendered", k)
		}
	}
	for k, b := range got {
		w, ok := want[k]
		if !ok {
			t.Errorf("%s: no golden file (run go test -update)", k)
			continue
		}
		if d := cmp.Diff(string(w), string(b)); d != "" {
			t.Errorf("%s differs from golden (-want +got):\n%s", k, d)
		}
	}
}

func TestGoldenHandBuiltLabs(t *testing.T) {
	for name, lab := range rolestest.Variants() {
		t.Run(name, func(t *testing.T) { checkGolden(t, name, renderLab(t, lab)) })
	}
}

// TestGoldenLabs renders every lab in labs/ as the loader expands it.
func TestGoldenLabs(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "labs", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no labs found: %v", err)
	}
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			lab, _, diags := topology.Load(dir, topology.LoadOptions{})
			if diags.HasErrors() {
				t.Fatalf("load %s: %s", dir, diags.Error())
			}
			if lab.Exercise != nil {
				// The same cluster as another lab (its files differ by the
				// lab name in their headers): topology's
				// TestExerciseLabIsTheThesisCluster keeps the two equal.
				t.Skip("an exercise lab")
			}
			checkGolden(t, "labs/"+name, renderLab(t, lab))
		})
	}
}
