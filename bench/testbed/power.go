package testbed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
)

// Power switches lab VMs and their links.
type Power interface {
	// Destroy powers vm off at once, like pulling the plug (no shutdown,
	// no VRRP goodbye), and returns how it did it.
	Destroy(ctx context.Context, vm *topology.VM) (method string, err error)
	// Start boots a powered-off vm.
	Start(ctx context.Context, vm *topology.VM) error
	// SetLink sets the link state of one NIC and returns how.
	SetLink(ctx context.Context, vm *topology.VM, nic *topology.NIC, up bool) (method string, err error)
}

// LibvirtPower is Power over a libvirt Hypervisor (local or qemu+ssh):
// faults act on the domain from outside, the way the thesis pulled the
// plug, so they work on a guest that no longer answers SSH too.
type LibvirtPower struct {
	HV libvirt.Hypervisor
	// Lab is the lab whose domains may be acted on (checked against the
	// domains' labctl metadata); "" derives it from the VM's libvirt name
	// ("<lab>-<vm>").
	Lab string
	// OffTimeout bounds the wait until libvirt reports the domain shut off
	// (default 30 s).
	OffTimeout time.Duration
}

// MethodDestroy and MethodLink name the libvirt calls in fault notes.
const (
	MethodDestroy = "libvirt destroy (virsh destroy)"
	MethodLink    = "libvirt link state (virsh domif-setlink)"
)

func (p *LibvirtPower) lab(vm *topology.VM) string {
	if p.Lab != "" {
		return p.Lab
	}
	return strings.TrimSuffix(vm.LibvirtName, "-"+vm.Name)
}

// Destroy implements Power: libvirt kills the domain's QEMU process (no
// shutdown, no VRRP goodbye, no disk sync), then Destroy waits until
// libvirt reports it shut off.
func (p *LibvirtPower) Destroy(ctx context.Context, vm *topology.VM) (string, error) {
	if err := p.HV.DestroyDomain(ctx, p.lab(vm), vm.LibvirtName); err != nil {
		return MethodDestroy, fmt.Errorf("destroy %s: %w", vm.Name, err)
	}
	timeout := p.OffTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	err := poll(ctx, 100*time.Millisecond, timeout, "wait for "+vm.Name+" to power off", func(ctx context.Context) (bool, error) {
		st, err := p.state(ctx, vm.LibvirtName)
		return st == libvirt.StateShutoff || st == libvirt.StateCrashed, err
	})
	return MethodDestroy, err
}

func (p *LibvirtPower) state(ctx context.Context, name string) (libvirt.DomainState, error) {
	doms, err := p.HV.ListDomains(ctx)
	if err != nil {
		return "", err
	}
	for _, d := range doms {
		if d.Name == name {
			return d.State, nil
		}
	}
	return "", fmt.Errorf("domain %q: %w", name, libvirt.ErrNotFound)
}

// Start implements Power.
func (p *LibvirtPower) Start(ctx context.Context, vm *topology.VM) error {
	if st, err := p.state(ctx, vm.LibvirtName); err == nil && st == libvirt.StateRunning {
		return nil
	}
	if err := p.HV.StartDomain(ctx, vm.LibvirtName); err != nil {
		return fmt.Errorf("start %s: %w", vm.Name, err)
	}
	return nil
}

// SetLink implements Power: libvirt sets the link state of the domain's
// interface with the NIC's MAC, cutting the virtual cable. The guest sees
// only its carrier drop (its addresses and routes stay), and no frame
// passes either way.
func (p *LibvirtPower) SetLink(ctx context.Context, vm *topology.VM, nic *topology.NIC, up bool) (string, error) {
	if err := p.HV.SetInterfaceLink(ctx, p.lab(vm), vm.LibvirtName, nic.MAC, up); err != nil {
		return MethodLink, fmt.Errorf("set link of %s %s %s: %w", vm.Name, nic.Device, libvirt.LinkState(up), err)
	}
	return MethodLink, nil
}
