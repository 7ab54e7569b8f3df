package topology

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary sources to the loader: it must never panic, must
// stay within the time and memory bound per input, must return a lab exactly
// when there are no errors, and must be deterministic. The corpus in
// testdata/invalid (every input check) is part of the seeds.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../labs/*/*.hcl")
	inv, _ := filepath.Glob("testdata/invalid/*.hcl")
	for _, s := range append(seeds, inv...) {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	// null inside lists and maps once panicked (value is null).
	for _, attr := range []string{
		`vm "a" { roles = [null] }`,
		`vm "a" { roles = [true ? null : "web"] }`,
		`nfs "x" { options = [null] }`,
		`nfs "x" { mount_options = ["hard", null] }`,
		`nfs "x" { clients = [null] }`,
		`lvs "x" { weights = { "w" = null } }`,
		`experiment "x" { real_servers = [null] }`,
		`experiment "x" { schedulers = [null] }`,
		`variable "v" { default = [null] }` + "\n" + `vm "a" { roles = var.v }`,
		`vm "a" { count = null }`,
		`vm "a" { from = vm.b[null] }`,
	} {
		f.Add([]byte("lab \"t\" {}\n" + attr + "\n"))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		in := map[string][]byte{"fuzz.hcl": src}
		d, alloc, lab, files, diags := measureLoad(in)
		if d > loadTimeBound || alloc > loadAllocBound {
			t.Fatalf("one load took %v and allocated %d MiB; bound %v and %d MiB", d, alloc>>20, loadTimeBound, loadAllocBound>>20)
		}
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
