package engine

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
)

// up stops before creating anything when a bridge-mode network's host
// bridge is missing or is no bridge, naming the network, the bridge and
// the lab file line.
func TestUpChecksHostBridge(t *testing.T) {
	for _, c := range []struct {
		name   string
		device func(*fake.Hypervisor)
		want   string
	}{
		{"missing", func(*fake.Hypervisor) {}, `lab.hcl:7: network "ext": host bridge "kvmbr0" does not exist on fake:///system`},
		{"not a bridge", func(h *fake.Hypervisor) { h.AddHostDevice("kvmbr0", false) }, `lab.hcl:7: network "ext": host device "kvmbr0" on fake:///system is not a Linux bridge`},
	} {
		t.Run(c.name, func(t *testing.T) {
			lab := testLab("br")
			lab.Networks[0].Mode = topology.NetBridge
			lab.Networks[0].LibvirtName = "kvmbr0"
			lab.Networks[0].Bridge = "kvmbr0"
			lab.Networks[0].Range = hcl.Range{Filename: "lab.hcl", Start: hcl.Pos{Line: 7, Column: 1}}
			hv := fake.New()
			c.device(hv)
			_, err := Up(ctx(), hv, lab, testOpts())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("up: %v, want %q", err, c.want)
			}
			if len(hv.Calls) != 0 {
				t.Errorf("up changed libvirt before failing: %v", hv.Calls)
			}
			if _, _, _, err := Plan(ctx(), hv, lab, testOpts().Options); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("plan against libvirt: %v, want %q", err, c.want)
			}
			// Once the bridge exists, up goes ahead and attaches to it.
			hv.AddHostDevice("kvmbr0", true)
			if _, err := Up(ctx(), hv, lab, testOpts()); err != nil {
				t.Fatalf("up with the bridge: %v", err)
			}
		})
	}
}
