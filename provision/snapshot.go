package provision

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"golang.org/x/sync/errgroup"
)

var snapshotNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// CheckSnapshotName refuses names libvirt or a shell would misread.
func CheckSnapshotName(name string) error {
	if !snapshotNameRe.MatchString(name) {
		return fmt.Errorf("snapshot name %q: use 1–40 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", name)
	}
	return nil
}

// LabSnapshot is one snapshot name of the lab and the VMs that have it.
type LabSnapshot struct {
	Name    string    `json:"name"`
	VMs     []string  `json:"vms"`
	Missing []string  `json:"missing,omitempty"` // VMs of the lab without it
	Created time.Time `json:"created"`           // the earliest VM's
}

// labDomains are the lab's defined domains, by VM name, in lab order.
func (s *Session) labDomains(ctx context.Context) ([]*engine.VMSpec, map[string]libvirt.Domain, error) {
	st, err := s.Machines()
	if err != nil {
		return nil, nil, err
	}
	live, err := engine.Observe(ctx, s.HV, s.Lab.Name, engine.LabPoolName(s.Lab))
	if err != nil {
		return nil, nil, err
	}
	if h := live.Holder(s.Opts.Owner); h != "" && !s.force {
		return nil, nil, &engine.OwnerError{Lab: s.Lab.Name, Owner: h, You: s.Opts.Owner}
	}
	var missing []string
	for _, vm := range st.VMs {
		if _, ok := live.Domains[vm.LibvirtName]; !ok {
			missing = append(missing, vm.Name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("lab %s is not up: no domain for %s (run labctl up)", s.Lab.Name, strings.Join(missing, ", "))
	}
	return st.VMs, live.Domains, nil
}

// SaveSnapshot takes a consistent snapshot of every VM: all running VMs
// are paused, each is snapshotted (with its memory), then all resume — on
// error too, after the partial snapshots are deleted. An existing snapshot
// of that name is refused unless replace.
func (s *Session) SaveSnapshot(ctx context.Context, name string, replace bool) (err error) {
	if err := CheckSnapshotName(name); err != nil {
		return err
	}
	vms, doms, err := s.labDomains(ctx)
	if err != nil {
		return err
	}
	for _, vm := range vms {
		if err := snapshotable(vm); err != nil {
			return err
		}
	}
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(snaps, func(l LabSnapshot) bool { return l.Name == name }); i >= 0 {
		if !replace {
			return fmt.Errorf("lab %s has a snapshot %q already (labctl snapshot rm, or replace it)", s.Lab.Name, name)
		}
		if err := s.DeleteSnapshot(ctx, name); err != nil {
			return err
		}
	}
	var paused []string
	defer func() {
		for _, d := range paused {
			if rerr := s.HV.ResumeDomain(context.WithoutCancel(ctx), s.Lab.Name, d); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	for _, vm := range vms {
		if doms[vm.LibvirtName].State == libvirt.StateRunning {
			if err := s.HV.SuspendDomain(ctx, s.Lab.Name, vm.LibvirtName); err != nil {
				return err
			}
			paused = append(paused, vm.LibvirtName)
		}
	}
	desc := fmt.Sprintf("labctl: lab %s snapshot %s", s.Lab.Name, name)
	var (
		mu   sync.Mutex
		done []string
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, vm := range vms {
		g.Go(func() error {
			if err := s.HV.CreateSnapshot(gctx, s.Lab.Name, vm.LibvirtName, name, desc); err != nil {
				return fmt.Errorf("VM %s: %w", vm.Name, err)
			}
			mu.Lock()
			done = append(done, vm.LibvirtName)
			mu.Unlock()
			return nil
		})
	}
	if err = g.Wait(); err != nil {
		for _, d := range done {
			_ = s.HV.DeleteSnapshot(context.WithoutCancel(ctx), s.Lab.Name, d, name)
		}
		return fmt.Errorf("snapshot %s of lab %s: %w", name, s.Lab.Name, err)
	}
	return nil
}

// snapshotable refuses a VM whose writable disk cannot hold an internal
// snapshot (libvirt 9 reverts only those, and they need qcow2).
func snapshotable(vm *engine.VMSpec) error {
	for _, v := range vm.Volumes {
		if v.Purpose != "seed" && v.Format != "qcow2" {
			return fmt.Errorf("VM %s: disk %s is %s: whole-lab snapshots need every writable disk in qcow2 (format = \"qcow2\")", vm.Name, v.Name, v.Format)
		}
	}
	return nil
}

// Snapshots lists the lab's snapshots by name.
func (s *Session) Snapshots(ctx context.Context) ([]LabSnapshot, error) {
	vms, _, err := s.labDomains(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*LabSnapshot{}
	for _, vm := range vms {
		snaps, err := s.HV.ListSnapshots(ctx, vm.LibvirtName)
		if err != nil {
			return nil, err
		}
		for _, sn := range snaps {
			l := byName[sn.Name]
			if l == nil {
				l = &LabSnapshot{Name: sn.Name, Created: sn.Created}
				byName[sn.Name] = l
			}
			l.VMs = append(l.VMs, vm.Name)
			if sn.Created.Before(l.Created) {
				l.Created = sn.Created
			}
		}
	}
	var out []LabSnapshot
	for _, l := range byName {
		for _, vm := range vms {
			if !slices.Contains(l.VMs, vm.Name) {
				l.Missing = append(l.Missing, vm.Name)
			}
		}
		out = append(out, *l)
	}
	slices.SortFunc(out, func(a, b LabSnapshot) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// RevertSnapshot returns every VM to the snapshot: all are reverted
// paused, then resumed together (the cluster wakes up as it was, not VM
// by VM), and each guest's clock is set (it resumes at snapshot time).
func (s *Session) RevertSnapshot(ctx context.Context, name string) error {
	vms, _, err := s.labDomains(ctx)
	if err != nil {
		return err
	}
	snaps, err := s.Snapshots(ctx)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(snaps, func(l LabSnapshot) bool { return l.Name == name })
	switch {
	case i < 0:
		return fmt.Errorf("lab %s has no snapshot %q (labctl snapshot list)", s.Lab.Name, name)
	case len(snaps[i].Missing) > 0:
		return fmt.Errorf("snapshot %q of lab %s lacks VMs %s", name, s.Lab.Name, strings.Join(snaps[i].Missing, ", "))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, vm := range vms {
		g.Go(func() error {
			if err := s.HV.RevertSnapshot(gctx, s.Lab.Name, vm.LibvirtName, name, true); err != nil {
				return fmt.Errorf("VM %s: %w", vm.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	doms, err := s.HV.ListDomains(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, vm := range vms {
		for _, d := range doms {
			if d.Name == vm.LibvirtName && d.State == libvirt.StatePaused {
				if err := s.HV.ResumeDomain(ctx, s.Lab.Name, d.Name); err != nil {
					errs = append(errs, fmt.Errorf("VM %s: %w", vm.Name, err))
				}
			}
		}
	}
	// The agent answers at once (the guest was running); a guest without
	// one keeps its clock (labctl's images have it). All at once: each
	// answer waits for its guest to be scheduled.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, vm := range vms {
		wg.Go(func() {
			if err := s.HV.GuestSetTime(ctx, s.Lab.Name, vm.LibvirtName, time.Now()); err != nil && s.Out != nil {
				mu.Lock()
				fmt.Fprintf(s.Out, "VM %s: clock not set: %v\n", vm.Name, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// DeleteSnapshot removes the snapshot from every VM that has it.
func (s *Session) DeleteSnapshot(ctx context.Context, name string) error {
	vms, _, err := s.labDomains(ctx)
	if err != nil {
		return err
	}
	found := false
	for _, vm := range vms {
		err := s.HV.DeleteSnapshot(ctx, s.Lab.Name, vm.LibvirtName, name)
		switch {
		case err == nil:
			found = true
		case !errors.Is(err, libvirt.ErrNotFound):
			return fmt.Errorf("VM %s: %w", vm.Name, err)
		}
	}
	if !found {
		return fmt.Errorf("lab %s has no snapshot %q", s.Lab.Name, name)
	}
	return nil
}

// SaveUpSnapshot takes the "up" snapshot once up has finished: replaced
// when up changed the lab or ran roles, kept when it exists and nothing
// changed (a no-op up must not move a class's reset point).
func (s *Session) SaveUpSnapshot(ctx context.Context, changed bool) error {
	if !changed {
		snaps, err := s.Snapshots(ctx)
		if err != nil {
			return err
		}
		for _, l := range snaps {
			if l.Name == UpSnapshot && len(l.Missing) == 0 {
				return nil
			}
		}
	}
	return s.SaveSnapshot(ctx, UpSnapshot, true)
}
