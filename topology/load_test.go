package topology

import (
	"os"
	"testing"
)

// Finding a lab's files and reading several of them.

func TestResolvePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if p, err := ResolvePath(""); err != nil || p != "." {
		t.Errorf("no lab.hcl: %q %v", p, err)
	}
	if err := os.WriteFile("lab.hcl", []byte(`lab "x" {}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err := ResolvePath(""); err != nil || p != "lab.hcl" {
		t.Errorf("with lab.hcl: %q %v", p, err)
	}
	if _, err := ResolvePath("missing"); err == nil {
		t.Errorf("missing path: no error")
	}
}

func TestMultiFileLabAndDiagnosticOrder(t *testing.T) {
	srcs := map[string][]byte{
		"b.hcl": []byte("vm \"a\" {\n  memory = 256\n}\n"),
		"a.hcl": []byte("lab \"t\" {\n  accel = \"fast\"\n}\nnetwork \"n\" { cidr = \"10.0.0.0/24\" }\n"),
	}
	lab, files, diags := LoadSource(srcs, LoadOptions{})
	if lab != nil || len(files) != 2 || len(diags) != 2 {
		t.Fatalf("lab=%v files=%d diags=%v", lab != nil, len(files), diags)
	}
	if diags[0].Subject.Filename != "a.hcl" || diags[1].Subject.Filename != "b.hcl" {
		t.Errorf("diagnostics not sorted by file: %v", diags)
	}
}
