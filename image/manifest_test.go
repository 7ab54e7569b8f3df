package image

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestManifestRoundTrip(t *testing.T) {
	m := Manifest{
		Name: "bookworm-cloud", Kind: KindBuilt, Suite: "bookworm",
		Mirror: "http://deb.debian.org/debian", SecurityMirror: "http://deb.debian.org/debian-security",
		KernelFlavour: KernelCloud, KernelVersion: "6.1.0-56-cloud-amd64",
		Disk: DiskFile, Kernel: KernelFile, Initrd: InitrdFile, Cmdline: Cmdline(true),
		Firstboot: FirstbootLabctl,
		SHA256:    "ab12", SizeBytes: 123, VirtualSizeBytes: 4 << 30,
		Buses: []string{"virtio", "scsi", "ide"}, NICModels: []string{"virtio"},
		Packages:   []Package{{"cloud-init", "22.4.2-1+deb12u4"}, {"systemd", "252.39-1~deb12u2"}},
		InputsHash: "ff", Created: time.Date(2026, 11, 26, 3, 30, 11, 0, time.UTC),
		BuildSeconds: 129.7, LabctlVersion: "dev (abc)", Trimmed: true,
	}
	p := filepath.Join(t.TempDir(), ManifestFile)
	if err := WriteManifest(p, m); err != nil {
		t.Fatal(err)
	}
	got, err := ReadManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("round trip changed the manifest (-want +got):\n%s", diff)
	}
}

func TestReadManifestNamesBadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), ManifestFile)
	writeTestFile(t, p, "{not json")
	_, err := ReadManifest(p)
	if err == nil || !containsStr(err.Error(), p) {
		t.Errorf("error %v should name %s", err, p)
	}
}
