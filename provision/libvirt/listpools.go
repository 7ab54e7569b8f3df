package libvirt

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// ListPools implements Hypervisor.
func (c *Conn) ListPools(ctx context.Context) ([]Pool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pools, _, err := c.l.ConnectListAllStoragePools(1, 0)
	if err != nil {
		return nil, fmt.Errorf("list storage pools: %w", wrap(err))
	}
	out := make([]Pool, 0, len(pools))
	for _, p := range pools {
		info, err := c.poolInfo(p)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue // undefined since the listing
			}
			return nil, err
		}
		out = append(out, info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
