package libvirt

import (
	"context"
	"fmt"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// Snapshot is one snapshot of a domain as libvirt lists it.
type Snapshot struct {
	Name        string
	Created     time.Time
	State       string // the domain's state when it was taken ("running", "shutoff")
	Description string
}

// SuspendDomain implements Hypervisor.
func (c *Conn) SuspendDomain(ctx context.Context, lab, name string) error {
	return c.onOwned(ctx, lab, name, "suspend", func(d golibvirt.Domain) error { return c.l.DomainSuspend(d) })
}

// ResumeDomain implements Hypervisor.
func (c *Conn) ResumeDomain(ctx context.Context, lab, name string) error {
	return c.onOwned(ctx, lab, name, "resume", func(d golibvirt.Domain) error { return c.l.DomainResume(d) })
}

// CreateSnapshot implements Hypervisor: an internal snapshot, with the
// guest's memory when the domain runs (libvirt's default for qcow2 disks).
func (c *Conn) CreateSnapshot(ctx context.Context, lab, name, snapshot, description string) error {
	x, err := (&libvirtxml.DomainSnapshot{Name: snapshot, Description: description}).Marshal()
	if err != nil {
		return fmt.Errorf("snapshot %q XML: %w", snapshot, err)
	}
	return c.onOwned(ctx, lab, name, "snapshot", func(d golibvirt.Domain) error {
		_, err := c.l.DomainSnapshotCreateXML(d, x, 0)
		return err
	})
}

// RedefineSnapshot implements Hypervisor.
func (c *Conn) RedefineSnapshot(ctx context.Context, lab, name string, snap *libvirtxml.DomainSnapshot) error {
	x, err := snap.Marshal()
	if err != nil {
		return fmt.Errorf("snapshot %q XML: %w", snap.Name, err)
	}
	return c.onOwned(ctx, lab, name, "redefine snapshot of", func(d golibvirt.Domain) error {
		_, err := c.l.DomainSnapshotCreateXML(d, x, uint32(golibvirt.DomainSnapshotCreateRedefine))
		return err
	})
}

// RevertSnapshot implements Hypervisor.
func (c *Conn) RevertSnapshot(ctx context.Context, lab, name, snapshot string, paused bool) error {
	flags := golibvirt.DomainSnapshotRevertRunning
	if paused {
		flags = golibvirt.DomainSnapshotRevertPaused
	}
	return c.onOwned(ctx, lab, name, "revert", func(d golibvirt.Domain) error {
		s, err := c.l.DomainSnapshotLookupByName(d, snapshot, 0)
		if err != nil {
			return err
		}
		return c.l.DomainRevertToSnapshot(s, uint32(flags))
	})
}

// DeleteSnapshot implements Hypervisor.
func (c *Conn) DeleteSnapshot(ctx context.Context, lab, name, snapshot string) error {
	return c.onOwned(ctx, lab, name, "delete snapshot of", func(d golibvirt.Domain) error {
		s, err := c.l.DomainSnapshotLookupByName(d, snapshot, 0)
		if err != nil {
			return err
		}
		return c.l.DomainSnapshotDelete(s, 0)
	})
}

// ListSnapshots implements Hypervisor.
func (c *Conn) ListSnapshots(ctx context.Context, name string) ([]Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := c.l.DomainLookupByName(name)
	if err != nil {
		return nil, fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	snaps, _, err := c.l.DomainListAllSnapshots(d, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("snapshots of domain %q: %w", name, wrap(err))
	}
	var out []Snapshot
	for _, s := range snaps {
		def, err := c.snapshotDef(s)
		if err != nil {
			return nil, fmt.Errorf("domain %q: %w", name, err)
		}
		sn := Snapshot{Name: def.Name, State: def.State, Description: def.Description}
		var sec int64
		if _, err := fmt.Sscan(def.CreationTime, &sec); err == nil {
			sn.Created = time.Unix(sec, 0)
		}
		out = append(out, sn)
	}
	return out, nil
}

// SnapshotXML implements Hypervisor.
func (c *Conn) SnapshotXML(ctx context.Context, name, snapshot string) (*libvirtxml.DomainSnapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := c.l.DomainLookupByName(name)
	if err != nil {
		return nil, fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	s, err := c.l.DomainSnapshotLookupByName(d, snapshot, 0)
	if err != nil {
		return nil, fmt.Errorf("snapshot %q of domain %q: %w", snapshot, name, wrap(err))
	}
	return c.snapshotDef(s)
}

func (c *Conn) snapshotDef(s golibvirt.DomainSnapshot) (*libvirtxml.DomainSnapshot, error) {
	x, err := c.l.DomainSnapshotGetXMLDesc(s, 0)
	if err != nil {
		return nil, fmt.Errorf("snapshot %q: %w", s.Name, wrap(err))
	}
	var def libvirtxml.DomainSnapshot
	if err := def.Unmarshal(x); err != nil {
		return nil, fmt.Errorf("parse snapshot %q: %w", s.Name, err)
	}
	return &def, nil
}

// onOwned runs fn on domain name once its metadata proves lab owns it.
func (c *Conn) onOwned(ctx context.Context, lab, name, what string, fn func(golibvirt.Domain) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.ownedDomain(lab, name)
	if err != nil {
		return err
	}
	if err := fn(d); err != nil {
		return fmt.Errorf("%s domain %q: %w", what, name, wrap(err))
	}
	return nil
}
