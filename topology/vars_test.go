package topology

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVarsOverrideDefaults(t *testing.T) {
	lab := loadLab(t, "lvs-nat-ha", LoadOptions{Vars: map[string]string{"web_count": "2"}})
	if len(lab.LVS[0].Backends) != 2 {
		t.Errorf("backends = %d, want 2", len(lab.LVS[0].Backends))
	}
	dir := t.TempDir()
	vf := filepath.Join(dir, "small.hcl")
	if err := os.WriteFile(vf, []byte("web_count = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lab = loadLab(t, "lvs-nat-ha", LoadOptions{VarFiles: []string{vf}})
	for _, e := range lab.Experiments {
		if e.Name == "scaling_ab" && !reflect.DeepEqual(e.RealServers, []int{1}) {
			t.Errorf("real_servers = %v, want [1]", e.RealServers)
		}
	}
	bad := filepath.Join(dir, "bad.hcl")
	if err := os.WriteFile(bad, []byte("web_count = \"three\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, diags := Load(filepath.Join("..", "labs", "lvs-nat-ha"), LoadOptions{VarFiles: []string{bad}})
	if !diags.HasErrors() || diags[0].Summary != "Invalid value for variable" || diags[0].Subject.Filename != bad {
		t.Errorf("bad var file: %v", diags)
	}
	_, _, diags = Load(filepath.Join("..", "labs", "lvs-nat-ha"), LoadOptions{Vars: map[string]string{"web_cuont": "1"}})
	if !strings.Contains(diags.Error(), `Did you mean "web_count"?`) {
		t.Errorf("undeclared -var: %v", diags)
	}
}

func TestParseVarValue(t *testing.T) {
	for in, want := range map[string]string{"3": "cty.NumberIntVal(3)", "true": "cty.True", "bookworm-cloud": `cty.StringVal("bookworm-cloud")`, `["a"]`: `cty.TupleVal([]cty.Value{cty.StringVal("a")})`} {
		if got := parseVarValue(in).GoString(); got != want {
			t.Errorf("parseVarValue(%q) = %s, want %s", in, got, want)
		}
	}
}
