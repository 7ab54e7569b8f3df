package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/labctl/labctl/internal/version"
)

// Builder builds images into a Store. Run, LookPath and Euid are
// injectable so tests need neither root nor the host tools.
type Builder struct {
	Store    Store
	Run      Runner
	LookPath func(string) (string, error)
	Euid     func() int
	HostRoot fs.FS     // host filesystem for apt sources; nil = os.DirFS("/")
	Log      io.Writer // progress lines; nil discards
	Now      func() time.Time
}

// NewBuilder returns a Builder that runs real host commands.
func NewBuilder(s Store, log io.Writer, verbose bool) *Builder {
	return &Builder{
		Store:    s,
		Run:      ExecRunner{Log: stepLog(log, verbose), Verbose: verbose},
		LookPath: exec.LookPath,
		Euid:     os.Geteuid,
		Log:      log,
		Now:      time.Now,
	}
}

func stepLog(w io.Writer, verbose bool) io.Writer {
	if !verbose || w == nil {
		return io.Discard
	}
	return w
}

// Defaults fills in what the user left empty: suite bookworm, cloud
// kernel, the host's apt mirrors, name <suite>-<kernel>.
func (b *Builder) Defaults(o BuildOptions) BuildOptions {
	if o.Suite == "" {
		o.Suite = "bookworm"
	}
	if o.Kernel == "" {
		o.Kernel = KernelCloud
	}
	host := HostMirrors(b.hostRoot(), o.Suite)
	if o.Mirror == "" {
		o.Mirror = host.Main
		if o.SecurityMirror == "" {
			o.SecurityMirror = host.Security
		}
	}
	if o.SecurityMirror == "none" {
		o.SecurityMirror = ""
	}
	if o.Name == "" {
		o.Name = o.Suite + "-" + o.Kernel
	}
	if o.DiskSize == 0 {
		o.DiskSize = DefaultDiskSize
	}
	return o
}

func (b *Builder) hostRoot() fs.FS {
	if b.HostRoot != nil {
		return b.HostRoot
	}
	return os.DirFS("/")
}

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, format+"\n", args...)
	}
}

// BuildResult is what Build produced.
type BuildResult struct {
	Image  *Image
	Cached bool // same inputs already built: nothing was done
}

// Build debootstraps an image for o (after Defaults) into the store.
// Identical inputs return the existing image unless o.Force. Replacing an
// image labs use is fine: their disks are clones of their own copy of it in
// the libvirt base pool, never of the store's file. The image
// appears in the store only when complete; on error or cancellation the
// staging directory is unmounted and removed.
func (b *Builder) Build(ctx context.Context, o BuildOptions) (BuildResult, error) {
	o = b.Defaults(o)
	if err := ValidateName(o.Name); err != nil {
		return BuildResult{}, err
	}
	pkgs, err := Packages(o.Kernel, o.Packages)
	if err != nil {
		return BuildResult{}, err
	}
	hash, err := InputsHash(o, pkgs)
	if err != nil {
		return BuildResult{}, err
	}
	existing, err := b.Store.Get(o.Name)
	var nf *NotFoundError
	switch {
	case err == nil && existing.Manifest.InputsHash == hash && !o.Force:
		return BuildResult{Image: existing, Cached: true}, nil
	case err == nil && !o.Force && !sameOptions(existing.Manifest, o):
		return BuildResult{}, fmt.Errorf("image %q exists but was built with other options: pass --force to rebuild it or choose another --name", o.Name)
	case err == nil && !o.Force:
		// Same options, but labctl's recipe changed (an upgrade): the old
		// image is stale, and labs keep their own copy of it in the base pool.
		b.logf("image %q was built by another labctl recipe; rebuilding it", o.Name)
	case err != nil && !errors.As(err, &nf) && !o.Force:
		return BuildResult{}, err
	}
	if err := b.preflight(ctx, o, pkgs); err != nil {
		return BuildResult{}, err
	}
	img, err := b.build(ctx, o, pkgs, hash)
	if err != nil {
		return BuildResult{}, fmt.Errorf("build image %q: %w", o.Name, err)
	}
	return BuildResult{Image: img}, nil
}

// sameOptions reports whether m was built from the user-facing options of
// o (everything but labctl's own recipe).
func sameOptions(m Manifest, o BuildOptions) bool {
	return m.Kind == KindBuilt && m.Suite == o.Suite && m.Mirror == o.Mirror &&
		m.SecurityMirror == o.SecurityMirror && m.KernelFlavour == o.Kernel &&
		m.Trimmed == !o.NoTrim && m.VirtualSizeBytes == o.DiskSize &&
		slices.Equal(m.ExtraPackages, sortedCopy(o.Packages))
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return slices.Compact(c)
}

// preflight fails before any download: root, host tools, package names.
func (b *Builder) preflight(ctx context.Context, o BuildOptions, pkgs []string) error {
	if b.Euid() != 0 {
		return ErrNotRoot
	}
	if err := checkTools(b.LookPath, buildTools); err != nil {
		return err
	}
	if !hostHasSuite(b.hostRoot(), o.Suite) {
		b.logf("note: the host's apt sources do not list %q; package names are checked during the build", o.Suite)
		return nil
	}
	return checkPackages(ctx, b.Run, o.Suite, pkgs)
}

func (b *Builder) build(ctx context.Context, o BuildOptions, pkgs []string, hash string) (img *Image, err error) {
	start := b.Now()
	if err := os.MkdirAll(b.Store.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	debCache := filepath.Join(b.Store.Dir, ".cache", "debs")
	if err := os.MkdirAll(filepath.Join(debCache, "partial"), 0o755); err != nil {
		return nil, fmt.Errorf("create deb cache: %w", err)
	}
	staging, err := os.MkdirTemp(b.Store.Dir, ".build-"+o.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("create staging dir: %w", err)
	}
	root := filepath.Join(staging, "root")
	defer func() {
		if uerr := unmountAll(b.Run, staging); uerr != nil {
			// Never RemoveAll across a live bind mount of /dev.
			err = errors.Join(err, fmt.Errorf("clean up %s by hand: %w", staging, uerr))
			return
		}
		if err != nil {
			if rerr := os.RemoveAll(staging); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()

	s := &buildState{b: b, o: o, pkgs: pkgs, root: root, staging: staging, debCache: debCache}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{fmt.Sprintf("debootstrap %s from %s", o.Suite, o.Mirror), s.debootstrap},
		{"configure chroot", s.configure},
		{fmt.Sprintf("install %d packages", len(pkgs)), s.install},
		{"trim and clean", s.finish},
		{"inspect packages and kernel", s.inspect},
		{"make ext4 filesystem and qcow2", s.makeDisk},
	}
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := b.Now()
		b.logf("==> %s", st.name)
		if err := st.fn(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", st.name, err)
		}
		b.logf("    done in %s", b.Now().Sub(t).Round(100*time.Millisecond))
	}
	m := s.manifest
	m.Name, m.Kind, m.Suite, m.Mirror, m.SecurityMirror = o.Name, KindBuilt, o.Suite, o.Mirror, o.SecurityMirror
	m.KernelFlavour, m.Trimmed, m.Cmdline = o.Kernel, !o.NoTrim, Cmdline(!o.NoTrim)
	if !o.NoTrim {
		m.Firstboot = FirstbootLabctl // rootfs/trim has it
	}
	m.ExtraPackages = sortedCopy(o.Packages)
	m.Disk, m.Kernel, m.Initrd = DiskFile, KernelFile, InitrdFile
	m.InputsHash, m.LabctlVersion = hash, version.String()
	m.Created = b.Now().UTC().Truncate(time.Second)
	m.BuildSeconds = b.Now().Sub(start).Round(100 * time.Millisecond).Seconds()
	if err := WriteManifest(filepath.Join(staging, ManifestFile), m); err != nil {
		return nil, err
	}
	// MkdirTemp made it 0700; qemu runs as another user and must read it.
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, fmt.Errorf("chmod staging dir: %w", err)
	}
	if err := b.Store.install(staging, o.Name); err != nil {
		return nil, err
	}
	return b.Store.Get(o.Name)
}

// install renames a finished staging dir to <store>/<name>, replacing an
// older image only once the new one is in place.
func (s Store) install(staging, name string) error {
	final := s.Path(name)
	var old string
	if _, err := os.Stat(final); err == nil {
		tmp, err := os.MkdirTemp(s.Dir, ".old-"+name+"-")
		if err != nil {
			return fmt.Errorf("replace image %q: %w", name, err)
		}
		old = filepath.Join(tmp, name)
		if err := os.Rename(final, old); err != nil {
			return fmt.Errorf("replace image %q: %w", name, err)
		}
	}
	if err := os.Rename(staging, final); err != nil {
		if old != "" {
			_ = os.Rename(old, final)
		}
		return fmt.Errorf("install image %q: %w", name, err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Dir(old)); err != nil {
			return fmt.Errorf("remove previous image %q: %w", name, err)
		}
	}
	return nil
}
