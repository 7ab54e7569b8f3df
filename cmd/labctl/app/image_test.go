package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/libvirt/fake"
)

func runImageCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), IO{In: strings.NewReader(""), Out: &out, Err: &errb}, args)
	return out.String(), errb.String(), code
}

func seedStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := image.Store{Dir: dir}
	for _, m := range []image.Manifest{
		{Name: "bookworm-cloud", Kind: image.KindBuilt, KernelFlavour: "cloud", KernelVersion: "6.1.0-56-cloud-amd64",
			Kernel: image.KernelFile, Disk: image.DiskFile, SizeBytes: 600 << 20, Created: time.Date(2026, 11, 26, 3, 30, 0, 0, time.UTC)},
		{Name: "deb12", Kind: image.KindImported, Disk: image.DiskFile, SizeBytes: 300 << 20},
	} {
		if err := writeImage(s, m); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeImage(s image.Store, m image.Manifest) error {
	dir := s.Path(m.Name)
	if err := mkdirWrite(filepath.Join(dir, m.Disk), "x"); err != nil {
		return err
	}
	return image.WriteManifest(filepath.Join(dir, image.ManifestFile), m)
}

func TestImageListTableAndJSON(t *testing.T) {
	dir := seedStore(t)
	out, errs, err := runImageWith(t, nil, "list", "--image-dir", dir)
	if err != nil {
		t.Fatalf("%v: %s", err, errs)
	}
	for _, want := range []string{"NAME", "USED BY", "bookworm-cloud", "600.0 MiB", "cloud 6.1.0-56-cloud-amd64", "deb12", "disk boot"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// libvirt unreachable: "?" in the table, null in JSON.
	if !strings.Contains(out, " ? ") {
		t.Errorf("used-by should print '?' when unknown:\n%s", out)
	}
	out, _, err = runImageWith(t, nil, "list", "--image-dir", dir, "-o", "json")
	if err != nil {
		t.Fatalf("json list failed: %v", err)
	}
	var rows []imageRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("bad json %v:\n%s", err, out)
	}
	if len(rows) != 2 || rows[0].Name != "bookworm-cloud" || rows[1].Kernel != "disk boot" || rows[0].UsedBy != nil {
		t.Errorf("rows = %+v", rows)
	}
}

func TestImageRmAndErrors(t *testing.T) {
	dir := seedStore(t)
	hv := fake.New() // libvirt without labs
	if _, errs, err := runImageWith(t, hv, "rm", "deb12", "--image-dir", dir); err != nil {
		t.Fatalf("rm failed: %v: %s", err, errs)
	}
	_, _, err := runImageWith(t, hv, "rm", "deb12", "--image-dir", dir)
	if err == nil || !strings.Contains(err.Error(), `image "deb12" not found`) {
		t.Errorf("second rm: %v", err)
	}
	_, errs, code := runImageCmd(t, "image", "import", "https://example.org/x.qcow2", "--image-dir", dir)
	if code == 0 || !strings.Contains(errs, "without a checksum") {
		t.Errorf("import without checksum: exit %d, %q", code, errs)
	}
	_, errs, code = runImageCmd(t, "image", "list", "--image-dir", dir, "-o", "yaml")
	if code == 0 || !strings.Contains(errs, `--output "yaml"`) {
		t.Errorf("bad output format: exit %d, %q", code, errs)
	}
}

func mkdirWrite(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}
