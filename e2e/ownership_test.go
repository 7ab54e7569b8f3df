//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"libvirt.org/go/libvirtxml"
)

// labOwn is a 1-VM lab; spare adds a network no VM uses (an up that changes
// only that still runs the stale-object removal, which is where earlier
// labctl deleted "leftover" volumes by name).
func labOwn(image string, spare bool) string {
	s := fmt.Sprintf(`
lab "own" {
  image = %q
}

network "int" {
  mode = "isolated"
  cidr = "10.223.0.0/24"
}

vm "box" {
  vcpus  = 1
  memory = "448MiB"
  nic "int" {
    ip = cidrhost(network.int.cidr, 10)
  }
}
`, image)
	if spare {
		s += `
network "spare" {
  mode = "isolated"
  cidr = "10.224.0.0/24"
}
`
	}
	return s
}

// TestOwnership: files and volumes labctl did not create survive up and
// down, a pool directory holding files is refused, and two owners run the
// same lab file side by side, each down removing only its own copy.
// 2 VMs under TCG: about 5–10 minutes.
func TestOwnership(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	l := writeLab(t, "own", labOwn(e.image, false))
	downAll := func(c context.Context) {
		for _, o := range []string{"alice", "bob"} {
			_, _ = labctl(t, c, "down", "--name", "own", "--owner", o, "--force")
		}
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_ = e.hv.DeleteVolume(c, "own-alice", "own-alice.x")
		downAll(c)
	})
	downAll(ctx)
	outer := t // cleanups that must wait for the last subtest

	t.Run("a pool_path that holds files is refused before anything is made", func(t *testing.T) {
		home := t.TempDir()
		thesis := filepath.Join(home, "thesis.pdf")
		if err := os.WriteFile(thesis, []byte("years of work"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := writeLab(t, "ownp", strings.Replace(labOwn(e.image, false), `lab "own" {`, fmt.Sprintf("lab \"ownp\" {\n  pool_path = %q", home), 1))
		out, err := labctl(t, ctx, "up", "--yes", p.dir)
		if err == nil {
			t.Fatalf("up into %s succeeded:\n%s", home, out)
		}
		if _, err := e.hv.Pool(ctx, "ownp"); err == nil {
			t.Error("up defined pool ownp before refusing")
		}
		if live := owned(t, "ownp"); live.Owned() != 0 {
			t.Errorf("refused up left %d objects", live.Owned())
		}
		if b, err := os.ReadFile(thesis); err != nil || string(b) != "years of work" {
			t.Errorf("thesis.pdf: %q, %v", b, err)
		}
	})

	var thesis string
	t.Run("alice and bob bring up the same lab file side by side", func(t *testing.T) {
		for _, o := range []string{"alice", "bob"} {
			res := upOwner(t, ctx, l, o)
			if len(res.VMs) != 1 || res.VMs[0].Action != engine.ActCreate {
				t.Fatalf("up --owner %s: %+v", o, res)
			}
			if o == "alice" {
				// Someone's file in alice's pool directory, and a volume
				// named like hers that labctl did not create.
				pool, err := e.hv.Pool(ctx, "own-alice")
				if err != nil {
					t.Fatal(err)
				}
				thesis = filepath.Join(pool.Path, "thesis.pdf")
				if err := os.WriteFile(thesis, []byte("years of work"), 0o644); err != nil {
					t.Fatal(err)
				}
				outer.Cleanup(func() { os.Remove(thesis) })
				v := &libvirtxml.StorageVolume{Name: "own-alice.x", Capacity: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 1 << 20},
					Target: &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}}
				if _, err := e.hv.CreateVolume(ctx, "own-alice", v, nil, 0); err != nil {
					t.Fatal(err)
				}
			}
		}
		subnets := map[string]bool{}
		for _, o := range []string{"alice", "bob"} {
			live := owned(t, "own-"+o)
			d, ok := live.Domains["own-"+o+"-box"]
			if !ok || d.Meta.Owner != o || len(live.Networks) != 2 {
				t.Errorf("own-%s: domains %v, networks %d, owner %q", o, mapKeys(live.Domains), len(live.Networks), metaOwner(d))
			}
			if m, ok := live.Networks["own-"+o+"-mgmt"]; ok && len(m.Def.IPs) > 0 {
				subnets[m.Def.IPs[0].Address] = true
			}
		}
		if len(subnets) != 2 {
			t.Errorf("management subnets %v: want one per owner", subnets)
		}
	})

	t.Run("up and down leave what labctl did not create", func(t *testing.T) {
		l.rewrite(t, labOwn(e.image, true))
		res := upOwner(t, ctx, l, "alice")
		if res.NoOp {
			t.Fatal("adding a network was a no-op")
		}
		assertForeign(t, ctx, thesis)

		// Someone else (dave, via sudo) may not remove alice's copy.
		cmd := labctlCmd(ctx, "down", "--name", "own-alice")
		cmd.Env = append(cmd.Env, "SUDO_USER=dave")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), `held by owner "alice"`) {
			t.Errorf("dave's down: %v\n%s", err, out)
		}
		if len(owned(t, "own-alice").Domains) != 1 {
			t.Fatal("dave's refused down removed alice's VM")
		}

		mustLabctl(t, ctx, "down", "--owner", "bob", l.dir)
		assertGone(t, "own-bob", false)
		if live := owned(t, "own-alice"); len(live.Domains) != 1 || len(live.Networks) != 3 {
			t.Fatalf("bob's down changed alice's lab: domains %v, %d networks", mapKeys(live.Domains), len(live.Networks))
		}

		mustLabctl(t, ctx, "down", "--owner", "alice", l.dir)
		assertGone(t, "own-alice", true) // the foreign file and volume keep it
		assertForeign(t, ctx, thesis)
	})
}

func upOwner(t *testing.T, ctx context.Context, l *lab, owner string) engine.UpResult {
	t.Helper()
	out := mustLabctl(t, ctx, "up", "--yes", "--owner", owner, "--timeout", "15m", "-o", "json", l.dir)
	var res engine.UpResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("up output is not JSON: %v\n%s", err, out)
	}
	return res
}

// assertForeign checks that thesis.pdf and the volume own-alice.x are intact.
func assertForeign(t *testing.T, ctx context.Context, thesis string) {
	t.Helper()
	if b, err := os.ReadFile(thesis); err != nil || !bytes.Equal(b, []byte("years of work")) {
		t.Errorf("%s: %q, %v", thesis, b, err)
	}
	vols, err := e.hv.ListVolumes(ctx, "own-alice")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vols {
		names = append(names, v.Name)
	}
	if !strings.Contains(" "+strings.Join(names, " ")+" ", " own-alice.x ") {
		t.Errorf("volume own-alice.x is gone; pool own-alice holds %v", names)
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func metaOwner(d libvirt.Domain) string {
	if d.Meta == nil {
		return ""
	}
	return d.Meta.Owner
}
