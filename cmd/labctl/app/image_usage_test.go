package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"libvirt.org/go/libvirtxml"
)

// runImageWith runs `labctl image ARGS` against hv (nil: libvirt is
// unreachable) and returns stdout, stderr and the error.
func runImageWith(t *testing.T, hv libvirt.Hypervisor, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &App{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb}}
	cmd := newImageCmdWith(a, func(context.Context, string) (libvirt.Hypervisor, error) {
		if hv == nil {
			return nil, errors.New("connect to libvirt qemu:///system: no such file or directory")
		}
		return hv, nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

const (
	curSHA = "1111111111111111111111111111111111111111111111111111111111111111"
	oldSHA = "2222222222222222222222222222222222222222222222222222222222222222"
)

// usageFixture is a store with bookworm-cloud (disk sha curSHA) and deb12,
// and a hypervisor where lab "web" runs on the current copy of
// bookworm-cloud, lab "old" on an older copy, an unused older copy of
// deb12 waits for collection, and a foreign volume sits in the base pool.
func usageFixture(t *testing.T) (string, *fake.Hypervisor) {
	t.Helper()
	dir := seedStore(t)
	s := image.Store{Dir: dir}
	for name, sha := range map[string]string{"bookworm-cloud": curSHA, "deb12": curSHA} {
		img, err := s.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		img.Manifest.SHA256 = sha
		if err := writeImage(s, img.Manifest); err != nil {
			t.Fatal(err)
		}
	}
	hv := fake.New()
	ctx := context.Background()
	pool := func(name string) {
		def := &libvirtxml.StoragePool{Type: "dir", Name: name, Target: &libvirtxml.StoragePoolTarget{Path: "/pools/" + name}}
		if _, err := hv.EnsurePool(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	vol := func(pool, name, backing string, size int64) {
		def := &libvirtxml.StorageVolume{Name: name, Capacity: &libvirtxml.StorageVolumeSize{Value: 1 << 30}}
		if backing != "" {
			def.BackingStore = &libvirtxml.StorageVolumeBackingStore{Path: "/pools/" + engine.BasePool + "/" + backing}
		}
		var content *strings.Reader
		if size > 0 {
			content = strings.NewReader(strings.Repeat("x", int(size)))
		}
		var err error
		if content != nil {
			_, err = hv.CreateVolume(ctx, pool, def, content, size)
		} else {
			_, err = hv.CreateVolume(ctx, pool, def, nil, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pool(engine.BasePool)
	for _, n := range []string{"bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz",
		"bookworm-cloud-222222222222.qcow2", "bookworm-cloud-222222222222.vmlinuz", "deb12-222222222222.qcow2", "keep-me.qcow2"} {
		vol(engine.BasePool, n, "", 4096)
	}
	pool("web")
	vol("web", "web.www.root.qcow2", "bookworm-cloud-111111111111.qcow2", 0)
	pool("old")
	vol("old", "old.db.root.qcow2", "bookworm-cloud-222222222222.qcow2", 0)
	return dir, hv
}

func TestImageListShowsLabs(t *testing.T) {
	dir, hv := usageFixture(t)
	out, errs, err := runImageWith(t, hv, "list", "--image-dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, "bookworm-cloud") && !strings.Contains(line, "old,web"):
			t.Errorf("bookworm-cloud row should name labs old and web: %q", line)
		case strings.Contains(line, "deb12") && !strings.Contains(line, " - "):
			t.Errorf("deb12 row should say no lab uses it: %q", line)
		}
	}
	if !strings.Contains(errs, "1 unused image copy(ies)") || !strings.Contains(errs, "labctl image prune") {
		t.Errorf("list should point at prune for deb12's old copy; stderr:\n%s", errs)
	}
	out, _, err = runImageWith(t, hv, "list", "--image-dir", dir, "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []imageRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || strings.Join(rows[0].UsedBy, ",") != "old,web" || rows[1].UsedBy == nil || len(rows[1].UsedBy) != 0 {
		t.Errorf("json rows = %+v", rows)
	}
}

func TestImageListWithoutLibvirt(t *testing.T) {
	dir, _ := usageFixture(t)
	out, errs, err := runImageWith(t, nil, "list", "--image-dir", dir)
	if err != nil {
		t.Fatalf("list must work without libvirt: %v", err)
	}
	if !strings.Contains(out, " ? ") || !strings.Contains(out, "bookworm-cloud") {
		t.Errorf("USED BY should be ?:\n%s", out)
	}
	if n := strings.Count(strings.TrimSpace(errs), "\n"); n != 0 || !strings.Contains(errs, "USED BY is unknown") {
		t.Errorf("want a one-line note on stderr, got:\n%s", errs)
	}
}

func TestImageRmRefusesInUseAndCollects(t *testing.T) {
	dir, hv := usageFixture(t)
	_, _, err := runImageWith(t, hv, "rm", "bookworm-cloud", "--image-dir", dir)
	var inUse *image.InUseError
	if !errors.As(err, &inUse) || !strings.Contains(err.Error(), "old, web") {
		t.Fatalf("rm of an image in use: %v, want InUseError naming old and web", err)
	}
	if _, err := os.Stat(image.Store{Dir: dir}.Path("bookworm-cloud")); err != nil {
		t.Fatalf("refused rm removed the image: %v", err)
	}

	// deb12 is unused: rm removes it and its copy, nothing else.
	out, errs, err := runImageWith(t, hv, "rm", "deb12", "--image-dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	if !strings.Contains(out, "removed base volume labctl-base/deb12-222222222222.qcow2") {
		t.Errorf("rm should report the collected copy:\n%s", out)
	}
	assertBaseVolumes(t, hv, "bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz",
		"bookworm-cloud-222222222222.qcow2", "bookworm-cloud-222222222222.vmlinuz", "keep-me.qcow2")

	// --force removes the image; the labs' copies stay.
	if _, errs, err := runImageWith(t, hv, "rm", "--force", "bookworm-cloud", "--image-dir", dir); err != nil {
		t.Fatalf("rm --force: %v: %s", err, errs)
	} else if !strings.Contains(errs, "used by web") {
		t.Errorf("rm --force should say which copies stay:\n%s", errs)
	}
	assertBaseVolumes(t, hv, "bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz",
		"bookworm-cloud-222222222222.qcow2", "bookworm-cloud-222222222222.vmlinuz", "keep-me.qcow2")
}

func TestImageRmWithoutLibvirt(t *testing.T) {
	dir, _ := usageFixture(t)
	_, _, err := runImageWith(t, nil, "rm", "deb12", "--image-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "cannot tell which labs use") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("rm without libvirt: %v", err)
	}
	_, _, err = runImageWith(t, nil, "rm", "nope", "--image-dir", dir)
	var nf *image.NotFoundError
	if !errors.As(err, &nf) {
		t.Errorf("rm of a missing image without libvirt: %v, want not found", err)
	}
	if _, errs, err := runImageWith(t, nil, "rm", "--force", "deb12", "--image-dir", dir); err != nil || !strings.Contains(errs, "labctl image prune") {
		t.Errorf("rm --force without libvirt: %v, stderr %q", err, errs)
	}
}

func TestImagePrune(t *testing.T) {
	dir, hv := usageFixture(t)
	// The old lab goes: its copy of bookworm-cloud is garbage now.
	if err := hv.DeleteVolume(context.Background(), "old", "old.db.root.qcow2"); err != nil {
		t.Fatal(err)
	}
	out, errs, err := runImageWith(t, hv, "prune", "--dry-run", "--image-dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	for _, want := range []string{"would remove base volume labctl-base/bookworm-cloud-222222222222.qcow2",
		"would remove base volume labctl-base/bookworm-cloud-222222222222.vmlinuz", "would remove base volume labctl-base/deb12-222222222222.qcow2"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "111111111111") || strings.Contains(out, "keep-me") {
		t.Errorf("dry run would remove a copy in use or a foreign volume:\n%s", out)
	}
	if !strings.Contains(errs, "kept bookworm-cloud-111111111111: used by web") {
		t.Errorf("prune should say what it keeps:\n%s", errs)
	}
	all := []string{"bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz",
		"bookworm-cloud-222222222222.qcow2", "bookworm-cloud-222222222222.vmlinuz", "deb12-222222222222.qcow2", "keep-me.qcow2"}
	assertBaseVolumes(t, hv, all...)

	// Limited to deb12: bookworm-cloud's old copy stays.
	if _, errs, err := runImageWith(t, hv, "prune", "deb12", "--image-dir", dir); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	assertBaseVolumes(t, hv, "bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz",
		"bookworm-cloud-222222222222.qcow2", "bookworm-cloud-222222222222.vmlinuz", "keep-me.qcow2")

	if _, errs, err := runImageWith(t, hv, "prune", "--image-dir", dir); err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	assertBaseVolumes(t, hv, "bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz", "keep-me.qcow2")

	// Without libvirt, prune is an error: it has nothing to act on.
	if _, _, err := runImageWith(t, nil, "prune", "--image-dir", dir); err == nil {
		t.Error("prune without libvirt succeeded")
	}
}

func assertBaseVolumes(t *testing.T, hv *fake.Hypervisor, want ...string) {
	t.Helper()
	vols, err := hv.ListVolumes(context.Background(), engine.BasePool)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vols {
		got = append(got, v.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("base pool = %v\nwant        %v", got, want)
	}
}

func TestCollectAfterReplace(t *testing.T) {
	dir, hv := usageFixture(t)
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	f := &imageFlags{dir: dir, dial: func(context.Context, string) (libvirt.Hypervisor, error) { return hv, nil }}
	// As after `image build` replaced bookworm-cloud: its copy in use by
	// "old" stays, as does the current one (in use by "web").
	f.collectAfter(context.Background(), a, nil, "bookworm-cloud")
	if out.Len() != 0 || !strings.Contains(errb.String(), "kept base copy bookworm-cloud-222222222222") {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
	// Once "old" is gone, its copy is collected; deb12's is not (another image).
	if err := hv.DeleteVolume(context.Background(), "old", "old.db.root.qcow2"); err != nil {
		t.Fatal(err)
	}
	f.collectAfter(context.Background(), a, nil, "bookworm-cloud")
	assertBaseVolumes(t, hv, "bookworm-cloud-111111111111.qcow2", "bookworm-cloud-111111111111.vmlinuz",
		"deb12-222222222222.qcow2", "keep-me.qcow2")

	// libvirt unreachable: a note, no error.
	errb.Reset()
	f.dial = func(context.Context, string) (libvirt.Hypervisor, error) { return nil, errors.New("no libvirtd") }
	f.collectAfter(context.Background(), a, nil, "deb12")
	if !strings.Contains(errb.String(), "run `labctl image prune` later") {
		t.Errorf("stderr %q", errb.String())
	}
}
