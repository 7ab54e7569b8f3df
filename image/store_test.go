package image

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// putImage writes a minimal complete image into s.
func putImage(t *testing.T, s Store, m Manifest) {
	t.Helper()
	dir := s.Path(m.Name)
	if m.Disk == "" {
		m.Disk = DiskFile
	}
	writeTestFile(t, filepath.Join(dir, m.Disk), "qcow2")
	if err := WriteManifest(filepath.Join(dir, ManifestFile), m); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultDir(t *testing.T) {
	home := func() (string, error) { return "/home/u", nil }
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name string
		env  map[string]string
		euid int
		want string
	}{
		{"env wins", map[string]string{EnvImageDir: "/x", "XDG_DATA_HOME": "/d"}, 0, "/x"},
		{"root", nil, 0, "/var/lib/labctl/images"},
		{"user xdg", map[string]string{"XDG_DATA_HOME": "/d"}, 1000, "/d/labctl/images"},
		{"user home", nil, 1000, "/home/u/.local/share/labctl/images"},
	}
	for _, tt := range tests {
		if got := defaultDir(env(tt.env), tt.euid, home); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestStoreGetMissingNamesImageAndCommand(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	_, err := s.Get("bookworm-cloud")
	var nf *NotFoundError
	if !errors.As(err, &nf) {
		t.Fatalf("got %v, want *NotFoundError", err)
	}
	for _, want := range []string{`"bookworm-cloud"`, "labctl image build --name bookworm-cloud", s.Dir} {
		if !containsStr(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := s.Get("../etc"); err == nil || errors.As(err, &nf) {
		t.Errorf("path-like name must be rejected as invalid, got %v", err)
	}
}

func TestStoreListAndPaths(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	putImage(t, s, Manifest{Name: "zeta", Kind: KindImported})
	putImage(t, s, Manifest{Name: "alpha", Kind: KindBuilt, Kernel: KernelFile, Initrd: InitrdFile})
	// Staging dirs and stray dirs are not images.
	writeTestFile(t, filepath.Join(s.Dir, ".build-alpha-123", ManifestFile), "{}")
	if err := os.Mkdir(filepath.Join(s.Dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range imgs {
		names = append(names, i.Manifest.Name)
	}
	if diff := cmp.Diff([]string{"alpha", "zeta"}, names); diff != "" {
		t.Fatalf("List (-want +got):\n%s", diff)
	}
	a, z := imgs[0], imgs[1]
	if a.DiskPath() != filepath.Join(s.Dir, "alpha", DiskFile) || a.KernelPath() != filepath.Join(s.Dir, "alpha", KernelFile) ||
		a.InitrdPath() != filepath.Join(s.Dir, "alpha", InitrdFile) || !a.DirectKernelBoot() {
		t.Errorf("built image paths wrong: %s %s %s", a.DiskPath(), a.KernelPath(), a.InitrdPath())
	}
	if z.KernelPath() != "" || z.InitrdPath() != "" || z.DirectKernelBoot() {
		t.Errorf("imported image must boot from disk")
	}
}

func TestStoreRemove(t *testing.T) {
	s := Store{Dir: t.TempDir()}
	putImage(t, s, Manifest{Name: "img", Created: time.Now()})
	used := func(string) []string { return []string{"lab-a", "lab-b"} }
	err := s.Remove("img", used, false)
	var inUse *InUseError
	if !errors.As(err, &inUse) || !containsStr(err.Error(), "lab-a, lab-b") {
		t.Fatalf("got %v, want InUseError naming the labs", err)
	}
	if err := s.Remove("img", nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path("img")); !os.IsNotExist(err) {
		t.Errorf("image dir still exists: %v", err)
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 0 {
		t.Errorf("store not empty after rm: %v", entries)
	}
	var nf *NotFoundError
	if err := s.Remove("img", nil, false); !errors.As(err, &nf) {
		t.Errorf("removing a missing image: got %v, want NotFoundError", err)
	}
}
