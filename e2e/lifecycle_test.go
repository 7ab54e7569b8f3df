//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"libvirt.org/go/libvirtxml"
)

// labA is the 3-VM lab of the acceptance criteria: a nat and an isolated
// network (plus labctl's management network), and "storage" with 5 data
// disks. memNode2 lets a test change one VM.
func labA(image string, memNode2 int) string {
	return fmt.Sprintf(`
lab "e2ea" {
  accel = "auto"
  image = %q
}

network "ext" {
  mode = "nat"
  cidr = "10.201.0.0/24"
  mtu  = 1400
}

network "int" {
  mode = "isolated"
  cidr = "10.202.0.0/24"
}

vm "node" {
  count  = 2
  vcpus  = 1
  memory = count.index == 1 ? "%dMiB" : "448MiB"
  nic "ext" {
    ip      = cidrhost(network.ext.cidr, 10 + count.index)
    gateway = network.ext.host_ip
  }
  nic "int" {
    ip = cidrhost(network.int.cidr, 10 + count.index)
  }
}

vm "storage" {
  vcpus  = 1
  memory = "448MiB"
  nic "int" {
    ip = cidrhost(network.int.cidr, 100)
  }
  disk "d0" { size = "64MiB" }
  disk "d1" { size = "64MiB" }
  disk "d2" { size = "64MiB" }
  disk "d3" { size = "64MiB" }
  disk "d4" { size = "64MiB" }
}
`, image, memNode2)
}

// labB is a 1-VM lab whose network and VM names equal labA's.
func labB(image string) string {
	return fmt.Sprintf(`
lab "e2eb" {
  image = %q
}

network "int" {
  mode = "isolated"
  cidr = "10.212.0.0/24"
}

vm "node" {
  vcpus  = 1
  memory = "448MiB"
  nic "int" {
    ip = cidrhost(network.int.cidr, 10)
  }
}
`, image)
}

// TestLifecycle walks the acceptance criteria in order, on real libvirt.
func TestLifecycle(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	a := writeLab(t, "e2ea", labA(e.image, 448))
	b := writeLab(t, "e2eb", labB(e.image))
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, _ = labctl(t, c, "down", "--name", "e2ea")
		_, _ = labctl(t, c, "down", "--name", "e2eb")
	})
	// Leftovers of an earlier aborted run would make "fresh up" untrue.
	mustLabctl(t, ctx, "down", "--name", "e2ea")
	mustLabctl(t, ctx, "down", "--name", "e2eb")

	// Foreign objects labctl must leave alone: a network, and volumes in the
	// shared base pool and (after up) in the lab's own pool.
	foreignNet := &libvirtxml.Network{Name: "e2e-foreign", Bridge: &libvirtxml.NetworkBridge{Name: "e2eforeign0"}}
	if err := e.hv.CreateNetwork(ctx, foreignNet); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.hv.DeleteNetwork(context.Background(), "e2e-foreign") })
	foreignVol := func(pool, name string) {
		t.Helper()
		v := &libvirtxml.StorageVolume{Name: name, Capacity: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: 1 << 20},
			Target: &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "raw"}}}
		if _, err := e.hv.CreateVolume(ctx, pool, v, nil, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.hv.DeleteVolume(context.Background(), pool, name) })
	}
	if _, err := e.hv.EnsurePool(ctx, &libvirtxml.StoragePool{Type: "dir", Name: engine.BasePool,
		Target: &libvirtxml.StoragePoolTarget{Path: "/var/lib/libvirt/images/" + engine.BasePool}}); err != nil {
		t.Fatal(err)
	}
	foreignVol(engine.BasePool, "e2e-foreign.raw")

	var first map[string]string
	t.Run("up creates the 3-VM lab", func(t *testing.T) {
		res := up(t, ctx, a)
		if res.NoOp || len(res.VMs) != 3 {
			t.Fatalf("up result: %+v", res)
		}
		for _, vm := range res.VMs {
			if vm.Action != engine.ActCreate || vm.BootSeconds <= 0 {
				t.Errorf("%s: action %s, boot %.1fs", vm.Name, vm.Action, vm.BootSeconds)
			}
			t.Logf("FIGURE up-3vm boot-to-ssh %s %.1fs", vm.Name, vm.BootSeconds)
		}
		t.Logf("FIGURE up-3vm wall %.1fs", res.Seconds)
		live := owned(t, "e2ea")
		if len(live.Domains) != 3 || len(live.Networks) != 3 || len(live.Volumes) != 11 {
			t.Errorf("libvirt has %d domains, %d networks, %d volumes of e2ea; want 3, 3, 11",
				len(live.Domains), len(live.Networks), len(live.Volumes))
		}
		for name, d := range live.Domains {
			if d.State != "running" || d.Def.Type != "qemu" {
				t.Errorf("domain %s: %s %s", name, d.State, d.Def.Type)
			}
		}
		if n := live.Networks["e2ea-ext"]; n.Def == nil || n.Def.Forward == nil || n.Def.Forward.Mode != "nat" || n.Def.MTU == nil || n.Def.MTU.Size != 1400 {
			t.Errorf("e2ea-ext is not a nat network with MTU 1400: %+v", n.Def)
		}
		if n := live.Networks["e2ea-int"]; n.Def == nil || n.Def.Forward != nil {
			t.Errorf("e2ea-int is not isolated: %+v", n.Def)
		}
		for _, v := range live.Volumes {
			if strings.HasSuffix(v.Name, ".root.qcow2") && !strings.Contains(v.Backing, "/"+engine.BasePool+"/") {
				t.Errorf("%s is not a linked clone of a base volume: backing %q", v.Name, v.Backing)
			}
		}
		first = uuids(t, "e2ea")
	})
	if t.Failed() {
		return
	}
	foreignVol("e2ea", "someone-elses.raw")

	t.Run("each VM has its static IPs and disks over pinned SSH", func(t *testing.T) {
		want := map[string][]string{
			"node-1":  {"10.201.0.10/24", "10.202.0.10/24"},
			"node-2":  {"10.201.0.11/24", "10.202.0.11/24"},
			"storage": {"10.202.0.100/24"},
		}
		for vm, ips := range want {
			out := mustLabctl(t, ctx, "ssh", "-l", a.dir, vm, "--", "hostname; ip -o -4 addr show; lsblk -dn -o NAME,SIZE,SERIAL")
			if !strings.HasPrefix(out, vm+"\n") {
				t.Errorf("%s: hostname line is %q", vm, strings.SplitN(out, "\n", 2)[0])
			}
			for _, ip := range ips {
				if !strings.Contains(out, " "+ip+" ") {
					t.Errorf("%s lacks address %s:\n%s", vm, ip, out)
				}
			}
			disks := regexp.MustCompile(`(?m)^vd[b-z]\s+64M\s+lc-storage-d\d$`).FindAllString(out, -1)
			if vm == "storage" && len(disks) != 5 {
				t.Errorf("storage sees %d data disks, want 5:\n%s", len(disks), out)
			}
		}
		// Pinning: with another host key on file, labctl must refuse.
		ks, err := keys.Open(e.stateDir + "/e2ea")
		if err != nil {
			t.Fatal(err)
		}
		if err := swapHostKey(ks.HostKeyPath("node-1"), func() error {
			_, err := labctl(t, ctx, "ssh", "-l", a.dir, "node-1", "--", "true")
			if err == nil {
				return errors.New("labctl ssh accepted a host key that is not the pinned one")
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	})

	t.Run("an unreachable VM is named", func(t *testing.T) {
		// A paused VM keeps its address but answers nothing: what a hung or
		// starved guest looks like from the host.
		var dom string
		for name := range owned(t, "e2ea").Domains {
			if strings.HasSuffix(name, "node-2") {
				dom = name
			}
		}
		virsh := func(args ...string) {
			t.Helper()
			if out, err := exec.CommandContext(ctx, "virsh", append([]string{"-c", "qemu:///system"}, args...)...).CombinedOutput(); err != nil {
				t.Fatalf("virsh %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		virsh("suspend", dom)
		b, err := labctlCmd(ctx, "ssh", "-l", a.dir, "node-2", "--", "true").CombinedOutput()
		virsh("resume", dom)
		t.Logf("labctl ssh to a paused VM (%v):\n%s", err, indent(string(b)))
		if err == nil {
			t.Fatal("labctl ssh succeeded on a paused VM")
		}
		for _, s := range []string{"node-2", "unreachable", "labctl status"} {
			if !strings.Contains(string(b), s) {
				t.Errorf("message lacks %q", s)
			}
		}
		mustLabctl(t, ctx, "ssh", "-l", a.dir, "node-2", "--", "true") // answers again once resumed
	})

	t.Run("second up is a no-op", func(t *testing.T) {
		start := time.Now()
		res := up(t, ctx, a)
		t.Logf("FIGURE noop-up wall %.2fs (labctl-internal %.2fs)", time.Since(start).Seconds(), res.Seconds)
		if !res.NoOp || len(res.Changes.Pending()) != 0 || len(res.Reconfigured) != 0 {
			t.Errorf("second up was not a no-op: %+v, roles re-run on %v", res.Changes.Pending(), res.Reconfigured)
		}
		if got := uuids(t, "e2ea"); fmt.Sprint(got) != fmt.Sprint(first) {
			t.Errorf("domains recreated by a no-op up: %v → %v", first, got)
		}
	})

	t.Run("an HCL change to one VM recreates only that VM", func(t *testing.T) {
		a.rewrite(t, labA(e.image, 512))
		// Without --yes and without a terminal, up must refuse.
		if _, err := labctl(t, ctx, "up", a.dir); err == nil {
			t.Error("up applied a destructive change without confirmation")
		}
		res := up(t, ctx, a)
		var pending []string
		for _, c := range res.Changes.Pending() {
			pending = append(pending, string(c.Action)+" "+c.Name)
		}
		if strings.Join(pending, ",") != "recreate e2ea-node-2" {
			t.Errorf("pending changes = %v, want only node-2 recreated", pending)
		}
		got := uuids(t, "e2ea")
		for vm, id := range first {
			if changed := got[vm] != id; changed != (vm == "node-2") {
				t.Errorf("%s: uuid %s → %s", vm, id, got[vm])
			}
		}
		out := mustLabctl(t, ctx, "ssh", "-l", a.dir, "node-2", "--", "grep MemTotal /proc/meminfo")
		t.Logf("node-2 after change: %s", out)
	})

	t.Run("up killed with SIGINT mid-way, then down removes everything", func(t *testing.T) {
		cmd := labctlCmd(ctx, "up", "--yes", b.dir)
		out := &lineWatch{want: "booting", seen: make(chan struct{})}
		cmd.Stderr, cmd.Stdout = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-out.seen:
		case <-time.After(10 * time.Minute):
			t.Fatal("up never reached booting")
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		t.Logf("interrupted up: %v\n%s", err, indent(out.String()))
		if err == nil {
			t.Error("interrupted up exited 0")
		}
		if live := owned(t, "e2eb"); len(live.Domains) == 0 {
			t.Log("note: the interrupt came before any domain was defined")
		}
		start := time.Now()
		mustLabctl(t, ctx, "down", b.dir)
		t.Logf("FIGURE down-after-sigint wall %.1fs", time.Since(start).Seconds())
		assertGone(t, "e2eb", false)
	})

	t.Run("two labs side by side", func(t *testing.T) {
		res := up(t, ctx, b)
		for _, vm := range res.VMs {
			t.Logf("FIGURE up-1vm-beside-3 boot-to-ssh %s %.1fs wall %.1fs", vm.Name, vm.BootSeconds, res.Seconds)
		}
		outA := mustLabctl(t, ctx, "ssh", "-l", a.dir, "node-1", "--", "hostname")
		outB := mustLabctl(t, ctx, "ssh", "-l", b.dir, "node", "--", "hostname; ip -o -4 addr show")
		if strings.TrimSpace(outA) != "node-1" || !strings.Contains(outB, "10.212.0.10/24") {
			t.Errorf("labs answer %q and %q", outA, outB)
		}
		var st struct {
			VMs []engine.VMStatus `json:"vms"`
		}
		if err := json.Unmarshal([]byte(mustLabctl(t, ctx, "status", "-o", "json", a.dir)), &st); err != nil {
			t.Fatal(err)
		}
		for _, r := range st.VMs {
			if r.State != "running" || r.Accel != "tcg" || r.UptimeSec <= 0 || !r.UpToDate {
				t.Errorf("status row %+v", r)
			}
		}
		mustLabctl(t, ctx, "down", b.dir)
		assertGone(t, "e2eb", false)
		if res := up(t, ctx, a); !res.NoOp {
			t.Error("down of lab e2eb changed lab e2ea")
		}
	})

	t.Run("down removes the lab and nothing else", func(t *testing.T) {
		start := time.Now()
		mustLabctl(t, ctx, "down", a.dir)
		t.Logf("FIGURE down-3vm wall %.1fs", time.Since(start).Seconds())
		assertGone(t, "e2ea", true) // someone-elses.raw keeps it
		nets, err := e.hv.ListNetworks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range nets {
			found = found || n.Name == "e2e-foreign"
		}
		if !found {
			t.Error("down removed the foreign network e2e-foreign")
		}
		for pool, name := range map[string]string{engine.BasePool: "e2e-foreign.raw", "e2ea": "someone-elses.raw"} {
			vols, err := e.hv.ListVolumes(ctx, pool)
			if err != nil {
				t.Errorf("pool %s: %v", pool, err)
				continue
			}
			ok := false
			for _, v := range vols {
				ok = ok || v.Name == name
			}
			if !ok {
				t.Errorf("down removed foreign volume %s/%s", pool, name)
			}
		}
	})
}

// swapHostKey replaces a pinned host key file with a fresh key while fn
// runs, then puts the pinned key and its .pub back (ssh-keygen writes
// path.pub too, which used to leave the lab without its .pub).
func swapHostKey(path string, fn func() error) error {
	if err := os.Rename(path, path+".orig"); err != nil {
		return err
	}
	defer os.Rename(path+".orig", path)
	pub := path + ".pub"
	hadPub := os.Rename(pub, pub+".orig") == nil
	defer func() {
		if hadPub {
			_ = os.Rename(pub+".orig", pub)
		} else {
			_ = os.Remove(pub)
		}
	}()
	if err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path).Run(); err != nil {
		return fmt.Errorf("ssh-keygen: %w", err)
	}
	return fn()
}

// lineWatch collects output and closes seen once want appears.
type lineWatch struct {
	b    strings.Builder
	want string
	seen chan struct{}
	done bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.b.Write(p)
	if !w.done && strings.Contains(w.b.String(), w.want) {
		w.done = true
		close(w.seen)
	}
	return len(p), nil
}

func (w *lineWatch) String() string { return w.b.String() }
