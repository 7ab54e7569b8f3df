package app

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/topology/topologytest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedImage stands in for the image store so golden plans do not depend
// on what this machine has built.
func fixedImage(name string) (*engine.BaseImage, error) {
	return &engine.BaseImage{
		Name: name, SHA256: "5e1f0c0ffee0123456789abcdef0123456789abcdef0123456789abcdef0123",
		Disk: "/var/lib/labctl/images/" + name + "/disk.qcow2", DiskFormat: "qcow2", DiskSize: 400 << 20,
		VirtualSize: 2 << 30, Kernel: "/var/lib/labctl/images/" + name + "/vmlinuz", KernelSize: 8 << 20,
		Initrd: "/var/lib/labctl/images/" + name + "/initrd.img", InitrdSize: 4 << 20,
		Cmdline: "root=/dev/vda rw console=ttyS0",
	}, nil
}

// TestPlanGolden checks every lab in labs/ against its plan, text and JSON.
func TestPlanGolden(t *testing.T) {
	dirs, err := filepath.Glob("../../../labs/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no labs found: %v", err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			lab, _, diags := topology.Load(dir, topology.LoadOptions{})
			if diags.HasErrors() {
				t.Fatalf("load: %v", diags)
			}
			in := planInputs{Images: fixedImage, DomainType: "qemu", AccelReason: "TCG for golden files"}
			p, err := makePlan(lab, in)
			if err != nil {
				t.Fatal(err)
			}
			var text, js bytes.Buffer
			if err := p.writeText(&text); err != nil {
				t.Fatal(err)
			}
			if err := p.writeJSON(&js); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "plan", name+".txt"), text.Bytes())
			golden(t, filepath.Join("testdata", "plan", name+".json"), js.Bytes())

			// Same input, byte-identical plan.
			p2, err := makePlan(lab, in)
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := p2.writeJSON(&again); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(js.Bytes(), again.Bytes()) {
				t.Error("two plans of the same lab differ")
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// BenchmarkValidatePlanLarge is validate + plan of a generated 200-VM,
// 20-network lab (target ≤ 100 ms/op).
func BenchmarkValidatePlanLarge(b *testing.B) {
	src := map[string][]byte{"large.hcl": topologytest.LargeLab()}
	in := planInputs{Images: fixedImage, DomainType: "qemu", AccelReason: "benchmark"}
	b.ReportAllocs()
	for b.Loop() {
		lab, _, diags := topology.LoadSource(src, topology.LoadOptions{})
		if diags.HasErrors() {
			b.Fatal(diags.Error())
		}
		p, err := makePlan(lab, in)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.writeJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanShowsTheCluster runs `labctl plan` on the thesis lab: a student
// can check the VIP, the gateway VIP and the backends before `up`.
func TestPlanShowsTheCluster(t *testing.T) {
	code, out, errs := run(t, "plan", "../../../labs/lvs-nat-ha", "-o", "json")
	if code != 0 {
		t.Fatalf("plan -o json: exit %d\n%s", code, errs)
	}
	var p struct {
		Services planServices `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Services.LVS) != 1 {
		t.Fatalf("LVS services %+v", p.Services.LVS)
	}
	l := p.Services.LVS[0]
	if l.VIP != "192.168.100.200" || l.GatewayVIP != "10.0.10.200" || l.Mode != "nat" || len(l.Backends) != 3 || l.Backends[0] != (planBackend{VM: "web-1", IP: "10.0.10.110", Weight: 1}) {
		t.Errorf("LVS service %+v", l)
	}
	if len(p.Services.NFS) != 1 || p.Services.NFS[0].Mount != "/var/www/html" || len(p.Services.Experiments) != 5 {
		t.Errorf("services %+v", p.Services)
	}

	code, out, errs = run(t, "plan", "../../../labs/lvs-nat-ha")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errs)
	}
	for _, want := range []string{"VIP 192.168.100.200 port 80/tcp on external", "gateway VIP     10.0.10.200", "keepalived.conf       → /etc/keepalived/keepalived.conf"} {
		if !strings.Contains(out, want) {
			t.Errorf("text plan lacks %q", want)
		}
	}
}

// up makes copies of a lab with copies = N, so plan shows a copy.
func TestPlanOfAClassIsACopy(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join("..", "..", "..", "labs", "classroom")}, "Lab classroom-1 on "},
		{[]string{"--copy", "alice", filepath.Join("..", "..", "..", "labs", "classroom")}, "Lab classroom-alice on "},
	} {
		var out, errb bytes.Buffer
		a := &App{IO: IO{Out: &out, Err: &errb}}
		if _, _, err := execute(newPlanCmd(a), c.args...); err != nil {
			t.Fatalf("plan %v: %v\n%s", c.args, err, errb.String())
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("plan %v does not show %q:\n%.300s", c.args, c.want, out.String())
		}
	}
}
