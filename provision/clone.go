package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"libvirt.org/go/libvirtxml"
)

// UpSnapshot is the snapshot up takes once the roles have run: what reset
// returns a copy to, and what a new copy of the class is cloned from.
const UpSnapshot = "up"

// readdress makes a clone this copy's: it re-runs labctl's first boot
// against this copy's seed (host name, networkd files, host key, user
// key), then gives the management NIC ($1) its new address and restarts
// sshd. The source's seed may still be in the guest's caches: dropped
// first. Fixed text: the values come from the seed, never from here.
const readdress = `set -eu
dev=$1
sync
echo 3 >/proc/sys/vm/drop_caches
for d in $(blkid -c /dev/null -o device -t LABEL=cidata); do blockdev --flushbufs "$d"; done
sh /usr/local/lib/labctl/firstboot
ip -4 addr flush dev "$dev"
networkctl reload
networkctl reconfigure "$dev"
systemctl restart ssh
`

// cloneSource is a configured copy of the same class on the same host
// that new copies are made from.
type cloneSource struct {
	s   *Session
	st  *engine.State // its VMs, by name
	run []string      // its running domains, paused while disks are copied
	// resume are run plus domains an interrupted clone left paused.
	resume []string
}

// cloneFrom checks that this copy can be made from src and says why not:
// the same class on the same host, nothing of this copy made yet, an image
// with the guest agent, and src's "up" snapshot on every VM.
func (s *Session) cloneFrom(ctx context.Context, src *Session) (*cloneSource, error) {
	switch {
	case s.Lab.Class == "" || s.Lab.Class != src.Lab.Class:
		return nil, errors.New("not a copy of the same class")
	case s.Opts.URI != src.Opts.URI:
		return nil, fmt.Errorf("the source copy is on another host (%s)", src.Opts.URI)
	}
	live, err := engine.Observe(ctx, s.HV, s.Lab.Name, engine.LabPoolName(s.Lab))
	if err != nil {
		return nil, err
	}
	if live.Owned() > 0 {
		return nil, errors.New("the copy exists already")
	}
	st, err := engine.Desired(src.Lab, src.Opts) // with the image store's facts
	if err != nil {
		return nil, err
	}
	for _, im := range st.Images {
		if !im.Source.Agent {
			return nil, fmt.Errorf("image %s has no guest agent", im.Name)
		}
	}
	doms, err := s.HV.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	c := &cloneSource{s: src, st: st}
	for _, vm := range st.VMs {
		snaps, err := s.HV.ListSnapshots(ctx, vm.LibvirtName)
		if err != nil {
			return nil, fmt.Errorf("copy %s, VM %s: %w", src.Lab.Copy, vm.Name, err)
		}
		if !hasSnapshot(snaps, UpSnapshot) {
			return nil, fmt.Errorf("copy %s, VM %s has no %q snapshot", src.Lab.Copy, vm.Name, UpSnapshot)
		}
		for _, d := range doms {
			switch {
			case d.Name != vm.LibvirtName:
			case d.State == libvirt.StateRunning:
				c.run = append(c.run, d.Name)
				c.resume = append(c.resume, d.Name)
			case d.State == libvirt.StatePaused:
				c.resume = append(c.resume, d.Name)
			}
		}
	}
	return c, nil
}

func hasSnapshot(snaps []libvirt.Snapshot, name string) bool {
	for _, sn := range snaps {
		if sn.Name == name {
			return true
		}
	}
	return false
}

// clone is how engine.Up makes this copy's VMs from c: each disk is a
// byte copy of the source VM's (qcow2 internal snapshots included), taken
// while the source is paused; then the source's "up" snapshot is defined
// on the new domain, reverted to, and the guest re-addressed.
func (s *Session) clone(c *cloneSource, wait func(ctx context.Context, vm *engine.VMSpec) error) (*engine.Clone, func() error) {
	var (
		once    sync.Once
		mu      sync.Mutex
		pending int
		resErr  error
	)
	for _, vm := range c.st.VMs {
		for _, v := range vm.Volumes {
			if v.Purpose != "seed" {
				pending++
			}
		}
	}
	// resume lets the source run again, once, when the last disk is
	// copied (or up stops early).
	resume := func() error {
		once.Do(func() {
			for _, d := range c.resume {
				if err := s.HV.ResumeDomain(context.Background(), c.s.Lab.Name, d); err != nil {
					resErr = errors.Join(resErr, err)
				}
			}
		})
		return resErr
	}
	var paused sync.Once
	var pauseErr error
	pause := func(ctx context.Context) error {
		paused.Do(func() {
			for _, d := range c.run {
				if err := s.HV.SuspendDomain(ctx, c.s.Lab.Name, d); err != nil {
					pauseErr = fmt.Errorf("pause %s to copy its disks: %w", d, err)
					return
				}
			}
		})
		return pauseErr
	}
	srcPrefix, dstPrefix := engine.VolumePrefix(c.s.Lab.Name), engine.VolumePrefix(s.Lab.Name)
	return &engine.Clone{
		Volume: func(ctx context.Context, vm *engine.VMSpec, v *engine.VolumeSpec) error {
			if err := pause(ctx); err != nil {
				return err
			}
			src := c.st.VM(vm.Name)
			if src == nil {
				return fmt.Errorf("copy %s has no VM %s", c.s.Lab.Copy, vm.Name)
			}
			name := srcPrefix + strings.TrimPrefix(v.Name, dstPrefix)
			_, err := s.HV.CopyVolume(ctx, engine.LabPoolName(c.s.Lab), name, v.Pool, v.Def)
			mu.Lock()
			pending--
			last := pending == 0
			mu.Unlock()
			if last {
				err = errors.Join(err, resume())
			}
			if err != nil {
				return fmt.Errorf("copy disk %s from copy %s: %w", v.Name, c.s.Lab.Copy, err)
			}
			return nil
		},
		Restore: func(ctx context.Context, vm *engine.VMSpec) error {
			if err := s.restoreClone(ctx, c, vm); err != nil {
				return err
			}
			return wait(ctx, vm)
		},
	}, resume
}

// restoreClone defines the source's "up" snapshot on vm's new domain (the
// snapshot's domain is vm's own: reverting must not touch the source),
// reverts to it, and re-addresses the guest through its agent.
func (s *Session) restoreClone(ctx context.Context, c *cloneSource, vm *engine.VMSpec) error {
	src := c.st.VM(vm.Name)
	srcSnap, err := s.HV.SnapshotXML(ctx, src.LibvirtName, UpSnapshot)
	if err != nil {
		return err
	}
	def, err := s.liveDef(ctx, vm.LibvirtName)
	if err != nil {
		return err
	}
	snap := &libvirtxml.DomainSnapshot{Name: UpSnapshot, Description: srcSnap.Description, State: srcSnap.State,
		CreationTime: srcSnap.CreationTime, Memory: srcSnap.Memory, Disks: srcSnap.Disks, Domain: def, Cookie: srcSnap.Cookie}
	lab, dom := s.Lab.Name, vm.LibvirtName
	if err := s.HV.RedefineSnapshot(ctx, lab, dom, snap); err != nil {
		return fmt.Errorf("define snapshot %q: %w", UpSnapshot, err)
	}
	if err := s.HV.RevertSnapshot(ctx, lab, dom, UpSnapshot, false); err != nil {
		return fmt.Errorf("revert to snapshot %q: %w", UpSnapshot, err)
	}
	if err := s.waitAgent(ctx, vm); err != nil {
		return err
	}
	if err := s.HV.GuestSetTime(ctx, lab, dom, time.Now()); err != nil {
		return fmt.Errorf("set the guest clock: %w", err)
	}
	dev := ""
	for _, n := range vm.NICs {
		if n.Network == "mgmt" {
			dev = n.Device
		}
	}
	if dev == "" {
		return errors.New("no management NIC")
	}
	r, err := s.HV.GuestExec(ctx, lab, dom, []string{"/bin/sh", "-c", readdress, "labctl-readdress", dev}, nil, time.Minute)
	if err != nil {
		return fmt.Errorf("re-address the clone: %w", err)
	}
	if r.ExitCode != 0 {
		return fmt.Errorf("re-address the clone: exit status %d: %s", r.ExitCode, strings.TrimSpace(string(r.Stderr)))
	}
	return nil
}

// liveDef is the domain's definition as libvirt holds it (with its UUID).
func (s *Session) liveDef(ctx context.Context, name string) (*libvirtxml.Domain, error) {
	doms, err := s.HV.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range doms {
		if d.Name == name && d.Def != nil {
			return d.Def, nil
		}
	}
	return nil, fmt.Errorf("domain %s: %w", name, libvirt.ErrNotFound)
}

// waitAgent waits until the reverted guest's agent answers (it runs at
// once: the guest is the source's, already booted).
func (s *Session) waitAgent(ctx context.Context, vm *engine.VMSpec) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		err := s.HV.GuestPing(ctx, s.Lab.Name, vm.LibvirtName)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the guest agent does not answer: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
