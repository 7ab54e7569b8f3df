package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/engine"
	"github.com/olekukonko/tablewriter"
	"github.com/spf13/cobra"
)

// imageFlags are shared by the image subcommands.
type imageFlags struct {
	dir  string
	uri  string // libvirt URI for "used by" and garbage collection
	dial dialFunc
}

func (f *imageFlags) store() image.Store {
	if f.dir != "" {
		if abs, err := filepath.Abs(f.dir); err == nil {
			return image.Store{Dir: abs} // paths end up in libvirt XML
		}
		return image.Store{Dir: f.dir}
	}
	return image.DefaultStore()
}

func newImageCmd(a *App) *cobra.Command { return newImageCmdWith(a, dialLibvirt) }

func newImageCmdWith(a *App, dial dialFunc) *cobra.Command {
	f := &imageFlags{dial: dial}
	cmd := &cobra.Command{
		Use:   "image",
		Short: "Build, import, list, remove and prune the base images labs boot from",
		Long: `Base images are shared by all labs. ` + "`labctl up`" + ` copies an image's disk once into
the libvirt pool ` + engine.BasePool + ` (one copy per image content); VM disks are linked
clones of that copy, so rebuilding an image never disturbs running labs.
Store: $LABCTL_IMAGE_DIR, else /var/lib/labctl/images (root) or
$XDG_DATA_HOME/labctl/images (~/.local/share/labctl/images).`,
	}
	cmd.PersistentFlags().StringVar(&f.dir, "image-dir", "", "image store directory (default $"+image.EnvImageDir+", /var/lib/labctl/images for root)")
	cmd.PersistentFlags().StringVarP(&f.uri, "connect", "c", "", "libvirt URI to look for labs and base volumes (default $"+EnvURI+", qemu:///system)")
	cmd.AddCommand(newImageBuildCmd(a, f), newImageImportCmd(a, f), newImageListCmd(a, f), newImageRmCmd(a, f), newImagePruneCmd(a, f))
	return cmd
}

func newImageBuildCmd(a *App, f *imageFlags) *cobra.Command {
	var o image.BuildOptions
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Debootstrap an offline base image (needs root)",
		Long: `Build a Debian image with every package any labctl role needs, cloud-init
(NoCloud only), systemd-networkd and SSH, for direct kernel boot
(root=/dev/vda, console=ttyS0). Same inputs ⇒ the cached image is kept.
Rebuilding an image labs use is fine: they keep their copy in the base
pool; copies nothing uses any more are removed afterwards.`,
		Example: `  sudo labctl image build
  sudo labctl image build --kernel generic        # AHCI/SATA, e1000, rtl8139
  sudo labctl image build --packages tcpdump,htop --name lab-tools --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var log = a.IO.Err
			if a.Quiet {
				log = nil
			}
			b := image.NewBuilder(f.store(), log, a.Verbose > 0)
			start := time.Now()
			res, err := b.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			m := res.Image.Manifest
			if res.Cached {
				fmt.Fprintf(a.IO.Err, "image %q is up to date (same inputs, built %s); use --force to rebuild\n", m.Name, m.Created.Format(time.RFC3339))
			} else {
				fmt.Fprintf(a.IO.Err, "built image %q in %s: %s, kernel %s, %d packages\n",
					m.Name, time.Since(start).Round(time.Second), humanBytes(m.SizeBytes), m.KernelVersion, len(m.Packages))
				f.collectAfter(cmd.Context(), a, nil, m.Name)
			}
			_, err = fmt.Fprintln(a.IO.Out, res.Image.Dir)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Name, "name", "", "image name (default <suite>-<kernel>, e.g. bookworm-cloud)")
	fl.StringVar(&o.Suite, "suite", "bookworm", "Debian suite")
	fl.StringVar(&o.Mirror, "mirror", "", "Debian mirror URL (default: the one in this host's apt sources)")
	fl.StringVar(&o.SecurityMirror, "security-mirror", "", `security mirror URL (default: the host's; "none" to skip security updates)`)
	fl.StringVar(&o.Kernel, "kernel", image.KernelCloud, "kernel flavour: cloud (virtio, IDE) or generic (also SATA/AHCI, e1000, rtl8139)")
	fl.StringSliceVar(&o.Packages, "packages", nil, "extra packages to install (comma-separated or repeated)")
	fl.BoolVar(&o.Force, "force", false, "rebuild even if an image with the same inputs exists")
	var sizeGiB int
	fl.IntVar(&sizeGiB, "disk-size", image.DefaultDiskSize>>30, "disk size in GiB (the qcow2 stays sparse)")
	fl.BoolVar(&o.NoTrim, "no-trim", false, "keep Debian's boot defaults (for boot-time comparison)")
	_ = fl.MarkHidden("no-trim")
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if sizeGiB < 1 || sizeGiB > 1024 {
			return fmt.Errorf("--disk-size %d: must be 1..1024 GiB", sizeGiB)
		}
		o.DiskSize = int64(sizeGiB) << 30
		return nil
	}
	return cmd
}

func newImageImportCmd(a *App, f *imageFlags) *cobra.Command {
	var o image.ImportOptions
	cmd := &cobra.Command{
		Use:   "import FILE|URL",
		Short: "Register a cloud image that boots with its own bootloader",
		Example: `  labctl image import debian-12-genericcloud-amd64.qcow2 --sha256 5da7…
  labctl image import https://example.org/img.qcow2 --sha256 5da7… --name deb12`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Source = args[0]
			im := image.NewImporter(f.store(), a.IO.Err)
			if a.Quiet {
				im.Log = nil
			}
			img, err := im.Import(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.IO.Err, "imported %q (%s, disk boot)\n", img.Manifest.Name, humanBytes(img.Manifest.SizeBytes))
			if o.Force {
				f.collectAfter(cmd.Context(), a, nil, img.Manifest.Name)
			}
			_, err = fmt.Fprintln(a.IO.Out, img.Dir)
			return err
		},
	}
	cmd.Flags().StringVar(&o.SHA256, "sha256", "", "expected sha256 of FILE|URL (required for URLs)")
	cmd.Flags().StringVar(&o.Name, "name", "", "image name (default: from the file name)")
	cmd.Flags().BoolVar(&o.Insecure, "insecure", false, "allow a URL without --sha256")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace an existing image of that name (labs using it keep their copy)")
	return cmd
}

// imageRow is one line of `image list` (also its JSON form).
type imageRow struct {
	Name          string    `json:"name"`
	Kind          string    `json:"kind"`
	SizeBytes     int64     `json:"size_bytes"`
	Kernel        string    `json:"kernel"`
	KernelVersion string    `json:"kernel_version,omitempty"`
	Created       time.Time `json:"created"`
	UsedBy        []string  `json:"used_by"` // labs (then other libvirt users); null = unknown
	Dir           string    `json:"dir"`
}

func newImageListCmd(a *App, f *imageFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List stored images and the labs using them",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return fmt.Errorf("--output %q: use table or json", output)
			}
			imgs, err := f.store().List()
			if err != nil {
				return err
			}
			bp, err := f.openBasePool(cmd.Context())
			if err != nil {
				fmt.Fprintf(a.IO.Err, "note: USED BY is unknown (?): %v\n", err)
			}
			defer bp.Close()
			rows := make([]imageRow, 0, len(imgs))
			for _, img := range imgs {
				m := img.Manifest
				r := imageRow{Name: m.Name, Kind: m.Kind, SizeBytes: m.SizeBytes, Kernel: m.KernelFlavour,
					KernelVersion: m.KernelVersion, Created: m.Created, Dir: img.Dir}
				if m.Kernel == "" {
					r.Kernel = "disk boot"
				}
				if bp != nil {
					r.UsedBy = append([]string{}, bp.usedBy(m.Name)...)
				}
				rows = append(rows, r)
			}
			if output == "json" {
				enc := json.NewEncoder(a.IO.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			if err := writeImageTable(a, rows); err != nil {
				return err
			}
			if bp != nil {
				noteGarbage(a, bp, f.store())
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func writeImageTable(a *App, rows []imageRow) error {
	t := tablewriter.NewTable(a.IO.Out)
	t.Header("NAME", "SIZE", "KERNEL", "CREATED", "USED BY")
	for _, r := range rows {
		kernel := r.Kernel
		if r.KernelVersion != "" {
			kernel += " " + r.KernelVersion
		}
		used := "?"
		if r.UsedBy != nil {
			used = strings.Join(r.UsedBy, ",")
			if used == "" {
				used = "-"
			}
		}
		if err := t.Append(r.Name, humanBytes(r.SizeBytes), kernel, r.Created.Local().Format("2006-01-02 15:04"), used); err != nil {
			return err
		}
	}
	return t.Render()
}

func newImageRmCmd(a *App, f *imageFlags) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove"},
		Short:   "Remove images (refused while a lab uses them, unless --force)",
		Long: `Remove images from the store, then their copies in the base pool that no
lab uses. Refused while a lab's VMs or volumes use an image, unless --force
(the lab keeps its copy and runs on, but ` + "`labctl up`" + ` needs the image again).

` + namedDeletion,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s := f.store()
			bp, bpErr := f.openBasePool(cmd.Context())
			if bpErr != nil && force {
				fmt.Fprintf(a.IO.Err, "note: not checking which labs use the image(s): %v\n", bpErr)
			}
			defer bp.Close()
			var usedBy image.UsedByFunc
			if bp != nil {
				usedBy = bp.usedBy
			}
			for _, name := range args {
				if bp == nil && !force {
					var nf *image.NotFoundError
					if _, err := s.Get(name); errors.As(err, &nf) {
						return err
					}
					return fmt.Errorf("cannot tell which labs use image %q: %w; pass --force to remove it anyway", name, bpErr)
				}
				if err := s.Remove(name, usedBy, force); err != nil {
					return err
				}
				fmt.Fprintf(a.IO.Err, "removed image %q\n", name)
				if bp != nil {
					f.collectAfter(cmd.Context(), a, bp, name)
				} else {
					fmt.Fprintf(a.IO.Err, "note: base volumes of image %q were not collected; run `labctl image prune` later\n", name)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "remove even if labs use the image")
	acceptYes(cmd)
	return cmd
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
