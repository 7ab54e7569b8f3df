package roles

import (
	"context"

	"github.com/labctl/labctl/topology"
)

// role is one unit of configuration. steps must be pure (no I/O) so that
// Steps can list them for `labctl plan`; problems in the lab that only a
// step can detect are returned when the step runs.
type role struct {
	name     topology.Role
	packages []string
	steps    func(lab *topology.Lab, vm *topology.VM) []step
	// files renders the role's configuration files for vm (no I/O); the
	// golden tests render every lab through it.
	files func(lab *topology.Lab, vm *topology.VM) ([]file, error)
}

// step converges one piece of state and reports whether it changed anything.
type step struct {
	name string
	// writes lists what run writes on the guest (files, devices, mount
	// points) for `labctl plan`; it must name the paths run uses.
	writes []string
	run    func(ctx context.Context, h *host) (changed bool, err error)
}

// filePaths lists the paths of files. A rendering error gives none: the
// step reports it when it runs.
func filePaths(files []file, err error) []string {
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(files))
	for _, f := range files {
		out = append(out, f.path)
	}
	return out
}

// allRoles lists every role; order does not matter (topology.RoleOrder does).
func allRoles() []*role {
	return []*role{
		raidRole(),
		nfsServerRole(),
		nfsClientRole(),
		webRole(),
		realServerRole(),
		directorRole(),
		pacemakerRole(),
		clientRole(),
	}
}

func roleByName(name topology.Role) *role {
	for _, r := range allRoles() {
		if r.name == name {
			return r
		}
	}
	return nil
}
