package app

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// benchEnv is a lab opened for benchmarking. openBench is the only bench
// code that uses up.go's lifecycle (openLab, checkHolder, sshConfig, hv,
// opts, isLocalURI): the seam to swap for a provision session.
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

// openBench opens the lab like verify (SSH pool with pinned keys) and
// keeps the libvirt connection for power actions.
func (a *App) openBench(ctx context.Context, arg string, f lifecycleFlags) (*benchEnv, error) {
	lc, err := a.openLab(ctx, arg, f)
	if err != nil {
		return nil, err
	}
	if err := lc.checkHolder(ctx, f.ownerFlags); err != nil {
		lc.hv.Close()
		return nil, err
	}
	st, err := provision.Desired(lc.lab, provision.Options{DomainType: lc.opts.DomainType, Images: func(n string) (*provision.BaseImage, error) {
		return &provision.BaseImage{Name: n}, nil // only names and addresses are needed
	}})
	if err != nil {
		lc.hv.Close()
		return nil, err
	}
	h := &poolHosts{pool: ssh.NewPool(), cfgs: map[string]ssh.Config{}}
	for _, vm := range st.VMs {
		cfg, err := lc.sshConfig(vm, true)
		if err != nil {
			h.pool.Close()
			lc.hv.Close()
			return nil, err
		}
		h.cfgs[vm.Name] = cfg
		h.pool.Add(cfg)
	}
	uri := lc.opts.URI
	env := &benchEnv{
		lab: lc.lab, hosts: h, power: &testbed.LibvirtPower{HV: lc.hv, Lab: lc.lab.Name},
		close: func() { h.pool.Close(); lc.hv.Close() },
	}
	env.provenance = func(ctx context.Context, tool string, client *topology.VM) result.Provenance {
		in := testbed.ProvenanceInput{HV: lc.hv, Local: isLocalURI(uri), DomainType: lc.opts.DomainType, Tool: tool, Version: version.String()}
		if client != nil {
			in.Image = client.Image
			if r, err := h.Runner(client.Name); err == nil {
				in.Client = r
			}
		}
		if in.Image == "" {
			in.Image = lc.lab.Image
		}
		if img, err := image.DefaultStore().Get(in.Image); err == nil {
			in.ImageDigest = img.Manifest.SHA256
		}
		return testbed.Provenance(ctx, in)
	}
	return env, nil
}

// poolHosts is testbed.Hosts over an ssh.Pool.
type poolHosts struct {
	pool *ssh.Pool
	cfgs map[string]ssh.Config
}

func (h *poolHosts) Runner(vm string) (ssh.Runner, error) {
	if _, ok := h.cfgs[vm]; !ok {
		return nil, fmt.Errorf("no VM %q in the lab", vm)
	}
	return h.pool.Runner(vm), nil
}

func (h *poolHosts) Reconnect(ctx context.Context, vm string, timeout time.Duration) error {
	cfg, ok := h.cfgs[vm]
	if !ok {
		return fmt.Errorf("no VM %q in the lab", vm)
	}
	h.pool.Add(cfg) // drops the connection to the powered-off VM
	_, err := h.pool.WaitReady(ctx, vm, timeout)
	return err
}
