package fake

import (
	"path"
	"sort"

	"github.com/labctl/labctl/provision/libvirt"
)

// Like a real libvirt directory pool, every file of a pool's directory is
// one of its volumes, whoever put it there. The fake keeps files of
// directories no pool uses yet in files; a pool defined on such a
// directory lists them as volumes.

// AddFile puts a file that labctl did not create into a host directory
// (someone's thesis.pdf, a copied image): a volume of the pool on dir, at
// once or once a pool is defined there.
func (h *Hypervisor) AddFile(dir, name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	dir = path.Clean(dir)
	for _, p := range h.pools {
		if path.Clean(p.info.Path) == dir {
			p.volumes[name] = fileVolume(p.info.Name, dir, name)
			return
		}
	}
	if h.files == nil {
		h.files = map[string][]string{}
	}
	h.files[dir] = append(h.files[dir], name)
}

// ListDir lists a host directory (files and pool volumes), like
// engine.Options.ListDir on a local libvirt host.
func (h *Hypervisor) ListDir(dir string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	dir = path.Clean(dir)
	out := append([]string{}, h.files[dir]...)
	for _, p := range h.pools {
		if path.Clean(p.info.Path) == dir {
			for name := range p.volumes {
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// adoptFiles makes the files of a new pool's directory its volumes
// (called with h.mu held).
func (h *Hypervisor) adoptFiles(p *pool) {
	dir := path.Clean(p.info.Path)
	for _, name := range h.files[dir] {
		p.volumes[name] = fileVolume(p.info.Name, dir, name)
	}
	delete(h.files, dir)
}

func fileVolume(pool, dir, name string) *libvirt.Volume {
	return &libvirt.Volume{Pool: pool, Name: name, Path: path.Join(dir, name), Format: "raw", Capacity: 1 << 10, Physical: 1 << 10, Allocation: 1 << 10}
}
