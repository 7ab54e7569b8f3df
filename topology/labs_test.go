package topology

import (
	"path/filepath"
	"testing"
)

func loadLab(t *testing.T, dir string) *Lab {
	t.Helper()
	lab, _, diags := Load(filepath.Join("..", "labs", dir), LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load %s: %s", dir, diags.Error())
	}
	return lab
}

func TestMinimalLab(t *testing.T) {
	lab := loadLab(t, "minimal")
	if len(lab.VMs) != 1 || lab.VMs[0].Name != "box" {
		t.Fatalf("VMs = %+v", lab.VMs)
	}
	box := lab.VMs[0]
	if got := box.NICs[0].IP.String(); got != "192.168.150.10" {
		t.Errorf("box ip = %s, want first auto address 192.168.150.10", got)
	}
	if got := box.NICs[0].Gateway.String(); got != "192.168.150.1" {
		t.Errorf("gateway = %s", got)
	}
	if !box.NICs[1].Management || box.NICs[1].Device != "eth1" || lab.Management == nil {
		t.Errorf("management NIC missing: %+v", box.NICs[1])
	}
}
