package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes labctl with args and returns exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), IO{In: strings.NewReader(""), Out: &out, Err: &errb}, args)
	return code, out.String(), errb.String()
}

func TestValidateLabs(t *testing.T) {
	dirs, _ := filepath.Glob("../../../labs/*/lab.hcl")
	if len(dirs) < 4 {
		t.Fatalf("want at least 4 labs, found %d", len(dirs))
	}
	for _, f := range dirs {
		dir := filepath.Dir(f)
		code, out, errs := run(t, "validate", dir)
		if code != 0 {
			t.Errorf("validate %s: exit %d\n%s", dir, code, errs)
		}
		if !strings.Contains(out, "is valid") {
			t.Errorf("validate %s: stdout %q", dir, out)
		}
	}
}

func TestValidateMisspeltAttribute(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.hcl")
	src := "lab \"t\" {}\n\nnetwork \"n\" {\n  mode = \"nat\"\n  cidr = \"10.1.0.0/24\"\n}\n\nvm \"a\" {\n  memroy = \"512MiB\"\n  nic \"n\" {}\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "validate", path)
	if code == 0 {
		t.Fatal("validate accepted a misspelt attribute")
	}
	for _, want := range []string{path + ":9:3: error:", path + " line 9", `"memory"`} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

func TestValidateVarFlag(t *testing.T) {
	code, _, errs := run(t, "validate", "--var", "nonsense", "../../../labs/minimal")
	if code == 0 || !strings.Contains(errs, "NAME=VALUE") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// Terraform's single-dash -var / -var-file work like --var / --var-file.
func TestSingleDashVarFlags(t *testing.T) {
	lab := "../../../labs/lvs-nat-ha"
	varFile := filepath.Join(t.TempDir(), "two.hcl")
	if err := os.WriteFile(varFile, []byte("web_count = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, want, _ := run(t, "plan", "-o", "json", lab, "--var", "web_count=2")
	for _, args := range [][]string{{"-var", "web_count=2"}, {"-var=web_count=2"}, {"-var-file", varFile}, {"-var-file=" + varFile}} {
		code, got, errs := run(t, append([]string{"plan", "-o", "json", lab}, args...)...)
		if code != 0 || got != want {
			t.Errorf("plan %v: exit %d, same plan as --var: %v\n%s", args, code, got == want, errs)
		}
	}
	if _, full, _ := run(t, "plan", "-o", "json", lab); full == want {
		t.Error("web_count=2 did not change the plan")
	}
}
