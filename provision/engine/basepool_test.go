package engine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

var (
	oldSHA = strings.Repeat("ab", 32)
	newSHA = strings.Repeat("cd", 32)
)

// upWith brings lab up with image "base" of the given disk sha256.
func upWith(t *testing.T, hv *fake.Hypervisor, lab *topology.Lab, sha string) {
	t.Helper()
	opts := testOpts()
	opts.Images = func(name string) (*BaseImage, error) {
		im, err := testImages(name)
		if err == nil {
			im.SHA256 = sha
		}
		return im, err
	}
	if _, err := Up(ctx(), hv, lab, opts); err != nil {
		t.Fatalf("up %s: %v", lab.Name, err)
	}
}

func copyNames(cs []*BaseCopy) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s-%s %v %v (%d vols)", c.Image, c.Digest, c.Labs, c.Others, len(c.Volumes)))
	}
	return out
}

func TestBaseUsageAfterRebuildAndGarbage(t *testing.T) {
	hv := fake.New()
	upWith(t, hv, testLab("lab1"), oldSHA)
	upWith(t, hv, testLab("lab2"), newSHA) // "base" was rebuilt in between

	u, err := ObserveBase(ctx(), hv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"base-abababababab [lab1] [] (3 vols)", "base-cdcdcdcdcdcd [lab2] [] (3 vols)"}
	if diff := cmp.Diff(want, copyNames(u.Copies)); diff != "" {
		t.Errorf("copies (-want +got):\n%s", diff)
	}
	if got := u.UsedBy("base"); !cmp.Equal(got, []string{"lab1", "lab2"}) {
		t.Errorf("UsedBy(base) = %v", got)
	}
	if got := u.UsedBy("other"); len(got) != 0 {
		t.Errorf("UsedBy(other) = %v, want none", got)
	}
	current := map[string]string{"base": newSHA}
	if g, err := u.Garbage(current); err != nil || len(g) != 0 {
		t.Errorf("garbage while both labs are up = %v, %v", copyNames(g), err)
	}

	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"}); err != nil {
		t.Fatal(err)
	}
	u, err = ObserveBase(ctx(), hv)
	if err != nil {
		t.Fatal(err)
	}
	g, err := u.Garbage(current)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"base-abababababab [] [] (3 vols)"}, copyNames(g)); diff != "" {
		t.Fatalf("garbage after lab1's down (-want +got):\n%s", diff)
	}
	if g, _ := u.Garbage(current, "not-base"); len(g) != 0 {
		t.Errorf("garbage limited to another image = %v", copyNames(g))
	}
	if err := RemoveCopies(ctx(), hv, g); err != nil {
		t.Fatal(err)
	}
	base, _ := hv.ListVolumes(ctx(), BasePool)
	for _, v := range base {
		if strings.Contains(v.Name, "abababababab") {
			t.Errorf("old copy %s still in the base pool", v.Name)
		}
	}
	if len(base) != 3 {
		t.Errorf("base pool holds %d volumes, want lab2's 3", len(base))
	}
	// A second prune of the same copies (concurrent) is not an error.
	if err := RemoveCopies(ctx(), hv, g); err != nil {
		t.Errorf("removing removed copies: %v", err)
	}

	// lab2 down and "base" removed from the store: its copy goes too.
	if _, err := Down(ctx(), hv, "lab2", DownOptions{Pool: "lab2"}); err != nil {
		t.Fatal(err)
	}
	u, _ = ObserveBase(ctx(), hv)
	if g, _ := u.Garbage(current); len(g) != 0 {
		t.Errorf("the current image's copy is garbage: %v", copyNames(g))
	}
	if g, _ := u.Garbage(nil); len(g) != 1 || g[0].Digest != "cdcdcdcdcdcd" {
		t.Errorf("garbage of a removed image = %v", copyNames(g))
	}
}

func TestBaseUsageKeepsWhatOthersUse(t *testing.T) {
	hv := fake.New()
	upWith(t, hv, testLab("lab1"), oldSHA)
	if _, err := Down(ctx(), hv, "lab1", DownOptions{Pool: "lab1"}); err != nil {
		t.Fatal(err)
	}
	basePool, _ := hv.Pool(ctx(), BasePool)
	disk := basePool.Path + "/base-abababababab.qcow2"
	kernel := basePool.Path + "/base-abababababab.vmlinuz"

	// A volume labctl did not create, backed by the copy, in another pool.
	if _, err := hv.EnsurePool(ctx(), poolDef("default", "/var/lib/libvirt/images")); err != nil {
		t.Fatal(err)
	}
	mkVol := func(pool, name, backing string) {
		t.Helper()
		def := &libvirtxml.StorageVolume{Name: name, Capacity: &libvirtxml.StorageVolumeSize{Value: 1 << 30}}
		if backing != "" {
			def.BackingStore = &libvirtxml.StorageVolumeBackingStore{Path: backing}
		}
		if _, err := hv.CreateVolume(ctx(), pool, def, nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	mkVol("default", "mine.qcow2", disk)
	// A snapshot on top of it: the chain still reaches the copy.
	mkVol("default", "mine-snap.qcow2", "/var/lib/libvirt/images/mine.qcow2")
	// A domain of someone else's booting the copy's kernel.
	if err := hv.DefineDomain(ctx(), &libvirtxml.Domain{Name: "hand-made", OS: &libvirtxml.DomainOS{Kernel: kernel}}); err != nil {
		t.Fatal(err)
	}
	// A lab volume an interrupted up left without a domain.
	if _, err := hv.EnsurePool(ctx(), poolDef("lab3", "/var/lib/libvirt/images/lab3")); err != nil {
		t.Fatal(err)
	}
	mkVol("lab3", "lab3.web.root.qcow2", disk)
	// Foreign volumes in the base pool are never labctl's to remove.
	mkVol(BasePool, "notes.qcow2", "")

	u, err := ObserveBase(ctx(), hv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"base-abababababab [lab3] [domain hand-made volume default/mine-snap.qcow2 volume default/mine.qcow2] (3 vols)"}
	if diff := cmp.Diff(want, copyNames(u.Copies)); diff != "" {
		t.Errorf("copies (-want +got):\n%s", diff)
	}
	if !cmp.Equal(u.Foreign, []string{"notes.qcow2"}) {
		t.Errorf("foreign = %v", u.Foreign)
	}
	if g, err := u.Garbage(nil); err != nil || len(g) != 0 {
		t.Errorf("garbage = %v, %v; want none", copyNames(g), err)
	}
}

func TestBaseUsageByOwnershipMetadata(t *testing.T) {
	hv := fake.New()
	upWith(t, hv, testLab("lab1"), oldSHA)
	basePool, _ := hv.Pool(ctx(), BasePool)
	// A volume whose name says nothing, used by a domain labctl's metadata
	// assigns to lab "named": the metadata names the lab.
	def := &libvirtxml.StorageVolume{Name: "custom.qcow2", Capacity: &libvirtxml.StorageVolumeSize{Value: 1 << 30},
		BackingStore: &libvirtxml.StorageVolumeBackingStore{Path: basePool.Path + "/base-abababababab.qcow2"}}
	if _, err := hv.CreateVolume(ctx(), "lab1", def, nil, 0); err != nil {
		t.Fatal(err)
	}
	meta, err := libvirt.MarshalMeta(&libvirt.Meta{Lab: "named", Object: "vm", Kind: "domain"})
	if err != nil {
		t.Fatal(err)
	}
	dom := &libvirtxml.Domain{Name: "named-vm", Metadata: &libvirtxml.DomainMetadata{XML: meta},
		Devices: &libvirtxml.DomainDeviceList{Disks: []libvirtxml.DomainDisk{{Device: "disk",
			Source: &libvirtxml.DomainDiskSource{Volume: &libvirtxml.DomainDiskSourceVolume{Pool: "lab1", Volume: "custom.qcow2"}},
			Target: &libvirtxml.DomainDiskTarget{Dev: "vda", Bus: "virtio"}}}}}
	if err := hv.DefineDomain(ctx(), dom); err != nil {
		t.Fatal(err)
	}
	u, err := ObserveBase(ctx(), hv)
	if err != nil {
		t.Fatal(err)
	}
	if got := u.UsedBy("base"); !cmp.Equal(got, []string{"lab1", "named"}) {
		t.Errorf("UsedBy = %v, want [lab1 named]", got)
	}
}

func TestGarbageWaitsForInactivePools(t *testing.T) {
	hv := fake.New()
	upWith(t, hv, testLab("lab1"), oldSHA)
	hv.SetPoolActive("lab1", false)
	u, err := ObserveBase(ctx(), hv)
	if err != nil {
		t.Fatal(err)
	}
	_, err = u.Garbage(nil)
	var ue *UncheckedError
	if !errors.As(err, &ue) || !cmp.Equal(ue.Pools, []string{"lab1"}) {
		t.Errorf("garbage with an inactive pool: %v, want UncheckedError naming lab1", err)
	}
}

func TestObserveBaseWithoutBasePool(t *testing.T) {
	u, err := ObserveBase(ctx(), fake.New())
	if err != nil || u.Pool != nil || len(u.Copies) != 0 {
		t.Errorf("empty hypervisor: %+v, %v", u, err)
	}
	if g, err := u.Garbage(nil); err != nil || len(g) != 0 {
		t.Errorf("garbage = %v, %v", g, err)
	}
}
