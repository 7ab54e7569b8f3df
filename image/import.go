package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/labctl/labctl/internal/version"
)

// ImportOptions are the inputs of `labctl image import`.
type ImportOptions struct {
	Source   string // local file or http(s) URL
	SHA256   string // expected checksum of Source; required for URLs unless Insecure
	Name     string // default: derived from the file name
	Insecure bool
	Force    bool // replace an existing image of that name
}

// Importer registers existing cloud images (own bootloader, disk boot).
type Importer struct {
	Store    Store
	Run      Runner
	LookPath func(string) (string, error)
	HTTP     *http.Client
	Log      io.Writer
	Now      func() time.Time
}

// NewImporter returns an Importer using real host commands and HTTP.
func NewImporter(s Store, log io.Writer) *Importer {
	return &Importer{Store: s, Run: ExecRunner{}, LookPath: exec.LookPath,
		HTTP: &http.Client{Timeout: 30 * time.Minute}, Log: log, Now: time.Now}
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ChecksumMismatchError is a download or file whose sha256 differs.
type ChecksumMismatchError struct{ Source, Want, Got string }

func (e *ChecksumMismatchError) Error() string {
	return fmt.Sprintf("sha256 mismatch for %s: expected %s, got %s", e.Source, e.Want, e.Got)
}

func isURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// NameFromSource derives an image name from a file name or URL:
// debian-12-genericcloud-amd64.qcow2 → debian-12-genericcloud-amd64.
func NameFromSource(src string) string {
	base := src
	if u, err := url.Parse(src); err == nil && isURL(src) {
		base = u.Path
	}
	base = strings.ToLower(filepath.Base(base))
	for _, ext := range []string{".xz", ".gz", ".qcow2", ".img", ".raw"} {
		base = strings.TrimSuffix(base, ext)
	}
	base = regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(base, "-")
	return strings.Trim(base, "-.")
}

// Import copies or downloads a disk image, verifies its checksum, stores
// it as qcow2 and writes a manifest of Kind "imported" (Kernel empty, so
// VMs boot it with its own bootloader).
func (im *Importer) Import(ctx context.Context, o ImportOptions) (*Image, error) {
	o.SHA256 = strings.ToLower(strings.TrimSpace(o.SHA256))
	if o.SHA256 != "" && !hexRE.MatchString(o.SHA256) {
		return nil, fmt.Errorf("--sha256 %q is not 64 hex digits", o.SHA256)
	}
	remote := isURL(o.Source)
	if remote && o.SHA256 == "" && !o.Insecure {
		return nil, fmt.Errorf("refusing to import %s without a checksum: pass --sha256 HEX (or --insecure to skip verification)", o.Source)
	}
	if o.Name == "" {
		o.Name = NameFromSource(o.Source)
	}
	if err := ValidateName(o.Name); err != nil {
		return nil, err
	}
	if _, err := im.Store.Get(o.Name); err == nil && !o.Force {
		return nil, fmt.Errorf("image %q already exists: pass --force to replace it or choose another --name", o.Name)
	}
	if err := checkTools(im.LookPath, importTools); err != nil {
		return nil, err
	}
	if !remote {
		if _, err := os.Stat(o.Source); err != nil {
			return nil, fmt.Errorf("import %s: %w", o.Source, err)
		}
	}
	img, err := im.importInto(ctx, o, remote)
	if err != nil {
		return nil, fmt.Errorf("import image %q: %w", o.Name, err)
	}
	return img, nil
}

func (im *Importer) importInto(ctx context.Context, o ImportOptions, remote bool) (img *Image, err error) {
	if err := os.MkdirAll(im.Store.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create store: %w", err)
	}
	staging, err := os.MkdirTemp(im.Store.Dir, ".import-"+o.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("create staging dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(staging)
		}
	}()
	src := o.Source
	if remote {
		src = filepath.Join(staging, "download")
		if err := im.download(ctx, o.Source, src); err != nil {
			return nil, err
		}
	}
	if o.SHA256 != "" {
		got, _, err := fileSHA256(src)
		if err != nil {
			return nil, err
		}
		if got != o.SHA256 {
			return nil, &ChecksumMismatchError{Source: o.Source, Want: o.SHA256, Got: got}
		}
	} else {
		fmt.Fprintf(im.logw(), "warning: %s imported without checksum verification (--insecure)\n", o.Source)
	}
	info, err := im.qemuInfo(ctx, src)
	if err != nil {
		return nil, err
	}
	if info.BackingFilename != "" {
		return nil, fmt.Errorf("%s has a backing file (%s): import a standalone image", o.Source, info.BackingFilename)
	}
	if info.Format != "qcow2" && info.Format != "raw" {
		return nil, fmt.Errorf("%s is %q: only qcow2 and raw images can be imported", o.Source, info.Format)
	}
	disk := filepath.Join(staging, DiskFile)
	fmt.Fprintf(im.logw(), "==> converting %s (%s) to qcow2\n", o.Source, info.Format)
	if _, err := im.Run.Run(ctx, "qemu-img", "convert", "-f", info.Format, "-O", "qcow2", src, disk); err != nil {
		return nil, err
	}
	if remote {
		_ = os.Remove(src)
	}
	sum, n, err := fileSHA256(disk)
	if err != nil {
		return nil, err
	}
	m := Manifest{
		Name: o.Name, Kind: KindImported, Source: o.Source, Disk: DiskFile,
		SHA256: sum, SizeBytes: n, VirtualSizeBytes: info.VirtualSize,
		// Unknown for a foreign image; every current cloud image drives virtio.
		Buses: []string{"virtio"}, NICModels: []string{"virtio"},
		Packages: []Package{}, Created: im.Now().UTC().Truncate(time.Second),
		LabctlVersion: version.String(),
	}
	if err := WriteManifest(filepath.Join(staging, ManifestFile), m); err != nil {
		return nil, err
	}
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, fmt.Errorf("chmod staging dir: %w", err)
	}
	if err := im.Store.install(staging, o.Name); err != nil {
		return nil, err
	}
	return im.Store.Get(o.Name)
}

func (im *Importer) logw() io.Writer {
	if im.Log == nil {
		return io.Discard
	}
	return im.Log
}

func (im *Importer) download(ctx context.Context, rawURL, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", rawURL, err)
	}
	client := im.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	fmt.Fprintf(im.logw(), "==> downloading %s\n", rawURL)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", rawURL, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("download %s: %w", rawURL, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("download %s: %w", rawURL, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("download %s: %w", rawURL, err)
	}
	return nil
}

type qemuImgInfo struct {
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
}

func (im *Importer) qemuInfo(ctx context.Context, path string) (qemuImgInfo, error) {
	var info qemuImgInfo
	out, err := im.Run.Run(ctx, "qemu-img", "info", "--output=json", path)
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return info, fmt.Errorf("parse qemu-img info for %s: %w", path, err)
	}
	if info.Format == "" {
		return info, errors.New("qemu-img info reported no format")
	}
	return info, nil
}

// sha256Hex is used by tests and the CLI to show checksums.
func sha256Hex(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}
