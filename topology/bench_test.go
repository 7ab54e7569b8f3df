package topology

import (
	"testing"

	"github.com/labctl/labctl/topology/topologytest"
)

func TestLargeLab(t *testing.T) {
	lab, _, diags := LoadSource(map[string][]byte{"large.hcl": topologytest.LargeLab()}, LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(lab.VMs) != 200 || len(lab.Networks) != 21 || len(lab.LVS) != 10 {
		t.Fatalf("got %d VMs, %d networks, %d LVS", len(lab.VMs), len(lab.Networks), len(lab.LVS))
	}
}

func BenchmarkLoadLarge(b *testing.B) {
	src := map[string][]byte{"large.hcl": topologytest.LargeLab()}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, diags := LoadSource(src, LoadOptions{}); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}
