package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/spf13/cobra"
)

func newImagePruneCmd(a *App, f *imageFlags) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune [IMAGE...]",
		Short: "Remove base volumes no lab uses from the shared base pool",
		Long: `Remove the copies of images in the libvirt pool ` + engine.BasePool + ` that no volume is
backed by and no domain uses, except the current disk of every stored image.
Only volumes labctl named (<image>-<sha12>.<ext>) are considered; with
IMAGE names, only those images' copies.

` + namedDeletion + ` --dry-run shows what would go.`,
		Example: `  labctl image prune --dry-run
  labctl image prune
  labctl image prune deb12`,
		RunE: func(cmd *cobra.Command, args []string) error {
			bp, err := f.openBasePool(cmd.Context())
			if err != nil {
				return err
			}
			defer bp.Close()
			removed, err := bp.collect(cmd.Context(), a, f.store(), dryRun, args...)
			if err != nil {
				return err
			}
			var n int
			var bytes uint64
			for _, c := range removed {
				n += len(c.Volumes)
				bytes += c.Bytes()
			}
			kept := 0
			for _, c := range bp.usage.Copies {
				if len(args) > 0 && !slices.Contains(args, c.Image) {
					continue
				}
				kept++
				if c.InUse() {
					fmt.Fprintf(a.IO.Err, "kept %s-%s: used by %s\n", c.Image, c.Digest, strings.Join(c.Users(), ", "))
				}
			}
			verb := "removed"
			if dryRun {
				verb = "would remove"
			}
			fmt.Fprintf(a.IO.Err, "%s %d base volume(s), %s; kept %d image copy(ies) (in use, or the current disk of a stored image)\n",
				verb, n, libvirt.FormatBytes(bytes), kept-len(removed))
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print what would be removed")
	acceptYes(cmd)
	return cmd
}

// noteGarbage tells `image list` users when prune would free space.
func noteGarbage(a *App, bp *basePool, s image.Store) {
	current, err := currentDisks(s)
	if err != nil {
		return
	}
	garbage, err := bp.usage.Garbage(current)
	if err != nil || len(garbage) == 0 {
		return
	}
	var bytes uint64
	for _, c := range garbage {
		bytes += c.Bytes()
	}
	fmt.Fprintf(a.IO.Err, "note: %d unused image copy(ies) (%s) in pool %s: `labctl image prune` removes them\n",
		len(garbage), libvirt.FormatBytes(bytes), engine.BasePool)
}
