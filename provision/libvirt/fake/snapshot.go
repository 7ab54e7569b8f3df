package fake

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/libvirt"
	"libvirt.org/go/libvirtxml"
)

// snap is one snapshot of a fake domain: the state it reverts to.
type snap struct {
	info  libvirt.Snapshot
	state libvirt.DomainState
	def   *libvirtxml.DomainSnapshot
}

// SuspendDomain implements libvirt.Hypervisor.
func (h *Hypervisor) SuspendDomain(ctx context.Context, lab, name string) error {
	return h.setState(ctx, "SuspendDomain", lab, name, libvirt.StateRunning, libvirt.StatePaused)
}

// ResumeDomain implements libvirt.Hypervisor.
func (h *Hypervisor) ResumeDomain(ctx context.Context, lab, name string) error {
	return h.setState(ctx, "ResumeDomain", lab, name, libvirt.StatePaused, libvirt.StateRunning)
}

func (h *Hypervisor) setState(ctx context.Context, op, lab, name string, from, to libvirt.DomainState) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act(op, name); err != nil {
		return err
	}
	d, err := h.owned(lab, name)
	if err != nil {
		return err
	}
	if d.State != from {
		return fmt.Errorf("%s %q: domain is %s, not %s", op, name, d.State, from)
	}
	d.State = to
	return nil
}

// CreateSnapshot implements libvirt.Hypervisor.
func (h *Hypervisor) CreateSnapshot(ctx context.Context, lab, name, snapshot, description string) error {
	return h.addSnapshot(ctx, "CreateSnapshot", lab, name, &libvirtxml.DomainSnapshot{Name: snapshot, Description: description})
}

// RedefineSnapshot implements libvirt.Hypervisor.
func (h *Hypervisor) RedefineSnapshot(ctx context.Context, lab, name string, s *libvirtxml.DomainSnapshot) error {
	return h.addSnapshot(ctx, "RedefineSnapshot", lab, name, s)
}

func (h *Hypervisor) addSnapshot(ctx context.Context, op, lab, name string, def *libvirtxml.DomainSnapshot) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act(op, name); err != nil {
		return err
	}
	d, err := h.owned(lab, name)
	if err != nil {
		return err
	}
	for _, s := range h.snapshots[name] {
		if s.info.Name == def.Name {
			return fmt.Errorf("snapshot %q of domain %q: %w", def.Name, name, libvirt.ErrExists)
		}
	}
	state := d.State
	if def.State != "" {
		state = libvirt.DomainState(def.State)
	}
	cp := *def
	cp.State = string(state)
	h.snapshots[name] = append(h.snapshots[name], snap{
		info:  libvirt.Snapshot{Name: def.Name, Created: h.now(), State: string(state), Description: def.Description},
		state: state, def: &cp})
	return nil
}

// ListSnapshots implements libvirt.Hypervisor.
func (h *Hypervisor) ListSnapshots(ctx context.Context, name string) ([]libvirt.Snapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, ok := h.domains[name]; !ok {
		return nil, notFound("domain", name)
	}
	var out []libvirt.Snapshot
	for _, s := range h.snapshots[name] {
		out = append(out, s.info)
	}
	return out, nil
}

// SnapshotXML implements libvirt.Hypervisor.
func (h *Hypervisor) SnapshotXML(ctx context.Context, name, snapshot string) (*libvirtxml.DomainSnapshot, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i, err := h.findSnapshot(name, snapshot)
	if err != nil {
		return nil, err
	}
	cp := *h.snapshots[name][i].def
	return &cp, nil
}

// RevertSnapshot implements libvirt.Hypervisor.
func (h *Hypervisor) RevertSnapshot(ctx context.Context, lab, name, snapshot string, paused bool) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.act("RevertSnapshot", name); err != nil {
		return err
	}
	d, err := h.owned(lab, name)
	if err != nil {
		return err
	}
	i, err := h.findSnapshot(name, snapshot)
	if err != nil {
		return err
	}
	// Like libvirt's REVERT_RUNNING/REVERT_PAUSED flags: a snapshot of a
	// live domain (running or paused) comes back as asked.
	d.State = h.snapshots[name][i].state
	if d.State == libvirt.StateRunning || d.State == libvirt.StatePaused {
		d.State = libvirt.StateRunning
		if paused {
			d.State = libvirt.StatePaused
		}
	}
	return nil
}

// DeleteSnapshot implements libvirt.Hypervisor.
func (h *Hypervisor) DeleteSnapshot(ctx context.Context, lab, name, snapshot string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.act("DeleteSnapshot", name); err != nil {
		return err
	}
	if _, err := h.owned(lab, name); err != nil {
		return err
	}
	i, err := h.findSnapshot(name, snapshot)
	if err != nil {
		return err
	}
	h.snapshots[name] = append(h.snapshots[name][:i], h.snapshots[name][i+1:]...)
	return nil
}

func (h *Hypervisor) findSnapshot(name, snapshot string) (int, error) {
	for i, s := range h.snapshots[name] {
		if s.info.Name == snapshot {
			return i, nil
		}
	}
	return 0, notFound("snapshot", name+"/"+snapshot)
}

func (h *Hypervisor) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// CopyVolume implements libvirt.Hypervisor: the copy has the source's
// size (the fake keeps no bytes).
func (h *Hypervisor) CopyVolume(ctx context.Context, srcPool, srcName, dstPool string, dst *libvirtxml.StorageVolume) (libvirt.Volume, error) {
	h.mu.Lock()
	p, ok := h.pools[srcPool]
	var src *libvirt.Volume
	if ok {
		src = p.volumes[srcName]
	}
	h.mu.Unlock()
	if src == nil {
		return libvirt.Volume{}, notFound("volume", srcPool+"/"+srcName)
	}
	def := *dst
	def.BackingStore = nil
	def.Capacity = &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: src.Physical}
	return h.CreateVolume(ctx, dstPool, &def, strings.NewReader(strings.Repeat("\x00", int(src.Physical))), int64(src.Physical))
}

// GuestPing implements libvirt.Hypervisor: the agent answers while the
// domain runs.
func (h *Hypervisor) GuestPing(ctx context.Context, lab, name string) error {
	_, err := h.running(lab, name)
	return err
}

// GuestSetTime implements libvirt.Hypervisor.
func (h *Hypervisor) GuestSetTime(ctx context.Context, lab, name string, t time.Time) error {
	if _, err := h.running(lab, name); err != nil {
		return err
	}
	h.mu.Lock()
	h.AgentCalls = append(h.AgentCalls, name+": set-time")
	h.mu.Unlock()
	return nil
}

// GuestExec implements libvirt.Hypervisor.
func (h *Hypervisor) GuestExec(ctx context.Context, lab, name string, argv []string, stdin []byte, timeout time.Duration) (libvirt.GuestExecResult, error) {
	if _, err := h.running(lab, name); err != nil {
		return libvirt.GuestExecResult{}, err
	}
	h.mu.Lock()
	h.AgentCalls = append(h.AgentCalls, name+": "+strings.Join(argv, " "))
	agent := h.Agent
	h.mu.Unlock()
	if agent == nil {
		return libvirt.GuestExecResult{}, nil
	}
	return agent(name, argv, stdin)
}

func (h *Hypervisor) running(lab, name string) (*libvirt.Domain, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d, err := h.owned(lab, name)
	if err != nil {
		return nil, err
	}
	if d.State != libvirt.StateRunning {
		return nil, fmt.Errorf("domain %q: guest agent: domain is %s", name, d.State)
	}
	return d, nil
}
