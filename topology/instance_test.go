package topology

import (
	"net/netip"
	"strings"
	"testing"
)

const instanceSrc = `
lab "class" {
  shared_pool = false
}

network "net" {
  mode = "nat"
  cidr = "192.168.150.0/24"
}

vm "box" {
  nic "net" {}
}
`

func loadInstance(t *testing.T, opts LoadOptions) *Lab {
	t.Helper()
	lab, _, diags := LoadSource(map[string][]byte{"lab.hcl": []byte(instanceSrc)}, opts)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return lab
}

// --owner bob runs bob's copy: every libvirt name, bridge and the pool are
// derived from "<lab>-bob", so two owners' copies share nothing.
func TestInstanceNames(t *testing.T) {
	mine := loadInstance(t, LoadOptions{})
	bob := loadInstance(t, LoadOptions{Instance: "bob"})
	if mine.Name != "class" || bob.Name != "class-bob" || bob.Pool != "class-bob" {
		t.Fatalf("names %q, %q (pool %q)", mine.Name, bob.Name, bob.Pool)
	}
	if bob.VMs[0].LibvirtName != "class-bob-box" {
		t.Errorf("bob's VM is %q", bob.VMs[0].LibvirtName)
	}
	for i, n := range bob.Networks {
		m := mine.Networks[i]
		if n.LibvirtName == m.LibvirtName || n.Bridge == m.Bridge || len(n.Bridge) > 15 || !strings.HasPrefix(n.LibvirtName, "class-bob-") {
			t.Errorf("network %s: bob %q/%q, mine %q/%q", n.Name, n.LibvirtName, n.Bridge, m.LibvirtName, m.Bridge)
		}
	}
	if bob.Management.CIDR == mine.Management.CIDR {
		t.Errorf("both copies derive management subnet %s", bob.Management.CIDR)
	}
	_, _, diags := LoadSource(map[string][]byte{"lab.hcl": []byte(instanceSrc)}, LoadOptions{Instance: strings.Repeat("x", 40)})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "with --owner") {
		t.Errorf("a too long instance name: %v", diags)
	}
}

// The derived management subnet skips ranges in use outside the lab and
// keeps the one an existing lab has.
func TestManagementSubnetAvoidsAndKeeps(t *testing.T) {
	first := loadInstance(t, LoadOptions{}).Management.CIDR
	moved := loadInstance(t, LoadOptions{AvoidCIDRs: []netip.Prefix{first}}).Management.CIDR
	if moved == first || moved.Overlaps(first) {
		t.Errorf("with %s in use the pick is %s", first, moved)
	}
	// A host route covering all of 172.16.0.0/12 but one /24 leaves that one.
	wide := loadInstance(t, LoadOptions{AvoidCIDRs: []netip.Prefix{netip.MustParsePrefix("172.16.0.0/13"), netip.MustParsePrefix("172.24.0.0/14"),
		netip.MustParsePrefix("172.28.0.0/15"), netip.MustParsePrefix("172.30.0.0/16"), netip.MustParsePrefix("172.31.0.0/17"),
		netip.MustParsePrefix("172.31.128.0/18"), netip.MustParsePrefix("172.31.192.0/19"), netip.MustParsePrefix("172.31.224.0/20"),
		netip.MustParsePrefix("172.31.240.0/21"), netip.MustParsePrefix("172.31.248.0/22"), netip.MustParsePrefix("172.31.252.0/23"),
		netip.MustParsePrefix("172.31.254.0/24")}}).Management.CIDR
	if wide.String() != "172.31.255.0/24" {
		t.Errorf("only 172.31.255.0/24 is free, pick is %s", wide)
	}
	keep := netip.MustParsePrefix("172.20.7.0/24")
	if got := loadInstance(t, LoadOptions{ManagementCIDR: keep, AvoidCIDRs: []netip.Prefix{keep}}).Management.CIDR; got != keep {
		t.Errorf("existing lab's subnet %s not kept: %s", keep, got)
	}
	// A kept subnet that now overlaps a lab network is not kept.
	clash := netip.MustParsePrefix("192.168.150.0/24")
	if got := loadInstance(t, LoadOptions{ManagementCIDR: clash}).Management.CIDR; got == clash {
		t.Errorf("kept %s although network net uses it", got)
	}
}
