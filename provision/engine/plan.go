package engine

import (
	"context"
	"errors"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// Plan computes the desired state of lab and compares it with libvirt.
// It creates nothing. Foreign objects in the way are returned as errors.
func Plan(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab, opts Options) (*State, *Live, *Changes, error) {
	// Use the pools' real directories when they exist, so paths in volume
	// and domain definitions match what libvirt has.
	for _, p := range []struct {
		name string
		dir  *string
	}{{BasePool, &opts.BasePoolPath}, {LabPoolName(lab), &opts.LabPoolPath}} {
		if *p.dir != "" {
			continue
		}
		lp, err := lookupPool(ctx, hv, p.name)
		if err != nil {
			return nil, nil, nil, err
		}
		if lp != nil && lp.Path != "" {
			*p.dir = lp.Path
		}
	}
	if opts.URI == "" {
		opts.URI = hv.URI()
	}
	st, err := Desired(lab, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkBridges(ctx, hv, lab); err != nil {
		return nil, nil, nil, err
	}
	live, err := Observe(ctx, hv, lab.Name, LabPoolName(lab))
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkLabPool(ctx, hv, st, live, lab, opts.ListDir); err != nil {
		return st, live, nil, err
	}
	if errs := live.Clashes(st); len(errs) > 0 {
		return st, live, nil, errors.Join(errs...)
	}
	return st, live, Diff(st, live), nil
}
