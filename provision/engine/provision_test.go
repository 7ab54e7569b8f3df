package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// testLab is a 3-VM lab: a nat and an isolated network plus management;
// "storage" carries 5 data disks.
func testLab(name string) *topology.Lab {
	mk := func(n string, mode topology.NetMode, cidr string, host string, mgmt bool) *topology.Network {
		nw := &topology.Network{Name: n, LibvirtName: name + "-" + n, Mode: mode, Bridge: (name + n)[:min(15, len(name+n))],
			CIDR: netip.MustParsePrefix(cidr), Management: mgmt}
		if host != "" {
			nw.HostIP = netip.MustParseAddr(host)
		}
		return nw
	}
	// Labs side by side need their own subnets (libvirt refuses a network
	// whose host range another one has); lab1 keeps x.x.0.0.
	o := 0
	if name != "lab1" {
		o = 1 + int(sha256.Sum256([]byte(name))[0])
	}
	ext := mk("ext", topology.NetNAT, fmt.Sprintf("10.10.%d.0/24", o), fmt.Sprintf("10.10.%d.1", o), false)
	ext.MTU = 1400
	internal := mk("int", topology.NetIsolated, fmt.Sprintf("10.20.%d.0/24", o), "", false)
	mgmt := mk("mgmt", topology.NetIsolated, fmt.Sprintf("10.99.%d.0/24", o), fmt.Sprintf("10.99.%d.1", o), true)
	lab := &topology.Lab{Name: name, Pool: name, Image: "base", Accel: topology.AccelAuto, SSHUser: "labctl",
		Networks: []*topology.Network{ext, internal, mgmt}, Management: mgmt}
	for i, vm := range []string{"client", "storage", "web"} {
		v := &topology.VM{Name: vm, LibvirtName: name + "-" + vm, Hostname: vm, VCPUs: 1, MemoryMiB: 384, Image: "base"}
		nets := []*topology.Network{ext, internal, mgmt}
		for j, n := range nets {
			v.NICs = append(v.NICs, &topology.NIC{Network: n, IP: n.CIDR.Addr().Next().Next().Next(), Prefix: n.CIDR.Bits(),
				MAC: fmt.Sprintf("52:54:00:00:%02x:%02x", i, j), Model: "virtio", Device: fmt.Sprintf("eth%d", j), Management: n.Management})
		}
		if vm == "storage" {
			for d := 0; d < 5; d++ {
				v.Disks = append(v.Disks, &topology.Disk{Name: fmt.Sprintf("raid-%d", d), SizeBytes: 1 << 30, Bus: "virtio",
					Format: "qcow2", Target: "vd" + string(rune('b'+d)), Serial: fmt.Sprintf("raid%d", d), RAIDMember: true})
			}
		}
		lab.VMs = append(lab.VMs, v)
	}
	return lab
}

func testImages(name string) (*BaseImage, error) {
	if name != "base" {
		return nil, fmt.Errorf("image %q: %w", name, ErrImageMissing)
	}
	return &BaseImage{Name: "base", SHA256: strings.Repeat("ab", 32), Disk: "/dev/null", DiskFormat: "qcow2",
		DiskSize: 0, VirtualSize: 2 << 30, Kernel: "/dev/null", Initrd: "/dev/null", Cmdline: "root=/dev/vda console=ttyS0"}, nil
}

func testOpts() UpOptions {
	return UpOptions{Options: Options{Version: "test", Images: testImages,
		Seed: func(vm *topology.VM, _ bool) ([]byte, error) { return []byte("seed of " + vm.Name), nil }}}
}

func ctx() context.Context { return context.Background() }

func TestDesiredIsDeterministicAndPrintable(t *testing.T) {
	a, err := Desired(testLab("lab1"), testOpts().Options)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Desired(testLab("lab1"), testOpts().Options)
	ja, err := a.JSON()
	if err != nil {
		t.Fatal(err)
	}
	jb, _ := b.JSON()
	if diff := cmp.Diff(string(ja), string(jb)); diff != "" {
		t.Fatalf("two Desired calls differ:\n%s", diff)
	}
	storage := a.VM("storage")
	if got := len(storage.Volumes); got != 7 { // root + 5 raid + seed
		t.Errorf("storage volumes = %d, want 7", got)
	}
	root := storage.Volumes[0]
	if root.Backing != "/var/lib/libvirt/images/labctl-base/base-abababababab.qcow2" || root.Format != "qcow2" {
		t.Errorf("root volume = %+v, want a qcow2 clone of the base image", root)
	}
	d := storage.Def
	if d.Type != "qemu" || d.OS.Kernel == "" || d.OS.Cmdline != "root=/dev/vda console=ttyS0" {
		t.Errorf("domain type/boot = %s %q %q", d.Type, d.OS.Kernel, d.OS.Cmdline)
	}
	if got := len(d.Devices.Disks); got != 7 {
		t.Errorf("disks = %d, want 7", got)
	}
	if seed := d.Devices.Disks[6]; seed.Target.Dev != "vdg" || seed.ReadOnly == nil {
		t.Errorf("seed disk = %+v %+v, want read-only vdg", seed.Target, seed.ReadOnly)
	}
	if m := libvirt.ParseMeta(d.Metadata.XML); m == nil || m.Lab != "lab1" || m.SpecHash != storage.Hash {
		t.Errorf("domain metadata = %+v", m)
	}
	if storage.Address != "10.99.0.3" {
		t.Errorf("address = %q, want the management IP", storage.Address)
	}
	x, _ := a.XML()
	if !strings.Contains(x["network/lab1-ext"], `<forward mode="nat">`) || !strings.Contains(x["network/lab1-ext"], `<mtu size="1400">`) {
		t.Errorf("nat network XML:\n%s", x["network/lab1-ext"])
	}
	if strings.Contains(x["network/lab1-int"], "<forward") || strings.Contains(x["network/lab1-int"], "<ip") {
		t.Errorf("isolated network XML has forward or ip:\n%s", x["network/lab1-int"])
	}
}

func TestDesiredBridgeAndRoutedNetworks(t *testing.T) {
	lab := testLab("br")
	lab.Networks[0].Mode = topology.NetBridge
	lab.Networks[0].LibvirtName = "br0"
	lab.Networks[0].Bridge = ""
	lab.Networks[1].Mode = topology.NetRouted
	lab.Networks[1].HostIP = netip.MustParseAddr("10.20.0.1")
	s, err := Desired(lab, testOpts().Options)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Networks[0].External || s.Networks[0].Def != nil || s.Networks[0].Bridge != "br0" {
		t.Errorf("bridge network = %+v, want external on br0", s.Networks[0])
	}
	if s.Networks[1].Def.Forward.Mode != "route" {
		t.Errorf("routed network forward = %+v", s.Networks[1].Def.Forward)
	}
	iface := s.VMs[0].Def.Devices.Interfaces[0]
	if iface.Source.Bridge == nil || iface.Source.Bridge.Bridge != "br0" || iface.MTU.Size != 1400 {
		t.Errorf("bridge NIC = %+v", iface.Source)
	}
	// A lab with a bridge network never creates or deletes the bridge.
	hv := fake.New()
	hv.AddHostDevice("br0", true)
	if _, err := Up(ctx(), hv, lab, testOpts()); err != nil {
		t.Fatal(err)
	}
	nets, _ := hv.ListNetworks(ctx())
	for _, n := range nets {
		if n.Name == "br0" {
			t.Error("up created a libvirt network for the host bridge")
		}
	}
}

func TestUpCreatesEverythingThenNoOp(t *testing.T) {
	hv := fake.New()
	lab := testLab("lab1")
	var waited []string
	var mu sync.Mutex // guests boot concurrently
	opts := testOpts()
	opts.WaitSSH = func(_ context.Context, vm *VMSpec) error {
		mu.Lock()
		defer mu.Unlock()
		waited = append(waited, vm.Address)
		return nil
	}
	res, err := Up(ctx(), hv, lab, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.NoOp || len(res.VMs) != 3 {
		t.Fatalf("first up: %+v", res)
	}
	doms, _ := hv.ListDomains(ctx())
	for _, d := range doms {
		if d.State != libvirt.StateRunning {
			t.Errorf("domain %s is %s", d.Name, d.State)
		}
	}
	if len(doms) != 3 || len(waited) != 3 {
		t.Errorf("domains %d, waited %d; want 3, 3", len(doms), len(waited))
	}
	nets, _ := hv.ListNetworks(ctx())
	if len(nets) != 3 {
		t.Errorf("networks = %d, want 3", len(nets))
	}
	vols, _ := hv.ListVolumes(ctx(), "lab1")
	if len(vols) != 12 { // 3 roots, 3 seeds, 5 raid members, the pool marker
		t.Errorf("lab volumes = %d, want 12", len(vols))
	}
	base, _ := hv.ListVolumes(ctx(), BasePool)
	if len(base) != 3 { // disk, kernel, initrd
		t.Errorf("base volumes = %d, want 3", len(base))
	}

	before := fmt.Sprint(hv.Calls)
	res, err = Up(ctx(), hv, lab, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoOp {
		t.Errorf("second up is not a no-op: %v", res.Changes.Pending())
	}
	if after := fmt.Sprint(hv.Calls); after != before {
		t.Errorf("second up changed libvirt:\nbefore %s\nafter  %s", before, after)
	}
}

func TestUpRecreatesOnlyChangedVM(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	lab := testLab("lab1")
	lab.VMs[2].MemoryMiB = 512 // web
	asked := false
	opts := testOpts()
	opts.Confirm = func(c *Changes) (bool, error) { asked = true; return true, nil }
	res, err := Up(ctx(), hv, lab, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !asked {
		t.Error("recreating a VM did not ask for confirmation")
	}
	var pending []string
	for _, c := range res.Changes.Pending() {
		pending = append(pending, string(c.Action)+" "+c.Name)
	}
	if diff := cmp.Diff([]string{"recreate lab1-web"}, pending); diff != "" {
		t.Errorf("pending changes (-want +got):\n%s", diff)
	}
	for _, vm := range []string{"lab1-client", "lab1-storage"} {
		if hv.Calls["DefineDomain:"+vm] != 1 || hv.Calls["DeleteDomain:"+vm] != 0 {
			t.Errorf("%s was touched: define %d delete %d", vm, hv.Calls["DefineDomain:"+vm], hv.Calls["DeleteDomain:"+vm])
		}
	}
	if hv.Calls["DefineDomain:lab1-web"] != 2 || hv.Calls["DeleteDomain:lab1-web"] != 1 {
		t.Errorf("web: define %d delete %d, want 2 1", hv.Calls["DefineDomain:lab1-web"], hv.Calls["DeleteDomain:lab1-web"])
	}
	doms, _ := hv.ListDomains(ctx())
	for _, d := range doms {
		if d.Name == "lab1-web" && d.Def.Memory.Value != 512 {
			t.Errorf("web memory = %d", d.Def.Memory.Value)
		}
	}
}

func TestConfirmDeclinedChangesNothing(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprint(hv.Calls)
	lab := testLab("lab1")
	lab.VMs[0].VCPUs = 2
	opts := testOpts()
	opts.Confirm = func(*Changes) (bool, error) { return false, nil }
	if _, err := Up(ctx(), hv, lab, opts); !errors.Is(err, ErrDeclined) {
		t.Fatalf("err = %v, want ErrDeclined", err)
	}
	if after := fmt.Sprint(hv.Calls); after != before {
		t.Error("declined up changed libvirt")
	}
}

func TestNetworkChangeRecreatesAttachedVMs(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	lab := testLab("lab1")
	lab.Networks[0].MTU = 1500
	st, _, ch, err := Plan(ctx(), hv, lab, testOpts().Options)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ch.Get("network", "lab1-ext"); c.Action != ActRecreate {
		t.Errorf("ext network action = %s", c.Action)
	}
	for _, vm := range st.VMs {
		if c, _ := ch.Get("domain", vm.LibvirtName); c.Action != ActRecreate {
			t.Errorf("%s action = %s, want recreate (its network changed)", vm.Name, c.Action)
		}
	}
}

func TestStoppedVMIsStarted(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	hv.StopDomain("lab1-client")
	res, err := Up(ctx(), hv, testLab("lab1"), testOpts())
	if err != nil {
		t.Fatal(err)
	}
	if res.NoOp || hv.Calls["StartDomain:lab1-client"] != 2 || hv.Calls["DefineDomain:lab1-client"] != 1 {
		t.Errorf("stopped VM: noop=%v start=%d define=%d", res.NoOp, hv.Calls["StartDomain:lab1-client"], hv.Calls["DefineDomain:lab1-client"])
	}
}

func TestDownRemovesOnlyWhatTheLabOwns(t *testing.T) {
	hv := fake.New()
	// Foreign objects: a network, a volume in the lab's pool and the base
	// pool, and a whole other lab with a prefix-sharing name.
	hv.AddNetwork(&libvirtxml.Network{Name: "default", Bridge: &libvirtxml.NetworkBridge{Name: "virbr0"}}, true)
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	other := testLab("lab1-b")
	other.Pool = "lab1" // shares the pool, which it may only when it says so
	other.SharedPool = true
	if _, err := Up(ctx(), hv, other, testOpts()); err != nil {
		t.Fatal(err)
	}
	foreign := &libvirtxml.StorageVolume{Name: "lab1-notes.qcow2", Capacity: &libvirtxml.StorageVolumeSize{Value: 1}}
	if _, err := hv.CreateVolume(ctx(), "lab1", foreign, nil, 0); err != nil {
		t.Fatal(err)
	}
	res, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Domains) != 3 || len(res.Networks) != 3 || len(res.Volumes) != 11 || res.Pool != "" {
		t.Errorf("down removed %d domains, %d networks, %d volumes, pool %q", len(res.Domains), len(res.Networks), len(res.Volumes), res.Pool)
	}
	doms, _ := hv.ListDomains(ctx())
	for _, d := range doms {
		if d.Meta.Lab != "lab1-b" {
			t.Errorf("domain %s survived down", d.Name)
		}
	}
	if len(doms) != 3 {
		t.Errorf("other lab has %d domains left, want 3", len(doms))
	}
	vols, _ := hv.ListVolumes(ctx(), "lab1")
	names := []string{}
	for _, v := range vols {
		names = append(names, v.Name)
	}
	// lab1-b's 11, the foreign one, and lab1's marker (the pool stays).
	if !strings.Contains(strings.Join(names, " "), "lab1-notes.qcow2") || len(names) != 13 {
		t.Errorf("volumes left in pool lab1: %v", names)
	}
	nets, _ := hv.ListNetworks(ctx())
	if len(nets) != 4 { // default + other lab's 3
		t.Errorf("networks left: %d, want 4", len(nets))
	}
	if base, _ := hv.ListVolumes(ctx(), BasePool); len(base) != 3 {
		t.Errorf("base pool volumes: %d, want 3 (never removed by down)", len(base))
	}
	// Down again: nothing left to do, no error.
	res, err = Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"})
	if err != nil || !res.Empty() {
		t.Errorf("second down: %+v, %v", res, err)
	}
}

func TestDownRemovesDedicatedPool(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("solo"), testOpts()); err != nil {
		t.Fatal(err)
	}
	res, err := Down(ctx(), hv, "solo", DownOptions{Pool: "solo"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pool != "solo" {
		t.Errorf("dedicated pool not removed: %+v", res)
	}
	if _, err := hv.Pool(ctx(), BasePool); err != nil {
		t.Errorf("base pool removed: %v", err)
	}
}

func TestFailedUpThenDownCleansUp(t *testing.T) {
	hv := fake.New()
	hv.Fail["StartDomain:lab1-storage"] = errors.New("internal error: qemu unexpectedly closed the monitor")
	_, err := Up(ctx(), hv, testLab("lab1"), testOpts())
	if err == nil || !strings.Contains(err.Error(), "storage") || !strings.Contains(err.Error(), "qemu unexpectedly closed") {
		t.Fatalf("err = %v, want the libvirt refusal naming the VM", err)
	}
	delete(hv.Fail, "StartDomain:lab1-storage")
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"}); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, hv, "lab1")
}

func TestInterruptedUpThenDown(t *testing.T) {
	hv := fake.New()
	c, cancel := context.WithCancel(ctx())
	opts := testOpts()
	opts.WaitSSH = func(ctx context.Context, vm *VMSpec) error {
		cancel() // Ctrl-C while VMs boot
		<-ctx.Done()
		return ctx.Err()
	}
	_, err := Up(c, hv, testLab("lab1"), opts)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "labctl down") {
		t.Fatalf("err = %v, want an interruption with a hint", err)
	}
	// Resuming works, and so does down.
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"}); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, hv, "lab1")
}

func TestUpAfterObjectsDeletedByHand(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	if err := hv.DeleteVolume(ctx(), "lab1", "lab1.web.root.qcow2"); err != nil {
		t.Fatal(err)
	}
	if err := hv.DeleteDomain(ctx(), "lab1-client"); err != nil {
		t.Fatal(err)
	}
	// The client's volumes lost their record with its domain: labctl no
	// longer knows they are the lab's, names them, and leaves them alone.
	_, _, _, err := Plan(ctx(), hv, testLab("lab1"), testOpts().Options)
	if err == nil || !strings.Contains(err.Error(), `volume "lab1/lab1.client.root.qcow2" already exists and is not created by labctl`) {
		t.Fatalf("plan: %v, want a clash naming the client's orphaned volumes", err)
	}
	for _, v := range []string{"lab1.client.root.qcow2", "lab1.client.seed.iso"} {
		if err := hv.DeleteVolume(ctx(), "lab1", v); err != nil {
			t.Fatal(err)
		}
	}
	_, _, ch, err := Plan(ctx(), hv, testLab("lab1"), testOpts().Options)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ch.Get("domain", "lab1-web"); c.Action != ActRecreate || !strings.Contains(c.Reason, "missing") {
		t.Errorf("web: %+v, want recreate because its root volume is missing", c)
	}
	if c, _ := ch.Get("domain", "lab1-client"); c.Action != ActCreate {
		t.Errorf("client: %+v, want create", c)
	}
	if _, err := Up(ctx(), hv, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"}); err != nil {
		t.Fatal(err)
	}
	assertEmpty(t, hv, "lab1")
}

func TestNameClashWithForeignObjects(t *testing.T) {
	hv := fake.New()
	hv.AddNetwork(&libvirtxml.Network{Name: "lab1-ext", Bridge: &libvirtxml.NetworkBridge{Name: "virbr9"}}, true)
	hv.AddNetwork(&libvirtxml.Network{Name: "someone", Bridge: &libvirtxml.NetworkBridge{Name: "lab1mgmt"}}, true)
	if err := hv.DefineDomain(ctx(), &libvirtxml.Domain{Name: "lab1-web", Type: "qemu"}); err != nil {
		t.Fatal(err)
	}
	_, err := Up(ctx(), hv, testLab("lab1"), testOpts())
	var clash *ClashError
	if !errors.As(err, &clash) {
		t.Fatalf("err = %v, want a ClashError", err)
	}
	for _, want := range []string{`network "lab1-ext" already exists and is not created by labctl`, `domain "lab1-web"`, "bridge lab1mgmt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if n := hv.Calls["CreateNetwork:lab1-int"] + hv.Calls["DefineDomain:lab1-client"]; n != 0 {
		t.Error("up created objects despite the clash")
	}
	// Another lab's object is a clash too, naming the owner.
	hv2 := fake.New()
	if _, err := Up(ctx(), hv2, testLab("lab1"), testOpts()); err != nil {
		t.Fatal(err)
	}
	other := testLab("lab2")
	other.VMs[0].LibvirtName = "lab1-client"
	if _, err := Up(ctx(), hv2, other, testOpts()); err == nil || !strings.Contains(err.Error(), "owned by lab lab1") {
		t.Errorf("err = %v, want a clash naming lab1", err)
	}
}

func TestTwoLabsSideBySide(t *testing.T) {
	hv := fake.New()
	for _, name := range []string{"alpha", "beta"} {
		if _, err := Up(ctx(), hv, testLab(name), testOpts()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	doms, _ := hv.ListDomains(ctx())
	if len(doms) != 6 {
		t.Errorf("domains = %d, want 6", len(doms))
	}
	if _, err := Down(ctx(), hv, "alpha", DownOptions{Pool: "alpha"}); err != nil {
		t.Fatal(err)
	}
	res, err := Up(ctx(), hv, testLab("beta"), testOpts())
	if err != nil || !res.NoOp {
		t.Errorf("beta after alpha's down: noop=%v err=%v", res != nil && res.NoOp, err)
	}
}

func TestLibvirtRefusalAndMissingImage(t *testing.T) {
	hv := fake.New()
	hv.Fail["CreateNetwork:lab1-int"] = errors.New("operation failed: network is already in use by interface x")
	_, err := Up(ctx(), hv, testLab("lab1"), testOpts())
	if err == nil || !strings.Contains(err.Error(), `network "lab1-int"`) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("err = %v, want libvirt's refusal naming the network", err)
	}
	lab := testLab("lab2")
	lab.VMs[1].Image = "nope"
	_, err = Up(ctx(), fake.New(), lab, testOpts())
	if !errors.Is(err, ErrImageMissing) || !strings.Contains(err.Error(), `VM "storage"`) {
		t.Errorf("err = %v, want ErrImageMissing naming the VM", err)
	}
}

func TestWaitFailureShowsConsoleTail(t *testing.T) {
	dir := t.TempDir()
	hv := fake.New()
	opts := testOpts()
	opts.LogDir = dir
	opts.WaitSSH = func(_ context.Context, vm *VMSpec) error {
		if vm.Name == "web" {
			if err := writeFile(vm.ConsoleLog, "Booting\nKernel panic - not syncing: VFS\n"); err != nil {
				return err
			}
			return errors.New("ssh not ready after 5m")
		}
		return nil
	}
	_, err := Up(ctx(), hv, testLab("lab1"), opts)
	if err == nil || !strings.Contains(err.Error(), "Kernel panic") || !strings.Contains(err.Error(), "VM web") {
		t.Errorf("err = %v, want the console tail of web", err)
	}
}

func TestStatus(t *testing.T) {
	hv := fake.New()
	lab := testLab("lab1")
	res, err := Up(ctx(), hv, lab, testOpts())
	if err != nil {
		t.Fatal(err)
	}
	hv.StopDomain("lab1-web")
	rows, err := Status(ctx(), hv, res.State, hv.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s %s %s %v %v", r.Name, r.State, r.Accel, r.IPs, r.UpToDate))
	}
	want := []string{
		"client running tcg [10.10.0.3/24 10.20.0.3/24 10.99.0.3/24] true",
		"storage running tcg [10.10.0.3/24 10.20.0.3/24 10.99.0.3/24] true",
		"web shutoff tcg [10.10.0.3/24 10.20.0.3/24 10.99.0.3/24] true",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestResolveAccel(t *testing.T) {
	probe := func(types []string, paths ...string) AccelProbe {
		return AccelProbe{Local: true, Host: "h", DomainTypes: func() ([]string, error) { return types, nil },
			Exists: func(p string) bool {
				for _, q := range paths {
					if p == q {
						return true
					}
				}
				return false
			}}
	}
	kvm := []string{"qemu", "kvm"}
	cases := []struct {
		want   topology.Accel
		probe  AccelProbe
		typ    string
		reason string
		err    string
	}{
		{topology.AccelAuto, probe(kvm, "/dev/kvm"), "kvm", "usable", ""},
		{topology.AccelAuto, probe(kvm, "/dev/kvm", "/sys/module/kvm_pvm"), "qemu", "kvm_pvm", ""},
		{topology.AccelAuto, probe([]string{"qemu"}, "/dev/kvm"), "qemu", "no kvm domain type", ""},
		{topology.AccelAuto, probe(kvm), "qemu", "/dev/kvm does not exist", ""},
		{topology.AccelTCG, probe(kvm, "/dev/kvm"), "qemu", "tcg", ""},
		{topology.AccelKVM, probe(kvm, "/dev/kvm", "/sys/module/kvm_pvm"), "", "", "kvm_pvm"},
		{"bogus", probe(kvm), "", "", "unknown accel"},
	}
	for _, c := range cases {
		typ, reason, err := ResolveAccel(c.want, libvirt.HostInfo{}, c.probe)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.want, err, c.err)
			}
			continue
		}
		if err != nil || typ != c.typ || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: %q %q %v, want %q with %q", c.want, typ, reason, err, c.typ, c.reason)
		}
	}
}

func TestDHCPRange(t *testing.T) {
	s, e, err := dhcpRange(netip.MustParsePrefix("10.1.2.0/24"))
	if err != nil || s != "10.1.2.128" || e != "10.1.2.254" {
		t.Errorf("dhcpRange = %s %s %v", s, e, err)
	}
	if _, _, err := dhcpRange(netip.MustParsePrefix("10.1.2.0/30")); err == nil {
		t.Error("want an error for /30")
	}
}

func assertEmpty(t *testing.T, hv *fake.Hypervisor, lab string) {
	t.Helper()
	live, err := Observe(ctx(), hv, lab, lab)
	if err != nil {
		t.Fatal(err)
	}
	if live.Owned() != 0 {
		t.Errorf("lab %s still owns %d domains, %d networks, %d volumes", lab, len(live.Domains), len(live.Networks), len(live.Volumes))
	}
	for name := range live.PoolVolumes {
		if strings.HasPrefix(name, VolumePrefix(lab)) {
			t.Errorf("volume %s of lab %s is left in its pool", name, lab)
		}
	}
}

func TestIncompleteImageIsReimported(t *testing.T) {
	hv := fake.New()
	opts := testOpts()
	opts.Images = func(name string) (*BaseImage, error) {
		return &BaseImage{Name: name, SHA256: strings.Repeat("cd", 32), Disk: "/dev/zero", DiskFormat: "qcow2", DiskSize: 1 << 20, VirtualSize: 1 << 30}, nil
	}
	if _, err := hv.EnsurePool(ctx(), poolDef(BasePool, "/base")); err != nil {
		t.Fatal(err)
	}
	// A partial upload left by a killed labctl: 4 KiB of 1 MiB.
	partial := uploadVolume(BasePool, "/base", "base-cdcdcdcdcdcd.qcow2", "image", "/dev/zero", 4096)
	if _, err := hv.CreateVolume(ctx(), BasePool, partial.Def, strings.NewReader(strings.Repeat("x", 4096)), 4096); err != nil {
		t.Fatal(err)
	}
	_, _, ch, err := Plan(ctx(), hv, testLab("lab1"), opts.Options)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ch.Get("image", "base-cdcdcdcdcdcd.qcow2"); c.Action != ActImport || !strings.Contains(c.Reason, "incomplete") {
		t.Fatalf("partial image: %+v", c)
	}
	if _, err := Up(ctx(), hv, testLab("lab1"), opts); err != nil {
		t.Fatal(err)
	}
	vols, _ := hv.ListVolumes(ctx(), BasePool)
	if len(vols) != 1 || vols[0].Allocation != 1<<20 {
		t.Errorf("base volumes after up: %+v", vols)
	}
}

func TestChangesLinesShowHashes(t *testing.T) {
	c := &Changes{Items: []Change{
		{Kind: "domain", Name: "lab1-web", Action: ActRecreate, Reason: "spec changed", OldHash: "5e22816c1f2346b7", NewHash: "9a1bc0de00000000"},
		{Kind: "domain", Name: "lab1-db", Action: ActKeep},
		{Kind: "network", Name: "lab1-ext", Action: ActCreate, Reason: "missing"},
	}}
	want := []string{
		"-/+ domain  lab1-web                     recreate (spec changed: 5e22816c → 9a1bc0de)",
		"+   network lab1-ext                     create (missing)",
	}
	if diff := cmp.Diff(want, c.Lines()); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

// BeforeChange runs once before the first change (not on a no-op), and its
// error stops up before libvirt is touched.
func TestUpBeforeChange(t *testing.T) {
	hv := fake.New()
	lab := testLab("lab1")
	opts := testOpts()
	opts.BeforeChange = func(*Changes) error { return errors.New("no record") }
	if _, err := Up(ctx(), hv, lab, opts); err == nil || !strings.Contains(err.Error(), "no record") {
		t.Fatalf("up with a failing BeforeChange: %v", err)
	}
	if doms, _ := hv.ListDomains(ctx()); len(doms) != 0 {
		t.Errorf("%d domains created after BeforeChange failed", len(doms))
	}
	calls := 0
	opts.BeforeChange = func(*Changes) error { calls++; return nil }
	for range 2 {
		if _, err := Up(ctx(), hv, lab, opts); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Errorf("BeforeChange ran %d times for a create and a no-op, want 1", calls)
	}
}
