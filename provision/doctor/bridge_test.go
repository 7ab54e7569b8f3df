package doctor

import (
	"context"
	"testing"

	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
)

func TestDoctorBridgeChecks(t *testing.T) {
	lab := &topology.Lab{Networks: []*topology.Network{
		{Name: "lan", Mode: topology.NetBridge, Bridge: "kvmbr0"},
		{Name: "uplink", Mode: topology.NetBridge, Bridge: "eth9"},
		{Name: "gone", Mode: topology.NetBridge, Bridge: "br7"},
		{Name: "inner", Mode: topology.NetIsolated, Bridge: "virbr-x"},
	}}
	hv := fake.New()
	hv.AddHostDevice("kvmbr0", true)
	hv.AddHostDevice("eth9", false)
	got := bridgeChecks(context.Background(), hv, lab)
	want := map[string]string{"bridge kvmbr0": "ok", "bridge eth9": "fail", "bridge br7": "fail"}
	if len(got) != len(want) {
		t.Fatalf("checks = %+v, want one per bridge network", got)
	}
	for _, c := range got {
		if want[c.Name] != c.Status {
			t.Errorf("%s: status %s (%s), want %s", c.Name, c.Status, c.Detail, want[c.Name])
		}
	}
	if bridgeChecks(context.Background(), hv, nil) != nil {
		t.Error("checks without a lab")
	}
}
