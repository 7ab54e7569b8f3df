package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testImporter fakes qemu-img: info reports format, convert copies.
func testImporter(t *testing.T, format string) (*Importer, *fakeRunner) {
	t.Helper()
	fr := &fakeRunner{handler: func(name string, args []string) ([]byte, error) {
		switch {
		case name == "qemu-img" && args[0] == "info":
			return []byte(`{"format": "` + format + `", "virtual-size": 2147483648}`), nil
		case name == "qemu-img" && args[0] == "convert":
			data, err := os.ReadFile(args[len(args)-2])
			if err != nil {
				return nil, err
			}
			return nil, os.WriteFile(args[len(args)-1], data, 0o644)
		}
		return nil, errors.New("unexpected " + name)
	}}
	return &Importer{Store: Store{Dir: t.TempDir()}, Run: fr, LookPath: lookPathExcept(), Now: time.Now}, fr
}

func TestImportFileVerifiesChecksum(t *testing.T) {
	im, _ := testImporter(t, "qcow2")
	src := filepath.Join(t.TempDir(), "Debian-12-GenericCloud.qcow2")
	writeTestFile(t, src, "disk bytes")
	sum := sha256Hex([]byte("disk bytes"))

	_, err := im.Import(context.Background(), ImportOptions{Source: src, SHA256: sha256Hex([]byte("other"))})
	var mm *ChecksumMismatchError
	if !errors.As(err, &mm) {
		t.Fatalf("got %v, want checksum mismatch", err)
	}
	if imgs, _ := im.Store.List(); len(imgs) != 0 {
		t.Fatalf("mismatch left an image behind")
	}
	if entries, _ := os.ReadDir(im.Store.Dir); len(entries) != 0 {
		t.Errorf("mismatch left staging behind: %v", entries)
	}

	img, err := im.Import(context.Background(), ImportOptions{Source: src, SHA256: sum})
	if err != nil {
		t.Fatal(err)
	}
	m := img.Manifest
	if m.Name != "debian-12-genericcloud" || m.Kind != KindImported || m.Kernel != "" || img.DirectKernelBoot() ||
		m.Source != src || m.SHA256 != sum || m.VirtualSizeBytes != 2<<30 {
		t.Errorf("manifest = %+v", m)
	}
	if _, err := im.Import(context.Background(), ImportOptions{Source: src, SHA256: sum}); err == nil {
		t.Error("importing over an existing image without --force must fail")
	}
}

func TestImportURLNeedsChecksum(t *testing.T) {
	im, fr := testImporter(t, "qcow2")
	_, err := im.Import(context.Background(), ImportOptions{Source: "https://example.org/x.qcow2"})
	if err == nil || !containsStr(err.Error(), "--sha256") || !containsStr(err.Error(), "--insecure") {
		t.Fatalf("got %v, want refusal naming --sha256 and --insecure", err)
	}
	if len(fr.calls) != 0 {
		t.Errorf("ran commands: %v", fr.calls)
	}
	if _, err := im.Import(context.Background(), ImportOptions{Source: "x.img", SHA256: "zz"}); err == nil {
		t.Error("bad hex checksum accepted")
	}
}

func TestImportRejectsOtherFormats(t *testing.T) {
	im, _ := testImporter(t, "vmdk")
	src := filepath.Join(t.TempDir(), "x.vmdk")
	writeTestFile(t, src, "x")
	if _, err := im.Import(context.Background(), ImportOptions{Source: src}); err == nil || !containsStr(err.Error(), "vmdk") {
		t.Errorf("got %v, want format error", err)
	}
}

func TestNameFromSource(t *testing.T) {
	for src, want := range map[string]string{
		"/tmp/debian-12-genericcloud-amd64.qcow2":                    "debian-12-genericcloud-amd64",
		"https://cloud.debian.org/images/x/Debian_12.raw?download=1": "debian_12",
		"focal.img.xz": "focal",
	} {
		if got := NameFromSource(src); got != want {
			t.Errorf("NameFromSource(%q) = %q, want %q", src, got, want)
		}
	}
}
