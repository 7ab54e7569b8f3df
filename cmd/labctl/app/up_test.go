package app

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/provisiontest"
)

// labctlOnFakes runs labctl args with libvirt, images and guests faked.
func labctlOnFakes(t *testing.T, hv *fake.Hypervisor, g *provisiontest.Guests, args ...string) string {
	t.Helper()
	out, err := runOnFakes(hv, g, args...)
	if err != nil {
		t.Fatalf("labctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// runOnFakes is labctlOnFakes for a run that may fail.
func runOnFakes(hv *fake.Hypervisor, g *provisiontest.Guests, args ...string) (string, error) {
	var out bytes.Buffer
	a := &App{IO: IO{In: strings.NewReader(""), Out: &out, Err: io.Discard}, Quiet: true,
		fakes: provision.OpenOptions{Connect: func(context.Context, string) (libvirt.Hypervisor, error) { return hv, nil },
			Images: provisiontest.Image, Guests: g}}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(io.Discard)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestUpStatusDownOnFakes(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(provisiontest.Lab(512)), 0o600); err != nil {
		t.Fatal(err)
	}
	hv, g := fake.New(), provisiontest.New("client", "box")
	if out := labctlOnFakes(t, hv, g, "up", dir); !strings.Contains(out, "lab sess is up: 2 VMs") || !g.Ran("client") {
		t.Errorf("first up (client configured %v):\n%s", g.Ran("client"), out)
	}
	g.Reset()
	if out := labctlOnFakes(t, hv, g, "up", dir); !strings.Contains(out, "lab sess is up to date: 2 VMs, nothing to do") || g.Ran("client") {
		t.Errorf("second up (client configured %v):\n%s", g.Ran("client"), out)
	}
	out := labctlOnFakes(t, hv, g, "status", dir)
	for _, want := range []string{"client", "box", "running"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "changed: run up") {
		t.Errorf("status after up shows a change:\n%s", out)
	}
	if out := labctlOnFakes(t, hv, g, "down", dir); !strings.Contains(out, "lab sess removed: 2 domains") {
		t.Errorf("down:\n%s", out)
	}
}
