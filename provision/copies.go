package provision

import (
	"context"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/topology"
)

// FindCopies reads the lab (o.Load must load the class itself, not a copy)
// and lists the copies of it that exist on its libvirt host: the class's
// name and its copies' names, none when the lab has no copies there.
func FindCopies(ctx context.Context, o OpenOptions) (class string, copies []string, err error) {
	lab, err := o.Load(topology.LoadOptions{}, false)
	if err != nil {
		return "", nil, err
	}
	hv, _, err := connect(ctx, o, lab)
	if err != nil {
		return "", nil, err
	}
	defer hv.Close()
	copies, err = engine.Copies(ctx, hv, lab.Name)
	return lab.Name, copies, err
}
