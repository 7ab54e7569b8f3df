package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Store is a directory of images, one subdirectory per image:
// <Dir>/<name>/{disk.qcow2,vmlinuz,initrd.img,manifest.json}.
// Images are shared by all labs and never written by a VM.
type Store struct{ Dir string }

// File names inside an image directory.
const (
	DiskFile   = "disk.qcow2"
	KernelFile = "vmlinuz"
	InitrdFile = "initrd.img"
)

// EnvImageDir overrides the default store location.
const EnvImageDir = "LABCTL_IMAGE_DIR"

// DefaultStore returns the store labctl uses when --image-dir is not given:
// $LABCTL_IMAGE_DIR, else /var/lib/labctl/images for root, else
// $XDG_DATA_HOME/labctl/images (~/.local/share/labctl/images).
func DefaultStore() Store {
	return Store{Dir: defaultDir(os.Getenv, os.Geteuid(), os.UserHomeDir)}
}

func defaultDir(getenv func(string) string, euid int, home func() (string, error)) string {
	if d := getenv(EnvImageDir); d != "" {
		return d
	}
	if euid == 0 {
		return "/var/lib/labctl/images"
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "labctl", "images")
	}
	h, err := home()
	if err != nil || h == "" {
		return filepath.Join(os.TempDir(), "labctl", "images")
	}
	return filepath.Join(h, ".local", "share", "labctl", "images")
}

// Image is one stored image.
type Image struct {
	Dir      string
	Manifest Manifest
}

// DiskPath is the qcow2 labs clone from.
func (i *Image) DiskPath() string { return filepath.Join(i.Dir, i.Manifest.Disk) }

// KernelPath is the kernel for direct kernel boot, "" for a disk-boot image.
func (i *Image) KernelPath() string {
	if i.Manifest.Kernel == "" {
		return ""
	}
	return filepath.Join(i.Dir, i.Manifest.Kernel)
}

// InitrdPath is the initramfs for direct kernel boot, "" if none.
func (i *Image) InitrdPath() string {
	if i.Manifest.Initrd == "" {
		return ""
	}
	return filepath.Join(i.Dir, i.Manifest.Initrd)
}

// DirectKernelBoot reports whether the image boots with an external kernel.
func (i *Image) DirectKernelBoot() bool { return i.Manifest.Kernel != "" }

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateName rejects names that are not a plain directory name.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) || strings.Contains(name, "..") {
		return fmt.Errorf("invalid image name %q: use lowercase letters, digits, '.', '_' and '-' (max 63, starting with a letter or digit)", name)
	}
	return nil
}

// NotFoundError says an image is not in the store and how to get it.
type NotFoundError struct {
	Name  string
	Store string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("image %q not found in %s: build it with `sudo labctl image build --name %s` or import one with `labctl image import FILE --sha256 HEX --name %s`",
		e.Name, e.Store, e.Name, e.Name)
}

// Path returns the directory image name would live in.
func (s Store) Path(name string) string { return filepath.Join(s.Dir, name) }

// Get loads image name. A missing image gives a *NotFoundError.
func (s Store) Get(name string) (*Image, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	dir := s.Path(name)
	m, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NotFoundError{Name: name, Store: s.Dir}
	}
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", name, err)
	}
	img := &Image{Dir: dir, Manifest: m}
	if _, err := os.Stat(img.DiskPath()); err != nil {
		return nil, fmt.Errorf("image %q is incomplete (%v): remove it with `labctl image rm %s` and build or import it again", name, err, name)
	}
	return img, nil
}

// List returns every complete image, sorted by name. Staging directories
// (names starting with '.') are skipped.
func (s Store) List() ([]*Image, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	var out []*Image
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || ValidateName(e.Name()) != nil {
			continue
		}
		img, err := s.Get(e.Name())
		var nf *NotFoundError
		if errors.As(err, &nf) {
			continue // not an image directory
		}
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Manifest.Name < out[b].Manifest.Name })
	return out, nil
}

// UsedByFunc reports which labs use an image.
type UsedByFunc func(image string) []string

// InUseError refuses to remove an image labs still use.
type InUseError struct {
	Name string
	Labs []string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("image %q is used by %s: `labctl down` them first, or pass --force (their VMs keep running on their copy in the base pool, but `labctl up` needs the image again)",
		e.Name, strings.Join(e.Labs, ", "))
}

// Remove deletes image name. Unless force, it refuses while usedBy reports labs.
func (s Store) Remove(name string, usedBy UsedByFunc, force bool) error {
	img, err := s.Get(name)
	if err != nil {
		var nf *NotFoundError
		if !errors.As(err, &nf) {
			// Incomplete image: still removable.
			if _, statErr := os.Stat(s.Path(name)); statErr != nil {
				return err
			}
		} else {
			return err
		}
	}
	if usedBy != nil && !force {
		if labs := usedBy(name); len(labs) > 0 {
			return &InUseError{Name: name, Labs: labs}
		}
	}
	dir := s.Path(name)
	if img != nil {
		dir = img.Dir
	}
	// Rename first so a half-deleted image never looks complete.
	trash, err := os.MkdirTemp(s.Dir, ".rm-"+name+"-")
	if err != nil {
		return fmt.Errorf("remove image %q: %w", name, err)
	}
	if err := os.Rename(dir, filepath.Join(trash, name)); err != nil {
		_ = os.Remove(trash)
		return fmt.Errorf("remove image %q: %w", name, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove image %q: %w", name, err)
	}
	return nil
}
