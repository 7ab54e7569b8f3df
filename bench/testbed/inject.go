package testbed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/topology"
)

// Injector injects and reverts real faults in a running lab. What it did to which object is kept per fault in
// Notes, e.g. which director held the VIP and was destroyed.
type Injector struct {
	Lab     *topology.Lab
	Service *topology.LVSService
	Hosts   Hosts
	Power   Power
	// BootTimeout bounds the wait for SSH after a destroyed VM is started
	// again (default 10 min: TCG boots take minutes on a busy host).
	BootTimeout time.Duration
	// RebuildTimeout bounds the wait for a RAID rebuild (default 10 min).
	RebuildTimeout time.Duration
	// Progress, when set, gets one line per action.
	Progress func(format string, args ...any)

	mu    sync.Mutex
	notes map[string]string
	// Between Inject and Revert: the VM acted on, and the device.
	vm        *topology.VM
	dev       string
	nic       *topology.NIC
	effective time.Time // when the fault's action started
}

// Effective is when the last Inject's action started, after it found its
// target (zero if it did not get that far).
func (in *Injector) Effective() time.Time {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.effective
}

// Notes returns what the last Inject and Revert did (method, VM, device,
// rebuild timeline).
func (in *Injector) Notes() map[string]string {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make(map[string]string, len(in.notes))
	for k, v := range in.notes {
		out[k] = v
	}
	return out
}

func (in *Injector) note(k, v string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.notes == nil {
		in.notes = map[string]string{}
	}
	in.notes[k] = v
}

func (in *Injector) progress(format string, args ...any) {
	if in.Progress != nil {
		in.Progress(format, args...)
	}
}

func (in *Injector) vmNamed(name string) (*topology.VM, error) {
	if vm := in.Lab.VM(name); vm != nil {
		return vm, nil
	}
	return nil, fmt.Errorf("lab %s has no VM %q", in.Lab.Name, name)
}

// holder returns the director that holds the service's VIP now, asking
// again for up to a minute while no single one answers (slow SSH on a busy
// TCG host, or a failover in progress).
func (in *Injector) holder(ctx context.Context) (*topology.VM, error) {
	obs := &Observer{Hosts: in.Hosts, Service: in.Service}
	var st ClusterState
	err := poll(ctx, time.Second, time.Minute, "find the VIP holder", func(ctx context.Context) (bool, error) {
		st = obs.Snapshot(ctx)
		return st.Holder != "" && !strings.Contains(st.Holder, ","), nil
	})
	if err != nil {
		return nil, fmt.Errorf("LVS %s: no single director holds VIP %s (holders %q, unreachable %v): %w", in.Service.Name, in.Service.VIP, st.Holder, st.Unreachable, err)
	}
	return in.vmNamed(st.Holder)
}

// Inject puts fault f in force.
func (in *Injector) Inject(ctx context.Context, f topology.Fault) error {
	in.mu.Lock()
	in.notes, in.vm, in.dev, in.nic, in.effective = map[string]string{"kind": string(f.Kind), "target": f.Target}, nil, "", nil, time.Time{}
	in.mu.Unlock()
	var err error
	var vm *topology.VM
	switch {
	case f.Kind.ActiveDirectorFault():
		// The fault is meant for the MASTER: whichever director holds the
		// VIP now (the declared target may have failed over earlier).
		vm, err = in.holder(ctx)
	default:
		vm, err = in.vmNamed(f.Target)
	}
	if err != nil {
		return err
	}
	in.vm = vm
	in.note("vm", vm.Name)
	in.progress("inject %s on %s", f.Kind, vm.Name)
	in.mu.Lock()
	in.effective = time.Now()
	in.mu.Unlock()
	switch f.Kind {
	case topology.DestroyDirector, topology.DestroyVM:
		var method string
		method, err = in.Power.Destroy(ctx, vm)
		in.note("method", method)
	case topology.KillKeepalived:
		// SIGKILL, like a crash: keepalived cannot say goodbye (priority 0)
		// nor remove its VIPs, so the backup takes over after missing three
		// adverts while the old MASTER may keep the address.
		err = in.runNoted(ctx, vm, "systemctl kill -s SIGKILL "+topology.RoleDirector.Unit())
	case topology.StopWeb:
		err = in.runNoted(ctx, vm, "systemctl stop "+topology.RoleWeb.Unit())
	case topology.StopNFS:
		err = in.runNoted(ctx, vm, "systemctl stop "+topology.RoleNFSServer.Unit())
	case topology.FailRAIDMember:
		err = in.failMember(ctx, vm)
	case topology.LinkDown:
		err = in.linkDown(ctx, vm)
	case topology.KillLdirectord, topology.StandbyDirector, topology.StopCorosync:
		err = in.injectPacemaker(ctx, f.Kind, vm)
	default:
		return fmt.Errorf("fault %q: unknown kind (known: %s)", f.Kind, kindList())
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", f.Kind, vm.Name, err)
	}
	return nil
}

// Revert undoes f. It returns when the lab is back:
// a destroyed VM answers SSH (and a director runs keepalived again), a
// RAID array is clean again.
func (in *Injector) Revert(ctx context.Context, f topology.Fault) error {
	vm := in.vm
	if vm == nil { // Inject failed before choosing: nothing to undo
		return nil
	}
	in.progress("revert %s on %s", f.Kind, vm.Name)
	var err error
	switch f.Kind {
	case topology.DestroyDirector, topology.DestroyVM:
		err = in.restart(ctx, vm)
		if err == nil && f.Kind == topology.DestroyDirector && in.Service.Stack == topology.StackPacemaker {
			// Back in the cluster, the node takes the group back (it
			// prefers the first director): a second move, minutes under TCG.
			err = in.waitResources(ctx, topology.StopCorosync)
		}
	case topology.KillKeepalived:
		err = in.startService(ctx, vm, topology.RoleDirector.Unit())
	case topology.StopWeb:
		err = in.startService(ctx, vm, topology.RoleWeb.Unit())
	case topology.StopNFS:
		err = in.startService(ctx, vm, topology.RoleNFSServer.Unit())
	case topology.FailRAIDMember:
		err = in.reAddMember(ctx, vm)
	case topology.LinkDown:
		if in.nic != nil {
			_, err = in.Power.SetLink(ctx, vm, in.nic, true)
		}
	case topology.KillLdirectord, topology.StandbyDirector, topology.StopCorosync:
		err = in.revertPacemaker(ctx, f.Kind, vm)
	default:
		err = fmt.Errorf("unknown kind")
	}
	if err != nil {
		return fmt.Errorf("revert %s on %s: %w", f.Kind, vm.Name, err)
	}
	return nil
}

// runNoted runs cmd on vm and notes it as the fault's method.
func (in *Injector) runNoted(ctx context.Context, vm *topology.VM, cmd string) error {
	in.note("method", cmd)
	_, err := run(ctx, in.Hosts, vm.Name, cmd)
	return err
}

func (in *Injector) startService(ctx context.Context, vm *topology.VM, unit string) error {
	_, err := run(ctx, in.Hosts, vm.Name, "systemctl reset-failed "+unit+" 2>/dev/null; systemctl start "+unit)
	if err != nil {
		return err
	}
	return in.waitActive(ctx, vm, unit)
}

func (in *Injector) waitActive(ctx context.Context, vm *topology.VM, unit string) error {
	return waitSaying(ctx, in.Progress, unit+" to be active on "+vm.Name, time.Minute, func(ctx context.Context) error {
		return poll(ctx, 500*time.Millisecond, time.Minute, unit+" active on "+vm.Name, func(ctx context.Context) (bool, error) {
			_, err := run(ctx, in.Hosts, vm.Name, "systemctl is-active --quiet "+unit)
			if isExit(err) {
				return false, nil
			}
			return err == nil, err
		})
	})
}

// restart boots a destroyed VM and waits for SSH and its services.
func (in *Injector) restart(ctx context.Context, vm *topology.VM) error {
	start := time.Now()
	if err := in.Power.Start(ctx, vm); err != nil {
		return err
	}
	timeout := in.BootTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	in.progress("waiting up to %s for %s to boot and answer SSH", timeout, vm.Name)
	err := waitSaying(ctx, in.Progress, vm.Name+" to boot and answer SSH", timeout, func(ctx context.Context) error {
		return in.Hosts.Reconnect(ctx, vm.Name, timeout)
	})
	if err != nil {
		return err
	}
	in.note("boot_to_ssh_sec", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	for _, u := range unitsOf(vm) {
		if err := in.waitActive(ctx, vm, u); err != nil {
			return err
		}
	}
	in.note("boot_to_services_sec", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return nil
}

// unitsOf lists the services a VM's roles run.
func unitsOf(vm *topology.VM) []string {
	var out []string
	for _, r := range vm.Roles {
		if u := r.Unit(); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// linkDown takes down the NIC the fault matters on: a director's NIC on
// the VIP network, a real server's NIC carrying its backend address, else
// the first NIC that is not the management one (labctl keeps reaching the
// VM through that).
func (in *Injector) linkDown(ctx context.Context, vm *topology.VM) error {
	nic := serviceNIC(in.Service, vm)
	if nic == nil {
		return errors.New("no NIC besides the management one")
	}
	in.nic = nic
	in.note("device", nic.Device)
	method, err := in.Power.SetLink(ctx, vm, nic, false)
	in.note("method", method)
	return err
}

func serviceNIC(s *topology.LVSService, vm *topology.VM) *topology.NIC {
	if s != nil {
		for _, d := range s.Directors {
			if d.Name == vm.Name {
				for _, n := range vm.NICs {
					if n.Network == s.VIPNetwork || (s.VIPNetwork != nil && n.Network != nil && n.Network.Name == s.VIPNetwork.Name) {
						return n
					}
				}
			}
		}
		for _, b := range s.Backends {
			if b.VM.Name == vm.Name {
				for _, n := range vm.NICs {
					if n.IP == b.IP {
						return n
					}
				}
			}
		}
	}
	for _, n := range vm.NICs {
		if !n.Management {
			return n
		}
	}
	return nil
}
