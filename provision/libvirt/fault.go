package libvirt

import (
	"context"
	"fmt"
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
)

// ownedDomain looks name up and checks that its labctl metadata (the
// element StartDomain also reads) names lab: fault actions never touch
// another lab's or a foreign domain.
func (c *Conn) ownedDomain(lab, name string) (golibvirt.Domain, error) {
	d, err := c.l.DomainLookupByName(name)
	if err != nil {
		return d, fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	inner, err := c.l.DomainGetMetadata(d, int32(golibvirt.DomainMetadataElement), []string{Namespace}, golibvirt.DomainAffectCurrent)
	if err != nil {
		if isCode(err, golibvirt.ErrNoDomainMetadata) {
			return d, fmt.Errorf("domain %q has no labctl metadata: %w", name, ErrNotOwned)
		}
		return d, fmt.Errorf("domain %q metadata: %w", name, wrap(err))
	}
	if m := parseMetaElement(inner); m == nil || m.Lab != lab {
		owner := "none"
		if m != nil {
			owner = m.Lab
		}
		return d, fmt.Errorf("domain %q belongs to lab %q, not %q: %w", name, owner, lab, ErrNotOwned)
	}
	return d, nil
}

// DestroyDomain implements Hypervisor.
func (c *Conn) DestroyDomain(ctx context.Context, lab, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.ownedDomain(lab, name)
	if err != nil {
		return err
	}
	// Flags 0: SIGTERM then SIGKILL to QEMU, no guest involvement.
	if err := c.l.DomainDestroyFlags(d, golibvirt.DomainDestroyDefault); err != nil {
		return fmt.Errorf("destroy domain %q: %w", name, wrap(err))
	}
	return nil
}

// SetInterfaceLink implements Hypervisor.
func (c *Conn) SetInterfaceLink(ctx context.Context, lab, name, mac string, up bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d, err := c.ownedDomain(lab, name)
	if err != nil {
		return err
	}
	x, err := c.l.DomainGetXMLDesc(d, 0) // live definition
	if err != nil {
		return fmt.Errorf("domain %q: %w", name, wrap(err))
	}
	var def libvirtxml.Domain
	if err := def.Unmarshal(x); err != nil {
		return fmt.Errorf("parse domain %q: %w", name, err)
	}
	iface, err := InterfaceByMAC(&def, mac)
	if err != nil {
		return err
	}
	iface.Link = &libvirtxml.DomainInterfaceLink{State: LinkState(up)}
	ix, err := iface.Marshal()
	if err != nil {
		return fmt.Errorf("domain %q interface %s XML: %w", name, mac, err)
	}
	// Live only: a restart of the domain brings the link back up.
	if err := c.l.DomainUpdateDeviceFlags(d, ix, golibvirt.DomainDeviceModifyLive); err != nil {
		return fmt.Errorf("set link of domain %q interface %s %s: %w", name, mac, LinkState(up), wrap(err))
	}
	return nil
}

// InterfaceByMAC returns a copy of def's interface with MAC mac (any case).
func InterfaceByMAC(def *libvirtxml.Domain, mac string) (*libvirtxml.DomainInterface, error) {
	if def.Devices != nil {
		for _, i := range def.Devices.Interfaces {
			if i.MAC != nil && strings.EqualFold(i.MAC.Address, mac) {
				out := i
				return &out, nil
			}
		}
	}
	return nil, fmt.Errorf("domain %q has no interface with MAC %s: %w", def.Name, mac, ErrNotFound)
}

// LinkState is libvirt's name of a link state.
func LinkState(up bool) string {
	if up {
		return "up"
	}
	return "down"
}
