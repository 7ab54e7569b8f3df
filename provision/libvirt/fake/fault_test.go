package fake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"libvirt.org/go/libvirtxml"
)

const mac = "52:54:00:aa:bb:01"

// running returns a fake with one running domain "lab-vm" owned by lab
// (owner "" = no labctl metadata).
func running(t *testing.T, owner string) *fake.Hypervisor {
	t.Helper()
	h := fake.New()
	ctx := context.Background()
	h.AddNetwork(&libvirtxml.Network{Name: "lab-net"}, true)
	def := &libvirtxml.Domain{Type: "qemu", Name: "lab-vm", Devices: &libvirtxml.DomainDeviceList{
		Interfaces: []libvirtxml.DomainInterface{{
			MAC:    &libvirtxml.DomainInterfaceMAC{Address: mac},
			Source: &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: "lab-net"}},
		}},
	}}
	if owner != "" {
		meta, err := libvirt.MarshalMeta(&libvirt.Meta{Lab: owner, Object: "vm", Kind: "domain"})
		if err != nil {
			t.Fatal(err)
		}
		def.Metadata = &libvirtxml.DomainMetadata{XML: meta}
	}
	if err := h.DefineDomain(ctx, def); err != nil {
		t.Fatal(err)
	}
	if err := h.StartDomain(ctx, "lab-vm"); err != nil {
		t.Fatal(err)
	}
	return h
}

func domain(t *testing.T, h *fake.Hypervisor) libvirt.Domain {
	t.Helper()
	doms, err := h.ListDomains(context.Background())
	if err != nil || len(doms) != 1 {
		t.Fatalf("domains %v %v", doms, err)
	}
	return doms[0]
}

func link(t *testing.T, h *fake.Hypervisor) string {
	t.Helper()
	d := domain(t, h)
	i, err := libvirt.InterfaceByMAC(d.Def, mac)
	if err != nil {
		t.Fatal(err)
	}
	if i.Link == nil {
		return ""
	}
	return i.Link.State
}

func TestDestroyDomainKeepsItDefined(t *testing.T) {
	h := running(t, "lab")
	ctx := context.Background()
	if err := h.DestroyDomain(ctx, "lab", "lab-vm"); err != nil {
		t.Fatal(err)
	}
	if d := domain(t, h); d.State != libvirt.StateShutoff || !d.Started.IsZero() {
		t.Errorf("after destroy: %s started %v", d.State, d.Started)
	}
	if err := h.DestroyDomain(ctx, "lab", "lab-vm"); err == nil {
		t.Error("destroy of a shut-off domain succeeded")
	}
	// Still defined: it starts again, like after `virsh destroy`.
	if err := h.StartDomain(ctx, "lab-vm"); err != nil || domain(t, h).State != libvirt.StateRunning {
		t.Errorf("start after destroy: %v", err)
	}
	if err := h.DestroyDomain(ctx, "lab", "nope"); !errors.Is(err, libvirt.ErrNotFound) {
		t.Errorf("missing domain: %v", err)
	}
}

func TestFaultActionsNeedOwnership(t *testing.T) {
	ctx := context.Background()
	for name, owner := range map[string]string{"other lab": "other", "foreign": ""} {
		t.Run(name, func(t *testing.T) {
			h := running(t, owner)
			if err := h.DestroyDomain(ctx, "lab", "lab-vm"); !errors.Is(err, libvirt.ErrNotOwned) {
				t.Errorf("destroy: %v", err)
			}
			if err := h.SetInterfaceLink(ctx, "lab", "lab-vm", mac, false); !errors.Is(err, libvirt.ErrNotOwned) {
				t.Errorf("link: %v", err)
			}
			if d := domain(t, h); d.State != libvirt.StateRunning || link(t, h) != "" {
				t.Errorf("foreign domain touched: %s link %q", d.State, link(t, h))
			}
		})
	}
}

func TestSetInterfaceLink(t *testing.T) {
	h := running(t, "lab")
	ctx := context.Background()
	// MACs match in any case, as libvirt does.
	if err := h.SetInterfaceLink(ctx, "lab", "lab-vm", "52:54:00:AA:BB:01", false); err != nil {
		t.Fatal(err)
	}
	if got := link(t, h); got != "down" {
		t.Errorf("link %q, want down", got)
	}
	if err := h.SetInterfaceLink(ctx, "lab", "lab-vm", mac, true); err != nil || link(t, h) != "up" {
		t.Errorf("link up: %v %q", err, link(t, h))
	}
	if err := h.SetInterfaceLink(ctx, "lab", "lab-vm", "52:54:00:00:00:09", false); !errors.Is(err, libvirt.ErrNotFound) {
		t.Errorf("unknown MAC: %v", err)
	}
	// Down, then destroyed: the live link state goes with the process.
	if err := h.SetInterfaceLink(ctx, "lab", "lab-vm", mac, false); err != nil {
		t.Fatal(err)
	}
	if err := h.DestroyDomain(ctx, "lab", "lab-vm"); err != nil {
		t.Fatal(err)
	}
	if err := h.SetInterfaceLink(ctx, "lab", "lab-vm", mac, true); err == nil {
		t.Error("link of a shut-off domain set")
	}
	if err := h.StartDomain(ctx, "lab-vm"); err != nil || link(t, h) != "" {
		t.Errorf("after restart: %v link %q", err, link(t, h))
	}
}
