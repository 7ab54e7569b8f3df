package engine

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"libvirt.org/go/libvirtxml"
)

// ownOpts is testOpts for owner, checking pool directories through the
// fake like the CLI does on a local host.
func ownOpts(hv *fake.Hypervisor, owner string) UpOptions {
	o := testOpts()
	o.Owner = owner
	o.ListDir = hv.ListDir
	return o
}

func volumeNames(t *testing.T, hv *fake.Hypervisor, pool string) []string {
	t.Helper()
	vols, err := hv.ListVolumes(ctx(), pool)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vols {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out
}

func hasName(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

func mutations(hv *fake.Hypervisor) int {
	n := 0
	for k, c := range hv.Calls {
		if !strings.HasPrefix(k, "StartDomain") {
			n += c
		}
	}
	return n
}

// A foreign file in the lab pool's directory: refused before anything is
// created when the directory is new to libvirt; left alone by up and down
// when it turns up in the pool labctl made.
func TestForeignFileInPoolDirectory(t *testing.T) {
	hv := fake.New()
	dir := "/var/lib/libvirt/images/lab1"
	hv.AddFile(dir, "thesis.pdf")
	_, err := Up(ctx(), hv, testLab("lab1"), ownOpts(hv, "alice"))
	var pe *PoolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "thesis.pdf") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("up: %v, want a PoolError naming the directory and the file", err)
	}
	if n := mutations(hv); n != 0 {
		t.Errorf("up changed libvirt %d times before refusing: %v", n, hv.Calls)
	}

	// A remote host (no ListDir): refused right after the pool is defined,
	// before any volume.
	remote := ownOpts(hv, "alice")
	remote.ListDir = nil
	if _, err := Up(ctx(), hv, testLab("lab1"), remote); !errors.As(err, &pe) || !strings.Contains(err.Error(), "thesis.pdf") {
		t.Fatalf("remote up: %v, want a PoolError naming the file", err)
	}
	if got := volumeNames(t, hv, "lab1"); len(got) != 1 || got[0] != "thesis.pdf" {
		t.Errorf("pool lab1 holds %v, want only thesis.pdf", got)
	}

	// In a pool labctl created: up (also recreating a VM) and down keep it.
	hv2 := fake.New()
	if _, err := Up(ctx(), hv2, testLab("lab1"), ownOpts(hv2, "alice")); err != nil {
		t.Fatal(err)
	}
	hv2.AddFile(dir, "thesis.pdf")
	lab := testLab("lab1")
	lab.VMs[2].MemoryMiB = 512 // web changes: recreated with its volumes
	res, err := Up(ctx(), hv2, lab, ownOpts(hv2, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := res.Changes.Get("domain", "lab1-web"); c.Action != ActRecreate {
		t.Errorf("web: %+v, want recreate", c)
	}
	down, err := Down(ctx(), hv2, "lab1", DownOptions{Pool: "lab1", Owner: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if got := volumeNames(t, hv2, "lab1"); len(got) != 2 || got[0] != PoolMarker("lab1") || got[1] != "thesis.pdf" {
		t.Errorf("after down pool lab1 holds %v, want the marker and thesis.pdf", got)
	}
	if down.Pool != "" || len(down.Volumes) != 11 {
		t.Errorf("down removed pool %q and %d volumes, want no pool and 11", down.Pool, len(down.Volumes))
	}
	assertEmpty(t, hv2, "lab1")
}

// A volume named like the lab's that no domain of the lab uses is not the
// lab's: up neither deletes nor replaces it, down leaves it.
func TestForeignVolumeWithLabPrefix(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), ownOpts(hv, "alice")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lab1.x", "lab1.gone.root.qcow2"} {
		def := &libvirtxml.StorageVolume{Name: name, Capacity: &libvirtxml.StorageVolumeSize{Value: 1}}
		if _, err := hv.CreateVolume(ctx(), "lab1", def, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	lab := testLab("lab1")
	lab.VMs = lab.VMs[:2] // web dropped: deleted with its own volumes only
	if _, err := Up(ctx(), hv, lab, ownOpts(hv, "alice")); err != nil {
		t.Fatal(err)
	}
	names := volumeNames(t, hv, "lab1")
	for _, want := range []string{"lab1.x", "lab1.gone.root.qcow2"} {
		if !hasName(names, want) {
			t.Errorf("up deleted foreign volume %s (left: %v)", want, names)
		}
	}
	if hasName(names, "lab1.web.root.qcow2") {
		t.Error("up kept the dropped web VM's root volume")
	}
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1", Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	names = volumeNames(t, hv, "lab1")
	want := []string{"labctl-pool.lab1.json", "lab1.gone.root.qcow2", "lab1.x"}
	sort.Strings(want)
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("after down pool lab1 holds %v, want %v", names, want)
	}
	// A foreign volume where the lab wants one of its own is a clash, not
	// a deletion.
	hv2 := fake.New()
	if _, err := hv2.EnsurePool(ctx(), poolDef("lab1", "/var/lib/libvirt/images/lab1")); err != nil {
		t.Fatal(err)
	}
	hv2.AddFile("/var/lib/libvirt/images/lab1", "lab1.web.root.qcow2")
	lab = testLab("lab1")
	lab.SharedPool = true
	_, err := Up(ctx(), hv2, lab, ownOpts(hv2, "alice"))
	if err == nil || !strings.Contains(err.Error(), `volume "lab1/lab1.web.root.qcow2" already exists and is not created by labctl`) {
		t.Errorf("up over a foreign lab1.web.root.qcow2: %v, want a volume clash", err)
	}
}

// An existing pool labctl did not create is used only with shared_pool,
// and then only the lab's VMs' volumes are deleted.
func TestForeignPoolNeedsSharedPool(t *testing.T) {
	hv := fake.New()
	if _, err := hv.EnsurePool(ctx(), poolDef("default", "/var/lib/libvirt/images")); err != nil {
		t.Fatal(err)
	}
	hv.AddFile("/var/lib/libvirt/images", "debian12.qcow2")
	lab := testLab("debian12")
	lab.Pool = "default"
	_, err := Up(ctx(), hv, lab, ownOpts(hv, "alice"))
	var pe *PoolError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "shared_pool = true") {
		t.Fatalf("up into pool default: %v, want a PoolError asking for shared_pool", err)
	}
	lab.SharedPool = true
	if _, err := Up(ctx(), hv, lab, ownOpts(hv, "alice")); err != nil {
		t.Fatal(err)
	}
	res, err := Down(ctx(), hv, "debian12", DownOptions{Pool: "default", Owner: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if got := volumeNames(t, hv, "default"); len(got) != 1 || got[0] != "debian12.qcow2" || res.Pool != "" || len(res.Volumes) != 11 {
		t.Errorf("after down: pool default holds %v, removed %d volumes and pool %q", got, len(res.Volumes), res.Pool)
	}
	// shared_pool names an existing pool; it does not create one.
	lab = testLab("lab2")
	lab.Pool, lab.SharedPool = "nosuch", true
	if _, err := Up(ctx(), hv, lab, ownOpts(hv, "alice")); !errors.As(err, &pe) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("shared_pool on a missing pool: %v", err)
	}
}

// labctl-base holds every lab's base images: no lab keeps volumes there.
func TestBasePoolIsReserved(t *testing.T) {
	hv := fake.New()
	upWith(t, hv, testLab("lab1"), oldSHA) // the base pool exists, with an image
	for _, lab := range []*struct {
		name, pool string
		shared     bool
	}{{"lab2", BasePool, false}, {"lab2", BasePool, true}, {BasePool, BasePool, false}} {
		l := testLab(lab.name)
		l.Pool, l.SharedPool = lab.pool, lab.shared
		before := volumeNames(t, hv, BasePool)
		_, err := Up(ctx(), hv, l, ownOpts(hv, "alice"))
		var pe *PoolError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("lab %s pool %s shared %v: %v, want a PoolError (reserved)", lab.name, lab.pool, lab.shared, err)
		}
		if after := volumeNames(t, hv, BasePool); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Errorf("base pool changed: %v → %v", before, after)
		}
	}
}

// pool_path naming a directory that holds files (a home directory) fails
// before anything is created; so does one another pool already uses.
func TestPoolPathNonEmptyDirectory(t *testing.T) {
	hv := fake.New()
	hv.AddFile("/home/alice", "thesis.pdf")
	hv.AddFile("/home/alice", "notes.txt")
	lab := testLab("thesis")
	lab.PoolPath = "/home/alice"
	_, err := Up(ctx(), hv, lab, ownOpts(hv, "alice"))
	if err == nil || !strings.Contains(err.Error(), "/home/alice already holds files labctl did not create (notes.txt, thesis.pdf)") {
		t.Fatalf("up: %v, want the non-empty directory named", err)
	}
	if n := mutations(hv); n != 0 {
		t.Errorf("up changed libvirt %d times before refusing: %v", n, hv.Calls)
	}
	if _, err := hv.EnsurePool(ctx(), poolDef("images", "/srv/images")); err != nil {
		t.Fatal(err)
	}
	lab.PoolPath = "/srv/images/"
	if _, err := Up(ctx(), hv, lab, ownOpts(hv, "alice")); err == nil || !strings.Contains(err.Error(), `directory of pool "images"`) {
		t.Errorf("up into another pool's directory: %v", err)
	}
}

// Another owner's lab: up and down refuse, naming the owner; force (root
// in the CLI) works; a lab from before owners were recorded is anyone's.
func TestOtherOwnersLab(t *testing.T) {
	hv := fake.New()
	if _, err := Up(ctx(), hv, testLab("lab1"), ownOpts(hv, "alice")); err != nil {
		t.Fatal(err)
	}
	doms, _ := hv.ListDomains(ctx())
	if doms[0].Meta.Owner != "alice" {
		t.Fatalf("domain %s owner = %q, want alice", doms[0].Name, doms[0].Meta.Owner)
	}
	lab := testLab("lab1")
	lab.VMs[0].MemoryMiB = 1024
	_, err := Up(ctx(), hv, lab, ownOpts(hv, "bob"))
	var oe *OwnerError
	if !errors.As(err, &oe) || oe.Owner != "alice" || !strings.Contains(err.Error(), `held by owner "alice"`) {
		t.Fatalf("bob's up: %v, want an OwnerError naming alice", err)
	}
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1", Owner: "bob"}); !errors.As(err, &oe) {
		t.Fatalf("bob's down: %v, want an OwnerError", err)
	}
	if d, _ := hv.ListDomains(ctx()); len(d) != 3 {
		t.Fatalf("bob's refused commands left %d domains, want 3", len(d))
	}
	forced := ownOpts(hv, "root")
	forced.Force = true
	if _, err := Up(ctx(), hv, lab, forced); err != nil {
		t.Fatalf("forced up: %v", err)
	}
	for _, d := range mustDomains(t, hv) {
		if d.Meta.Owner != "alice" {
			t.Errorf("after root's forced up %s is held by %q, want alice still", d.Name, d.Meta.Owner)
		}
	}
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1", Owner: "root", Force: true}); err != nil {
		t.Fatalf("forced down: %v", err)
	}
	assertEmpty(t, hv, "lab1")

	// Made before owners were recorded: no owner attribute, anyone's.
	legacy := testOpts()
	if _, err := Up(ctx(), hv, testLab("lab1"), legacy); err != nil {
		t.Fatal(err)
	}
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1", Owner: "bob"}); err != nil {
		t.Fatalf("bob's down of an ownerless lab: %v", err)
	}
	assertEmpty(t, hv, "lab1")
}

// A lab network whose host range another libvirt network has is refused
// before up (libvirt would fail to start it); NetworkPrefixes feeds the
// management subnet pick.
func TestSubnetClashAndPrefixes(t *testing.T) {
	hv := fake.New()
	hv.AddNetwork(&libvirtxml.Network{Name: "default", Bridge: &libvirtxml.NetworkBridge{Name: "virbr0"},
		IPs: []libvirtxml.NetworkIP{{Address: "10.10.0.1", Netmask: "255.255.0.0"}}}, true)
	_, err := Up(ctx(), hv, testLab("lab1"), ownOpts(hv, "alice"))
	var se *SubnetClashError
	if !errors.As(err, &se) || se.Other != "default" || se.OtherCIDR != "10.10.0.0/16" || se.Network != "ext" {
		t.Fatalf("up: %v, want a SubnetClashError for ext against default", err)
	}
	hv2 := fake.New()
	hv2.AddNetwork(&libvirtxml.Network{Name: "default", IPs: []libvirtxml.NetworkIP{{Address: "192.168.122.1", Prefix: 24}}}, true)
	if _, err := Up(ctx(), hv2, testLab("lab1"), ownOpts(hv2, "alice")); err != nil {
		t.Fatal(err)
	}
	nets, _ := hv2.ListNetworks(ctx())
	foreign, keep := NetworkPrefixes(nets, "lab1")
	if len(foreign) != 1 || foreign[0].String() != "192.168.122.0/24" || keep.String() != "10.99.0.0/24" {
		t.Errorf("NetworkPrefixes = %v, keep %v", foreign, keep)
	}
}

func mustDomains(t *testing.T, hv *fake.Hypervisor) []libvirt.Domain {
	t.Helper()
	doms, err := hv.ListDomains(ctx())
	if err != nil {
		t.Fatal(err)
	}
	return doms
}

// An up cut short between defining the lab pool and marking it leaves an
// empty unmarked pool named after the lab: the next up marks and uses it.
func TestUnmarkedEmptyPoolOfTheLab(t *testing.T) {
	hv := fake.New()
	hv.Fail["CreateVolume:"+PoolMarker("lab1")] = errors.New("interrupted")
	if _, err := Up(ctx(), hv, testLab("lab1"), ownOpts(hv, "alice")); err == nil {
		t.Fatal("up with a failing marker succeeded")
	}
	delete(hv.Fail, "CreateVolume:"+PoolMarker("lab1"))
	if _, err := Up(ctx(), hv, testLab("lab1"), ownOpts(hv, "alice")); err != nil {
		t.Fatal(err)
	}
	if !hasName(volumeNames(t, hv, "lab1"), PoolMarker("lab1")) {
		t.Error("the resumed up did not mark the pool")
	}
	// The same empty pool in another directory is not the lab's.
	hv2 := fake.New()
	if _, err := hv2.EnsurePool(ctx(), poolDef("lab1", "/srv/other")); err != nil {
		t.Fatal(err)
	}
	var pe *PoolError
	if _, err := Up(ctx(), hv2, testLab("lab1"), ownOpts(hv2, "alice")); !errors.As(err, &pe) {
		t.Errorf("up into someone's empty pool lab1 at /srv/other: %v, want a PoolError", err)
	}
}
