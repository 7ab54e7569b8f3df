package lab

import (
	"context"
	"fmt"
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

// domainDestroyer is the libvirt call `virsh destroy` makes; the
// Hypervisor interface lacks it today, so it is used when the connection
// offers it and the guest-side power-off otherwise.
type domainDestroyer interface {
	DestroyDomain(ctx context.Context, name string) error
}

// linkSetter sets a NIC's link state (`virsh domif-setlink`), when offered.
type linkSetter interface {
	SetInterfaceLink(ctx context.Context, domain, mac string, up bool) error
}

// LibvirtPower is Power over a libvirt Hypervisor, with guest-side
// fallbacks over SSH for what the Hypervisor does not offer.
type LibvirtPower struct {
	HV    libvirt.Hypervisor
	Hosts Hosts
	// OffTimeout bounds the wait until libvirt reports the domain shut off
	// (default 30 s).
	OffTimeout time.Duration
}

// Destroy implements Power. Without a libvirt destroy call it writes "o"
// to /proc/sysrq-trigger in the guest: the kernel powers off immediately
// without running shutdown (no services stop, no disks sync), QEMU exits
// and libvirt marks the domain shut off — from the cluster's point of view
// the same as `virsh destroy`, but it needs a guest that still answers SSH.
func (p *LibvirtPower) Destroy(ctx context.Context, vm *topology.VM) (string, error) {
	method := "libvirt destroy"
	if d, ok := p.HV.(domainDestroyer); ok {
		if err := d.DestroyDomain(ctx, vm.LibvirtName); err != nil {
			return method, fmt.Errorf("destroy %s: %w", vm.Name, err)
		}
	} else {
		method = "guest sysrq power-off"
		// The session dies with the guest, so the reply may never come.
		_, _ = runTimeout(ctx, p.Hosts, vm.Name, "echo o > /proc/sysrq-trigger", 3*time.Second)
	}
	timeout := p.OffTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	err := poll(ctx, 100*time.Millisecond, timeout, "wait for "+vm.Name+" to power off", func(ctx context.Context) (bool, error) {
		st, err := p.state(ctx, vm.LibvirtName)
		return st == libvirt.StateShutoff || st == libvirt.StateCrashed, err
	})
	return method, err
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

// SetLink implements Power. Without libvirt's link state it runs `ip link
// set DEV down|up` in the guest: the guest sees its own interface go down
// (routes through it are flushed, so up re-adds the NIC's default route),
// whereas libvirt's link state cuts the virtual cable and the guest only
// sees the carrier drop. Either way no frame passes.
func (p *LibvirtPower) SetLink(ctx context.Context, vm *topology.VM, nic *topology.NIC, up bool) (string, error) {
	if ls, ok := p.HV.(linkSetter); ok {
		if err := ls.SetInterfaceLink(ctx, vm.LibvirtName, nic.MAC, up); err != nil {
			return "libvirt link state", fmt.Errorf("set link of %s %s: %w", vm.Name, nic.Device, err)
		}
		return "libvirt link state", nil
	}
	cmd := "ip link set " + nic.Device + " down"
	if up {
		cmd = "ip link set " + nic.Device + " up"
		if nic.Gateway.IsValid() {
			cmd += " && ip route replace default via " + nic.Gateway.String() + " dev " + nic.Device
		}
	}
	if _, err := run(ctx, p.Hosts, vm.Name, cmd); err != nil {
		return "guest ip link", fmt.Errorf("set link of %s %s: %w", vm.Name, nic.Device, err)
	}
	return "guest ip link", nil
}
