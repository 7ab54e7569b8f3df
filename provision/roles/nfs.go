package roles

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/labctl/labctl/templates"
	"github.com/labctl/labctl/topology"
)

// exportsFile must end in .exports to be read by exportfs.
const exportsFile = "/etc/exports.d/labctl.exports"

func nfsServerRole() *role {
	return &role{
		name:     topology.RoleNFSServer,
		packages: []string{"nfs-kernel-server"},
		files:    nfsServerFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			var dirs []string
			for _, e := range exportsServedBy(lab, vm) {
				dirs = append(dirs, e.Path)
			}
			return []step{
				{name: "export dirs", writes: dirs, run: nfsDirsStep},
				{name: "content", writes: filePaths(siteContent(lab, vm)), run: nfsContentStep},
				{name: "exports", writes: []string{exportsFile}, run: nfsExportsStep},
				{name: "nfs-server service", run: func(ctx context.Context, h *host) (bool, error) {
					// nfs-server's reload is `exportfs -r`.
					return h.ensureService(ctx, topology.RoleNFSServer.Unit(), "reload")
				}},
			}
		},
	}
}

func nfsClientRole() *role {
	return &role{
		name:     topology.RoleNFSClient,
		packages: []string{"nfs-common"},
		files:    nfsClientFiles,
		steps: func(lab *topology.Lab, vm *topology.VM) []step {
			writes := filePaths(nfsClientFiles(lab, vm))
			for _, e := range exportsMountedBy(lab, vm) {
				writes = append(writes, e.MountPoint)
			}
			return []step{{name: "mounts", writes: writes, run: nfsMountStep}}
		},
	}
}

type exportsData struct {
	Lab, VM string
	Exports []exportLine
}

type exportLine struct {
	Name, Path, Allow string
	Options           []string
}

func nfsServerFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	d := exportsData{Lab: lab.HandoutName(), VM: vm.Name}
	for _, e := range exportsServedBy(lab, vm) {
		if err := checkExportOnRAID(vm, e); err != nil {
			return nil, err
		}
		if !e.Allow.IsValid() {
			return nil, fmt.Errorf("NFS export %q: no allowed network", e.Name)
		}
		opts := e.Options
		if len(opts) == 0 {
			opts = []string{"rw", "sync", "no_subtree_check"}
		}
		d.Exports = append(d.Exports, exportLine{Name: e.Name, Path: e.Path, Allow: e.Allow.Masked().String(), Options: opts})
	}
	b, err := templates.Render("exports.tmpl", d)
	if err != nil {
		return nil, err
	}
	out := []file{{path: exportsFile, data: b, mode: 0o644}}
	content, err := siteContent(lab, vm)
	if err != nil {
		return nil, err
	}
	return append(out, content...), nil
}

// checkExportOnRAID refuses an export of a RAID server that is not under
// the array's mount point: the served content must live on the array.
func checkExportOnRAID(vm *topology.VM, e *topology.NFSExport) error {
	if vm.RAID == nil {
		return nil
	}
	if !under(e.Path, vm.RAID.Mount) {
		return fmt.Errorf("NFS export %q: path %s is not on the RAID mount %s of %q", e.Name, e.Path, vm.RAID.Mount, vm.Name)
	}
	return nil
}

func under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// siteContent renders the index page of every site whose docroot is an
// export of vm: it is written once, on the server, into the export.
func siteContent(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	var out []file
	for _, w := range lab.Web {
		if w.Content == nil || w.Content.Server == nil || w.Content.Server.Name != vm.Name {
			continue
		}
		b, err := templates.Render("index.php.tmpl", map[string]string{"Lab": lab.HandoutName(), "Site": w.Name})
		if err != nil {
			return nil, err
		}
		dir, err := exportDirFor(w)
		if err != nil {
			return nil, err
		}
		out = append(out, file{path: path.Join(dir, "index.php"), data: b, mode: 0o644})
	}
	return out, nil
}

// exportDirFor maps a site's docroot (on the client mount) to the
// directory on the server that holds it.
func exportDirFor(w *topology.WebSite) (string, error) {
	e := w.Content
	if !under(w.Docroot, e.MountPoint) {
		return "", fmt.Errorf("web site %q: docroot %s is not inside the NFS mount %s", w.Name, w.Docroot, e.MountPoint)
	}
	rel := strings.TrimPrefix(path.Clean(w.Docroot), path.Clean(e.MountPoint))
	return path.Join(e.Path, rel), nil
}

func nfsDirsStep(ctx context.Context, h *host) (bool, error) {
	changed := false
	for _, e := range exportsServedBy(h.lab, h.vm) {
		if err := checkExportOnRAID(h.vm, e); err != nil {
			return changed, err
		}
		if h.vm.RAID != nil {
			// The array must be mounted, or the directory would be made on
			// the system disk underneath the mount point.
			ok, err := h.test(ctx, "findmnt -n --mountpoint "+shq(h.vm.RAID.Mount))
			if err != nil {
				return changed, err
			}
			if !ok {
				return changed, fmt.Errorf("NFS export %q: RAID mount %s is not mounted", e.Name, h.vm.RAID.Mount)
			}
		}
		ok, err := h.test(ctx, "test -d "+shq(e.Path))
		if err != nil {
			return changed, err
		}
		if !ok {
			if _, err := h.run(ctx, "mkdir -p -m 0755 "+shq(e.Path)); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}

func nfsContentStep(ctx context.Context, h *host) (bool, error) {
	files, err := siteContent(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	return h.ensureFiles(ctx, files, nil)
}

func nfsExportsStep(ctx context.Context, h *host) (bool, error) {
	files, err := nfsServerFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureFiles(ctx, pick(files, exportsFile), func(ctx context.Context) error {
		_, err := h.run(ctx, "exportfs -ra")
		return err
	})
	if err != nil {
		if !changed {
			// The old exports file is back: re-export it so the kernel
			// table matches it again.
			_, rerr := h.run(context.WithoutCancel(ctx), "exportfs -ra")
			err = errors.Join(err, rerr)
		}
		return changed, err
	}
	return changed, nil
}

func nfsClientData(lab *topology.Lab, vm *topology.VM) ([]fstabEntry, error) {
	var out []fstabEntry
	for _, e := range exportsMountedBy(lab, vm) {
		if !e.ServerIP.IsValid() || e.MountPoint == "" {
			return nil, fmt.Errorf("NFS export %q: no server address or mount point", e.Name)
		}
		opts := slices.Clone(e.MountOpts)
		if !slices.Contains(opts, "_netdev") {
			opts = append(opts, "_netdev")
		}
		out = append(out, fstabEntry{Source: e.ServerIP.String() + ":" + e.Path, Target: e.MountPoint, FSType: "nfs", Options: opts})
	}
	return out, nil
}

func nfsClientFiles(lab *topology.Lab, vm *topology.VM) ([]file, error) {
	entries, err := nfsClientData(lab, vm)
	if err != nil {
		return nil, err
	}
	b, err := templates.Render("fstab.tmpl", map[string]any{"Mounts": entries})
	if err != nil {
		return nil, err
	}
	return []file{{path: fstabBlock, data: b, mode: 0o644}}, nil
}

func nfsMountStep(ctx context.Context, h *host) (bool, error) {
	entries, err := nfsClientData(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	files, err := nfsClientFiles(h.lab, h.vm)
	if err != nil {
		return false, err
	}
	changed, err := h.ensureBlock(ctx, fstab, "nfs", files[0].data)
	if err != nil {
		return false, err
	}
	// No daemon-reload for the new fstab (5 s of a TCG guest): mount(8)
	// reads fstab itself, systemd learns the mount from the kernel (with a
	// network file system's ordering), and reads fstab at its next reload
	// or boot.
	for _, e := range entries {
		src, err := h.run(ctx, "findmnt -n -o SOURCE --mountpoint "+shq(e.Target)+" || true")
		if err != nil {
			return changed, err
		}
		src = strings.TrimSpace(src)
		if src != "" && src != e.Source {
			return changed, fmt.Errorf("%s is mounted from %s, lab wants %s", e.Target, src, e.Source)
		}
		if changed && src != "" {
			// New options in fstab (mount_options) reach a mounted share
			// only by a remount, which takes them from fstab.
			if _, err := h.run(ctx, "mount -o remount "+shq(e.Target)); err != nil {
				return true, fmt.Errorf("remount %s with its new fstab options (or reboot the VM): %w", e.Target, err)
			}
		}
		if src == "" {
			// findmnt already said nothing is mounted there.
			if err := mountFromFstab(ctx, h, e.Target); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}
