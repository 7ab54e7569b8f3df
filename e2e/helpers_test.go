//go:build e2e

// The e2e tests drive the real labctl binary against real libvirt and QEMU
// inside the sandbox network namespace (sandbox/setup.sh, sandbox/run.sh)
// and asserts the outcome through libvirt itself.
//
//	sandbox/setup.sh
//	sandbox/run.sh go test -tags e2e -v -timeout 50m ./e2e/...
//
// Environment: LABCTL_SANDBOX (set by sandbox/run.sh; tests skip without
// it), LABCTL_E2E_IMAGE (base image name, default bookworm-cloud),
// LABCTL_IMAGE_DIR (image store, default labctl's) and LABCTL_BIN (a built
// labctl; default: go build).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
)

// env is shared by every test of the package.
type env struct {
	bin      string // built labctl
	image    string
	stateDir string
	hv       *libvirt.Conn
}

var e *env

func TestMain(m *testing.M) {
	if os.Getenv("LABCTL_SANDBOX") == "" {
		fmt.Println("e2e: skipped: not inside the labctl sandbox (run sandbox/setup.sh, then sandbox/run.sh go test -tags e2e ./e2e/...)")
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	tmp, err := os.MkdirTemp("", "labctl-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	e = &env{bin: filepath.Join(tmp, "labctl"), stateDir: filepath.Join(tmp, "state"), image: os.Getenv("LABCTL_E2E_IMAGE")}
	if e.image == "" {
		e.image = "bookworm-cloud"
	}
	if _, err := image.DefaultStore().Get(e.image); err != nil {
		fmt.Printf("e2e: skipped: base image %q: %v (build it with `labctl image build`, or set LABCTL_E2E_IMAGE/LABCTL_IMAGE_DIR)\n", e.image, err)
		return 0, nil
	}
	// sandbox/e2e.sh builds labctl outside the namespace (no module proxy
	// inside) and passes it in LABCTL_BIN; otherwise build it here.
	if bin := os.Getenv("LABCTL_BIN"); bin != "" {
		e.bin = bin
	} else {
		build := exec.Command("go", "build", "-o", e.bin, "github.com/labctl/labctl/cmd/labctl")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			return 1, fmt.Errorf("build labctl: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if e.hv, err = libvirt.Dial(ctx, ""); err != nil {
		return 1, err
	}
	defer e.hv.Close()
	return m.Run(), nil
}

// lab is one generated lab directory.
type lab struct {
	name string
	dir  string
}

func writeLab(t *testing.T, name, hcl string) *lab {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lab.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return &lab{name: name, dir: dir}
}

func (l *lab) rewrite(t *testing.T, hcl string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(l.dir, "lab.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
}

// labctl runs the binary and returns stdout; stderr goes to the test log.
func labctl(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	cmd := labctlCmd(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("labctl %s (%.1fs)\n%s%s", strings.Join(args, " "), time.Since(start).Seconds(), indent(errb.String()), indent(out.String()))
	return out.String(), err
}

func labctlCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Env = append(os.Environ(), "LABCTL_STATE_DIR="+e.stateDir)
	return cmd
}

func mustLabctl(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := labctl(t, ctx, args...)
	if err != nil {
		t.Fatalf("labctl %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "    | " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    | ") + "\n"
}

// up runs `labctl up --yes -o json` and decodes the result.
func up(t *testing.T, ctx context.Context, l *lab) engine.UpResult {
	t.Helper()
	out := mustLabctl(t, ctx, "up", "--yes", "--timeout", "15m", "-o", "json", l.dir)
	var res engine.UpResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("up output is not JSON: %v\n%s", err, out)
	}
	return res
}

// owned lists what libvirt says lab owns.
func owned(t *testing.T, name string) *engine.Live {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	live, err := engine.Observe(ctx, e.hv, name, name)
	if err != nil {
		t.Fatal(err)
	}
	return live
}

// uuids maps VM name to domain UUID (a recreated domain gets a new one).
func uuids(t *testing.T, name string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range owned(t, name).Domains {
		out[d.Meta.Object] = d.Def.UUID
	}
	return out
}

// assertGone checks through libvirt that lab owns nothing and that no
// QEMU process of it is left. keepPool: the lab's pool must survive
// (it holds a volume the lab does not own).
func assertGone(t *testing.T, name string, keepPool bool) {
	t.Helper()
	live := owned(t, name)
	if live.Owned() != 0 {
		t.Errorf("lab %s still owns %d domains, %d networks, %d volumes", name, len(live.Domains), len(live.Networks), len(live.Volumes))
	}
	if (live.Pool != nil) != keepPool {
		t.Errorf("lab %s: pool defined = %v, want %v", name, live.Pool != nil, keepPool)
	}
	if out, _ := exec.Command("pgrep", "-f", "guest="+name+"-").Output(); len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("QEMU processes of lab %s left: %s", name, out)
	}
}
