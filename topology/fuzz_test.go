package topology

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary sources to the loader: it must never panic, must
// return a lab exactly when there are no errors, and must be deterministic.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../labs/*/*.hcl")
	inv, _ := filepath.Glob("testdata/invalid/*.hcl")
	for _, s := range append(seeds, inv...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in := map[string][]byte{"fuzz.hcl": src}
		lab, files, diags := LoadSource(in, LoadOptions{})
		if diags.HasErrors() != (lab == nil) {
			t.Fatalf("lab nil = %v but HasErrors = %v", lab == nil, diags.HasErrors())
		}
		if files["fuzz.hcl"] == nil {
			t.Fatalf("parsed file missing from files")
		}
		again, _, diags2 := LoadSource(in, LoadOptions{})
		if len(diags) != len(diags2) || (lab == nil) != (again == nil) {
			t.Fatalf("second load differs: %d vs %d diagnostics", len(diags), len(diags2))
		}
	})
}
