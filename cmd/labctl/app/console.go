package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/spf13/cobra"
)

func newConsoleCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	var labPath string
	var noFollow bool
	cmd := &cobra.Command{
		Use:   "console VM",
		Short: "Follow a VM's serial console log (Ctrl-C to stop)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f, err := a.oneCopy(ctx, labPath, f)
			if err != nil {
				return err
			}
			lab, err := a.load(labPath, f.labFlags)
			if err != nil {
				return err
			}
			uri := provision.LabURI(f.uri, lab)
			hv, err := libvirt.Dial(ctx, uri)
			if err != nil {
				return err
			}
			defer hv.Close()
			doms, err := hv.ListDomains(ctx)
			if err != nil {
				return err
			}
			logPath := ""
			for _, d := range doms {
				if d.Meta != nil && d.Meta.Lab == lab.Name && d.Meta.Object == args[0] && d.Def.Devices != nil {
					for _, s := range d.Def.Devices.Serials {
						if s.Log != nil {
							logPath = s.Log.File
						}
					}
				}
			}
			if logPath == "" {
				return fmt.Errorf("lab %s has no VM %q with a console log (is it up?)", lab.Name, args[0])
			}
			if !provision.IsLocalURI(uri) {
				return followRemote(ctx, uri, logPath, a.IO.Out, !noFollow)
			}
			return follow(ctx, logPath, a.IO.Out, !noFollow)
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVarP(&labPath, "lab", "l", "", "lab directory or file")
	cmd.Flags().BoolVar(&noFollow, "no-follow", false, "print the log and exit")
	return cmd
}

// followRemote prints a console log that lives on the libvirt host of a
// qemu+ssh URI, over the same kind of SSH login libvirt's connection uses.
func followRemote(ctx context.Context, uri, path string, w io.Writer, keep bool) error {
	u, err := url.Parse(uri)
	if err != nil || !strings.HasSuffix(u.Scheme, "+ssh") {
		return fmt.Errorf("the console log %s is on the libvirt host of %s; read it there (labctl reaches it only through qemu+ssh)", path, uri)
	}
	d, err := libvirt.ParseSSHURI(u)
	if err != nil {
		return err
	}
	cmd := "cat -- " + ssh.Quote(path)
	if keep { // -F: start over when a VM restart truncates the log, as follow does
		cmd = "tail -n +1 -F -- " + ssh.Quote(path)
	}
	if err := d.Stream(ctx, cmd, w); err != nil && ctx.Err() == nil {
		return fmt.Errorf("console log %s on %s: %w", path, u.Host, err)
	}
	return nil
}

// follow copies path to w and, with keep, keeps copying what is appended
// (starting over when the file is truncated by a VM restart).
func follow(ctx context.Context, path string, w io.Writer, keep bool) error {
	var off int64
	for {
		f, err := os.Open(path)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if f != nil {
			if st, err := f.Stat(); err == nil && st.Size() < off {
				off = 0
			}
			if _, err := f.Seek(off, io.SeekStart); err == nil {
				n, _ := io.Copy(w, f)
				off += n
			}
			f.Close()
		}
		if !keep {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(300 * time.Millisecond):
		}
	}
}
