package app

import (
	"context"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// The names below are what bench.go still uses from before the Session;
// they go once bench opens its lab through provision.Session itself
// (Session.Hosts is a bench/lab.Hosts).

// lifecycle is the Session under the names bench.go uses.
type lifecycle struct {
	s    *provision.Session
	lab  *topology.Lab
	hv   libvirt.Hypervisor
	opts engine.Options
}

func (a *App) openLab(ctx context.Context, arg string, f lifecycleFlags) (*lifecycle, error) {
	s, err := a.openSession(ctx, arg, f)
	if err != nil {
		return nil, err
	}
	return &lifecycle{s: s, lab: s.Lab, hv: s.HV, opts: s.Opts}, nil
}

func (lc *lifecycle) checkHolder(ctx context.Context, _ ownerFlags) error {
	return lc.s.CheckHolder(ctx)
}

func (lc *lifecycle) sshConfig(vm *engine.VMSpec, sudo bool) (ssh.Config, error) {
	return lc.s.SSHConfig(vm, sudo)
}

// isLocalURI reports whether uri names a libvirt daemon on this machine.
func isLocalURI(uri string) bool { return provision.IsLocalURI(uri) }
