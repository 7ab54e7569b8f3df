//go:build realvm

package roles

// Real-software test: boots one Debian guest from a labctl image under
// QEMU (TCG, user-mode network inside the caller's network namespace),
// applies the roles over SSH twice and runs verify. Run as root inside a
// private namespace:
//
//	ip netns add labctl-roles-e2e && ip -n labctl-roles-e2e link set lo up
//	LABCTL_REALVM_IMAGE=/path/to/image-dir ip netns exec labctl-roles-e2e \
//	  go test -tags realvm -run RealVM -v -timeout 30m ./provision/roles/

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/cloudinit"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
)

// oneNodeLab puts every role except real_server on one VM: RAID 5 (3 + 1
// spare) → NFS export on the array → mounted back as Apache's docroot →
// keepalived DR director whose only backend is the VM itself → client.
func oneNodeLab() *topology.Lab {
	ip := netip.MustParseAddr
	lan := &topology.Network{Name: "lan", Mode: topology.NetNAT, CIDR: netip.MustParsePrefix("10.0.2.0/24")}
	vm := &topology.VM{Name: "node", Hostname: "node", Image: "test-image",
		NICs: []*topology.NIC{{Network: lan, IP: ip("10.0.2.15"), Prefix: 24, Gateway: ip("10.0.2.2"),
			MAC: "52:54:00:12:34:56", Model: "virtio", Device: "eth0"}},
		RAID:  &topology.RAID{Name: "data", Level: 5, Members: 3, Spares: 1, ChunkKiB: 64, Filesystem: "ext4", Mount: "/srv/raid", Bus: "virtio"},
		Roles: []topology.Role{topology.RoleRAID, topology.RoleNFSServer, topology.RoleNFSClient, topology.RoleWeb, topology.RoleDirector, topology.RoleClient},
	}
	for i := range 4 {
		vm.Disks = append(vm.Disks, &topology.Disk{Name: fmt.Sprintf("raid-%d", i), SizeBytes: 64 << 20, Bus: "virtio",
			Serial: fmt.Sprintf("lc-node-raid-%d", i), RAIDMember: true})
	}
	export := &topology.NFSExport{Name: "www", Server: vm, ServerIP: ip("10.0.2.15"), Path: "/srv/raid/www",
		Allow: netip.MustParsePrefix("10.0.2.0/24"), Options: []string{"rw", "sync", "no_subtree_check", "no_root_squash"},
		Clients: []*topology.VM{vm}, MountPoint: "/var/www/nfs", MountOpts: []string{"_netdev", "hard", "vers=4.2"}}
	return &topology.Lab{Name: "e2e", SSHUser: "labctl", Networks: []*topology.Network{lan}, VMs: []*topology.VM{vm},
		NFS: []*topology.NFSExport{export},
		Web: []*topology.WebSite{{Name: "www", Servers: []*topology.VM{vm}, Docroot: "/var/www/nfs", Content: export, HealthPath: "/health.html"}},
		LVS: []*topology.LVSService{{Name: "www", VIP: ip("10.0.2.200"), VIPNetwork: lan, Port: 80, Protocol: "tcp",
			Mode: topology.LVSDR, Scheduler: "rr", Directors: []*topology.VM{vm}, RouterID: 51,
			Backends: []*topology.Backend{{VM: vm, IP: ip("10.0.2.15"), Weight: 1}},
			Health:   topology.HealthCheck{Type: "http", Path: "/health.html", Status: 200, IntervalSec: 2, TimeoutSec: 1, Retries: 1}}},
	}
}

type imageManifest struct {
	Disk, Kernel, Initrd, Cmdline string
}

func TestRealVM(t *testing.T) {
	imgDir := os.Getenv("LABCTL_REALVM_IMAGE")
	if imgDir == "" {
		t.Skip("LABCTL_REALVM_IMAGE not set")
	}
	var m imageManifest
	b, err := os.ReadFile(filepath.Join(imgDir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Kernel == "" {
		t.Fatalf("manifest: %v (need a direct-kernel-boot image)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	lab := oneNodeLab()
	vm := lab.VMs[0]
	work := t.TempDir()

	ks, err := keys.Open(filepath.Join(work, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	signer, authorized, err := ks.UserKey()
	if err != nil {
		t.Fatal(err)
	}
	hostPEM, hostKey, err := ks.HostKey(vm.Name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := cloudinit.Render(cloudinit.ForVM(lab, vm, authorized, hostPEM, hostKey))
	if err != nil {
		t.Fatal(err)
	}
	var iso bytes.Buffer
	if err := cloudinit.WriteISO(&iso, files); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "seed.iso"), iso.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	run("qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", filepath.Join(imgDir, m.Disk), filepath.Join(work, "vm.qcow2"))
	args := []string{"-machine", "pc,accel=tcg", "-m", "1024", "-smp", "1", "-nodefaults", "-display", "none", "-no-reboot",
		"-kernel", filepath.Join(imgDir, m.Kernel), "-initrd", filepath.Join(imgDir, m.Initrd), "-append", m.Cmdline,
		// Explicit -device everywhere: PCI slots follow command-line order,
		// so the system disk is vda.
		"-drive", "file=" + filepath.Join(work, "vm.qcow2") + ",if=none,id=sys,format=qcow2", "-device", "virtio-blk-pci,drive=sys"}
	for i, d := range vm.Disks {
		p := filepath.Join(work, d.Name+".raw")
		run("qemu-img", "create", "-q", "-f", "raw", p, fmt.Sprint(d.SizeBytes))
		args = append(args, "-drive", fmt.Sprintf("file=%s,if=none,id=r%d,format=raw", p, i),
			"-device", fmt.Sprintf("virtio-blk-pci,drive=r%d,serial=%s", i, d.Serial))
	}
	args = append(args, "-drive", "file="+filepath.Join(work, "seed.iso")+",if=none,id=seed,format=raw,readonly=on", "-device", "virtio-blk-pci,drive=seed",
		"-netdev", "user,id=n0,net=10.0.2.0/24,hostfwd=tcp:127.0.0.1:2299-10.0.2.15:22",
		"-device", "virtio-net-pci,netdev=n0,mac="+vm.NICs[0].MAC, "-device", "virtio-rng-pci",
		"-serial", "file:"+filepath.Join(work, "console.log"))
	qemu := exec.Command("qemu-system-x86_64", args...)
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = qemu.Process.Kill()
		_ = qemu.Wait()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(work, "console.log")); err == nil && len(b) > 3000 {
				t.Logf("console tail:\n%s", b[len(b)-3000:])
			}
		}
	}()

	start := time.Now()
	client, err := ssh.WaitReady(ctx, ssh.Config{Host: vm.Name, Addr: "127.0.0.1:2299", User: lab.SSHUser,
		Signer: signer, HostKey: hostKey, Sudo: true}, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	t.Logf("boot to SSH: %.1fs", time.Since(start).Seconds())
	hosts := func(string) (ssh.Runner, error) { return client, nil }

	var out bytes.Buffer
	start = time.Now()
	rep, err := Apply(ctx, lab, hosts, Options{Out: &out})
	t.Logf("first Apply (%.1fs):\n%s", time.Since(start).Seconds(), out.String())
	if err != nil {
		t.Fatalf("first Apply: %v", err)
	}
	out.Reset()
	start = time.Now()
	rep, err = Apply(ctx, lab, hosts, Options{Out: &out})
	t.Logf("second Apply (%.1fs):\n%s", time.Since(start).Seconds(), out.String())
	if err != nil {
		t.Fatalf("second Apply: %v", err)
	}
	if n := rep.Count(StatusChanged); n != 0 {
		t.Errorf("second Apply changed %d steps", n)
	}

	time.Sleep(5 * time.Second) // let keepalived's first health check add the real server
	res, err := verify.Run(ctx, lab, func(string) (ssh.Runner, error) { return client, nil }, verify.Options{Requests: 5})
	if err != nil {
		t.Fatal(err)
	}
	var tbl bytes.Buffer
	_ = res.WriteTable(&tbl)
	t.Logf("verify:\n%s", tbl.String())
	for _, c := range res.Checks {
		// The VM is its own DR backend without the real_server role, so the
		// VIP sits on eth0 (keepalived), not on lo.
		if !c.OK && c.Name != "real server VIP" {
			t.Errorf("verify check failed: %+v", c)
		}
	}
}
