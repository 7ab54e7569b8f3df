package app

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
)

// A bare --name is checked before libvirt is dialled: it names the state
// directory down deletes and prefixes the libvirt objects it removes.
func TestDownRefusesABadName(t *testing.T) {
	for _, name := range []string{"../..", "..", "Default", "a/b", "-x"} {
		code, _, errs := run(t, "down", "--connect", "test:///nonexistent", "--name="+name)
		if code == 0 || !strings.Contains(errs, "lab name") {
			t.Errorf("down --name=%s: exit %d, %q", name, code, errs)
		}
	}
}

// runDown runs `labctl down args...` against hv, with stdin not a terminal.
func runDown(t *testing.T, hv libvirt.Hypervisor, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &App{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}, Quiet: true}
	cmd := newDownCmdWith(a, func(context.Context, string) (libvirt.Hypervisor, error) { return hv, nil })
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// down takes --yes like up, and asks nothing with or without it: it
// removes the lab even though stdin is not a terminal to ask on.
func TestDownTakesYesAndAsksNothing(t *testing.T) {
	for _, yes := range [][]string{{"--yes"}, {"-y"}, nil} {
		t.Setenv(keys.EnvStateDir, t.TempDir())
		lab, _, diags := topology.Load("../../../labs/minimal", topology.LoadOptions{})
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		st, err := engine.Desired(lab, engine.Options{Images: fixedImage})
		if err != nil {
			t.Fatal(err)
		}
		hv := fake.New()
		ctx := context.Background()
		for _, n := range st.Networks {
			if err := hv.CreateNetwork(ctx, n.Def); err != nil {
				t.Fatal(err)
			}
		}
		for _, vm := range st.VMs {
			if err := hv.DefineDomain(ctx, vm.Def); err != nil {
				t.Fatal(err)
			}
		}
		out, errs, err := runDown(t, hv, append([]string{"../../../labs/minimal"}, yes...)...)
		if err != nil {
			t.Fatalf("down %v: %v\n%s", yes, err, errs)
		}
		if !strings.Contains(out, "lab minimal removed: 1 domains, 0 volumes, 2 networks") || strings.Contains(errs, "?") {
			t.Errorf("down %v: stdout %q, stderr %q", yes, out, errs)
		}
		if doms, _ := hv.ListDomains(ctx); len(doms) != 0 {
			t.Errorf("down %v left %d domains", yes, len(doms))
		}
	}
}

// Every command that deletes takes --yes and says in its help how it
// confirms; only up asks.
func TestDestructiveCommandsTakeYes(t *testing.T) {
	for _, args := range [][]string{{"up"}, {"down"}, {"image", "rm"}, {"image", "prune"}} {
		code, out, errs := run(t, append(args, "--help")...)
		if code != 0 || !strings.Contains(out, "-y, --yes") {
			t.Errorf("%v: exit %d, no -y/--yes in help:\n%s%s", args, code, out, errs)
		}
		if args[0] != "up" && !strings.Contains(out, "It asks nothing") {
			t.Errorf("%v: help does not say it asks nothing:\n%s", args, out)
		}
	}
}
