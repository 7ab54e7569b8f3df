package cloudinit

import (
	"strings"
	"testing"

	"github.com/labctl/labctl/topology"
)

// A lab file's MTUs reach the guest: a nic's own mtu, else its network's;
// the management NIC keeps the guest default.
func TestNICMTUFromLab(t *testing.T) {
	src := `
lab "mtu" {}

network "lan" {
  mode = "nat"
  cidr = "10.20.0.0/24"
  mtu  = 9000
}

network "tun" {
  mode = "isolated"
  cidr = "10.21.0.0/24"
}

vm "rs" {
  nic "lan" {
    ip = "10.20.0.10"
  }
  nic "tun" {
    ip  = "10.21.0.10"
    mtu = 1480
  }
}
`
	lab, _, diags := topology.LoadSource(map[string][]byte{"lab.hcl": []byte(src)}, topology.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	base := testSeed(t)
	f, err := Render(ForVM(lab, lab.VMs[0], testUserKey, base.HostKeyPEM, base.HostKey))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "nic-mtu.network-config", f.NetworkConfig)
	if n := strings.Count(string(f.NetworkConfig), "mtu:"); n != 2 {
		t.Errorf("network-config has %d mtu lines, want 2 (lan from the network, tun from the nic)", n)
	}
}
