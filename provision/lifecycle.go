package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/topology"
)

// UpRequest tunes Session.Up: the engine's knobs plus the guest roles.
type UpRequest struct {
	Parallel     int           // concurrent libvirt operations
	BootParallel int           // guests booting at once (0 = from the host)
	BootSlice    time.Duration // admit the next guest after this long
	BootTimeout  time.Duration // per VM, restarts included
	Progress     engine.Progress
	// Confirm is asked before deleting or replacing objects (nil = yes).
	Confirm func(*engine.Changes) (bool, error)
	// NoConfigure skips the roles; Reconfigure runs them all even on a no-op.
	NoConfigure, Reconfigure bool
	// From, a configured copy of the same class, is what a new copy is
	// cloned from (see clone.go); when it cannot be, up says why and
	// boots the copy instead.
	From *Session
}

// Up converges libvirt to the lab, waits for every VM to boot and runs the
// guest roles, keeping the record of which VMs' roles ran without error.
//
// Any change may give a VM a fresh disk, so the record is forgotten before
// libvirt changes: until the roles have run again, no VM counts as
// configured (an up cut short, or run with NoConfigure, is then finished by
// the next up). On a no-op, roles run only where the lab file changed them
// since they last ran (a full run costs minutes under TCG), or everywhere
// with Reconfigure.
func (s *Session) Up(ctx context.Context, r UpRequest) (*engine.UpResult, error) {
	hosts := s.newHosts()
	defer hosts.Close()
	opts := engine.UpOptions{Options: s.Opts, Force: s.force, Parallel: r.Parallel, Progress: r.Progress,
		BootParallel: r.BootParallel, BootSlice: r.BootSlice, BootTimeout: r.BootTimeout, Confirm: r.Confirm}
	opts.WaitSSH = func(ctx context.Context, vm *engine.VMSpec) error {
		cfg, err := s.SSHConfig(vm, true)
		if err != nil {
			return err
		}
		if err := s.guests.WaitBooted(ctx, cfg, r.BootTimeout); err != nil {
			return err
		}
		hosts.add(cfg)
		return nil
	}
	if r.From != nil {
		c, err := s.cloneFrom(ctx, r.From)
		if err != nil && r.Progress != nil {
			r.Progress.Info(fmt.Sprintf("copy %s is booted, not cloned from copy %s: %v", s.Lab.Copy, r.From.Lab.Copy, err))
		}
		if err == nil {
			var resume func() error
			opts.Clone, resume = s.clone(c, opts.WaitSSH)
			defer resume()
			if r.Progress != nil {
				r.Progress.Info(fmt.Sprintf("cloning copy %s from copy %s (%s paused while its disks are copied)", s.Lab.Copy, r.From.Lab.Copy, strings.Join(c.run, ", ")))
			}
		}
	}
	opts.BeforeChange = func(*engine.Changes) error { return s.forget(nil) }
	if !r.NoConfigure {
		opts.Configure = func(ctx context.Context, st *engine.State, ready func(context.Context, string) error) error {
			hosts.ready = ready
			return s.configure(ctx, st, hosts, nil)
		}
		opts.BootFirst = s.bootRank
	}
	res, err := engine.Up(ctx, s.HV, s.Lab, opts)
	if err != nil || !res.NoOp || r.NoConfigure {
		return res, err
	}
	// Errors from here on return no result: libvirt was fine, the roles were not.
	only, err := s.staleRoles(r.Reconfigure)
	if err != nil {
		return nil, err
	}
	if len(only) == 0 {
		return res, nil
	}
	if !r.Reconfigure && r.Progress != nil {
		r.Progress.Info(fmt.Sprintf("roles of %s changed since they last ran (or did not finish): configuring them", strings.Join(only, ", ")))
	}
	if err := s.configure(ctx, res.State, hosts, only); err != nil {
		return nil, err
	}
	res.Reconfigured = only
	return res, nil
}

// bootRank boots a VM by the first stage of the roles that configures it
// (storage before the web servers before the directors), VMs without roles
// last: the roles then start on the first VMs while the others boot.
func (s *Session) bootRank(name string) int {
	vm := s.Lab.VM(name)
	for i, r := range topology.RoleOrder {
		if vm != nil && vm.HasRole(r) {
			return i
		}
	}
	return len(topology.RoleOrder)
}

func (s *Session) forget(only []string) error {
	applied, err := roles.LoadApplied(s.Keys.Dir())
	if err != nil {
		return err
	}
	return applied.Forget(only)
}

// staleRoles lists the VMs whose roles must run on a no-op up: those
// whose role configuration differs from the last run without error (all
// VMs with roles when every is set).
func (s *Session) staleRoles(every bool) ([]string, error) {
	applied, err := roles.LoadApplied(s.Keys.Dir())
	if err != nil {
		return nil, err
	}
	stale, err := applied.Stale(s.Lab)
	if err != nil || !every {
		return stale, err
	}
	var all []string
	for _, vm := range s.Lab.VMs {
		if len(vm.Roles) > 0 {
			all = append(all, vm.Name)
		}
	}
	return all, nil
}

// configure runs the roles of the VMs in only (nil = all) of st.
func (s *Session) configure(ctx context.Context, st *engine.State, hosts *Hosts, only []string) error {
	for _, vm := range st.VMs {
		cfg, err := s.SSHConfig(vm, true)
		if err != nil {
			return err
		}
		hosts.add(cfg)
	}
	_, err := ApplyRoles(ctx, s.Lab, hosts.Runner, roles.Options{Out: s.Out, Only: only})
	return err
}

// ApplyRoles runs the roles of the VMs in opts.Only (empty = all) and
// records what ran without error, so that the next no-op up knows what
// changed (and, after a failure, that those VMs are not configured).
func ApplyRoles(ctx context.Context, lab *topology.Lab, hosts roles.Hosts, opts roles.Options) (roles.Report, error) {
	dir := keys.DefaultDir(lab.Name)
	applied, err := roles.LoadApplied(dir)
	if err != nil {
		return roles.Report{}, err
	}
	if opts.Secret == nil {
		store, err := keys.Open(dir)
		if err != nil {
			return roles.Report{}, err
		}
		opts.Secret = store.Secret
	}
	only := opts.Only
	if len(only) == 0 {
		only = nil
	}
	if err := applied.Forget(only); err != nil {
		return roles.Report{}, err
	}
	rep, err := roles.Apply(ctx, lab, hosts, opts)
	if err == nil {
		err = applied.Record(lab, only)
	}
	return rep, err
}

// Status observes the lab's VMs: state, addresses, accelerator, uptime.
func (s *Session) Status(ctx context.Context, now time.Time) (*engine.State, []engine.VMStatus, error) {
	st, _, _, err := engine.Plan(ctx, s.HV, s.Lab, s.Opts)
	if st == nil {
		return nil, nil, err
	}
	rows, err := engine.Status(ctx, s.HV, st, now)
	return st, rows, err
}

// TeardownOptions tune Teardown.
type TeardownOptions struct {
	Owner    string
	Force    bool
	KeepKeys bool // keep the lab's SSH keys (its roles record is still forgotten)
	Progress engine.Progress
}

// Teardown removes every libvirt object lab owns (see Down) and its local
// state. It needs no Session: it works from the lab's name alone.
func Teardown(ctx context.Context, hv libvirt.Hypervisor, lab *topology.Lab, o TeardownOptions) (*engine.DownResult, error) {
	res, err := engine.Down(ctx, hv, lab.Name, engine.DownOptions{
		Pool: engine.LabPoolName(lab), PoolPath: lab.PoolPath, Progress: o.Progress, Owner: o.Owner, Force: o.Force})
	if err != nil {
		return nil, fmt.Errorf("down of lab %q: %w", lab.Name, err)
	}
	if !o.KeepKeys {
		return res, keys.RemoveDir(lab.Name)
	}
	// The kept keys serve a new lab, whose roles never ran.
	return res, roles.ForgetAll(keys.DefaultDir(lab.Name))
}
