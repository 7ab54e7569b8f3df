package topology

import (
	"strings"
	"testing"
)

// Every copy keeps the lab's in-lab addresses and MACs, gets its own names
// and management subnet, and its nat network is closed: no host address
// that a second copy would repeat.
func TestCopiesKeepAddressesAndCloseNetworks(t *testing.T) {
	plain := loadInstance(t, LoadOptions{})
	a := loadInstance(t, LoadOptions{Copy: "alice"})
	b := loadInstance(t, LoadOptions{Copy: "bob"})
	if a.Name != "class-alice" || a.Class != "class" || a.Copy != "alice" || plain.Class != "" {
		t.Fatalf("copy names: %q class %q copy %q (plain class %q)", a.Name, a.Class, a.Copy, plain.Class)
	}
	if a.VMs[0].LibvirtName != "class-alice-box" {
		t.Errorf("VM name %q", a.VMs[0].LibvirtName)
	}
	na, nb, np := a.Network("net"), b.Network("net"), plain.Network("net")
	if na.Mode != NetIsolated || na.HostIP.IsValid() || np.Mode != NetNAT {
		t.Errorf("copy network mode %s host %v (lab: %s)", na.Mode, na.HostIP, np.Mode)
	}
	if na.LibvirtName == nb.LibvirtName || na.Bridge == nb.Bridge {
		t.Errorf("copies share network %q/%q", na.LibvirtName, na.Bridge)
	}
	for i, vm := range a.VMs {
		for j, nic := range vm.NICs {
			if nic.Network.Management {
				continue
			}
			want := plain.VMs[i].NICs[j]
			if nic.IP != want.IP || nic.MAC != want.MAC || b.VMs[i].NICs[j].IP != want.IP {
				t.Errorf("%s nic %d: copy %v/%s, lab %v/%s", vm.Name, j, nic.IP, nic.MAC, want.IP, want.MAC)
			}
		}
	}
	if a.Management.CIDR == b.Management.CIDR {
		t.Errorf("both copies derive management subnet %s", a.Management.CIDR)
	}
}

// Networks a copy cannot own alone are refused at the attribute that makes
// them so, and copy names are checked.
func TestCopyRefusals(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`lab "c" {}
network "n" {
  mode = "nat"
  cidr = "192.168.150.0/24"
  dhcp = true
}
vm "v" {
  nic "n" {}
}`, "lab.hcl:5,10-14: DHCP in a copy"},
		{`lab "c" {}
network "lan" {
  mode   = "bridge"
  bridge = "br0"
  cidr   = "192.168.1.0/24"
}
vm "v" {
  nic "lan" {
    ip = "192.168.1.10"
  }
}`, "lab.hcl:3,12-20: Network shared by copies"},
		{`lab "c" {
  pool = "shared"
}
vm "v" {}`, "lab.hcl:2,10-18: Pool shared by copies"},
	} {
		_, _, diags := LoadSource(map[string][]byte{"lab.hcl": []byte(tc.src)}, LoadOptions{Copy: "1"})
		if !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, diags)
		}
	}
	for _, bad := range []string{"", "-a", "Alice", "a b", strings.Repeat("x", 17)} {
		if CheckCopyName(bad) == nil {
			t.Errorf("copy name %q accepted", bad)
		}
	}
	if CheckCopyName("7") != nil || CheckCopyName("alice-2") != nil {
		t.Error("good copy names refused")
	}
}

func TestCopiesSetting(t *testing.T) {
	lab, _, diags := LoadSource(map[string][]byte{"lab.hcl": []byte("lab \"c\" {\n  copies = 3\n}\nvm \"v\" {}\n")}, LoadOptions{})
	if diags.HasErrors() || lab.Copies != 3 {
		t.Fatalf("copies = %d, %v", lab.Copies, diags)
	}
	if got := strings.Join(CopyNames(3), ","); got != "1,2,3" {
		t.Errorf("CopyNames(3) = %s", got)
	}
}
