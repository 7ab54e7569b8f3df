package app

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"slices"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/topology"
)

// benchEnv is a lab opened for benchmarking.
type benchEnv struct {
	lab        *topology.Lab
	hosts      testbed.Hosts
	power      testbed.Power
	provenance func(ctx context.Context, tool string, client *topology.VM) result.Provenance
	close      func()
}

// benchOpener opens the lab at arg; tests pass fakes.
type benchOpener func(ctx context.Context, arg string, f lifecycleFlags) (*benchEnv, error)

// selfExecutable is labctl's own binary, installed on the client VM as the
// load agent. It must be static (make build sets CGO_ENABLED=0) to run on
// any guest.
func selfExecutable() ([]byte, error) {
	p, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find labctl's executable: %w", err)
	}
	if f, err := elf.Open(p); err == nil {
		dynamic := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		f.Close()
		if dynamic {
			return nil, fmt.Errorf("%s is dynamically linked and may not run on the client VM: build labctl with CGO_ENABLED=0 (make build)", p)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read labctl's executable: %w", err)
	}
	return b, nil
}

// openBench opens the lab through a provision session: its Hosts (pinned
// keys, root) for the guests and its libvirt connection for power actions.
func (a *App) openBench(ctx context.Context, arg string, f lifecycleFlags) (*benchEnv, error) {
	s, err := a.openSession(ctx, arg, f)
	if err != nil {
		return nil, err
	}
	h, err := s.Hosts(ctx)
	if err != nil {
		s.Close()
		return nil, err
	}
	env := &benchEnv{
		lab: s.Lab, hosts: h, power: &testbed.LibvirtPower{HV: s.HV, Lab: s.Lab.Name},
		close: func() { h.Close(); s.Close() },
	}
	env.provenance = func(ctx context.Context, tool string, client *topology.VM) result.Provenance {
		in := testbed.ProvenanceInput{HV: s.HV, Local: provision.IsLocalURI(s.Opts.URI), DomainType: s.Opts.DomainType, Tool: tool, Version: version.String()}
		if client != nil {
			in.Image = client.Image
			if r, err := h.Runner(client.Name); err == nil {
				in.Client = r
			}
		}
		if in.Image == "" {
			in.Image = s.Lab.Image
		}
		if img, err := image.DefaultStore().Get(in.Image); err == nil {
			in.ImageDigest = img.Manifest.SHA256
		}
		return testbed.Provenance(ctx, in)
	}
	return env, nil
}
