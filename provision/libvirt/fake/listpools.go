package fake

import (
	"context"

	"github.com/labctl/labctl/provision/libvirt"
)

// ListPools implements libvirt.Hypervisor.
func (h *Hypervisor) ListPools(ctx context.Context) ([]libvirt.Pool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []libvirt.Pool{}
	for _, n := range sortedKeys(h.pools) {
		out = append(out, h.pools[n].info)
	}
	return out, nil
}

// SetPoolActive starts or stops a pool, as `virsh pool-start|pool-destroy`
// would: volumes of an inactive pool cannot be listed.
func (h *Hypervisor) SetPoolActive(name string, active bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.pools[name]; ok {
		p.info.Active = active
	}
}
