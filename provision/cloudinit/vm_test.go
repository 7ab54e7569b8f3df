package cloudinit

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/labctl/labctl/topology"
)

func TestForVM(t *testing.T) {
	base := testSeed(t)
	internal := &topology.Network{Name: "internal", CIDR: netip.MustParsePrefix("10.0.10.0/24"), MTU: 9000, Domain: "lab.test"}
	mgmt := &topology.Network{Name: "mgmt", CIDR: netip.MustParsePrefix("192.168.200.0/24"), DHCP: true}
	lab := &topology.Lab{Name: "demo", SSHUser: "labctl"}
	vm := &topology.VM{Name: "web-1", Hostname: "web-1", NICs: []*topology.NIC{
		{Network: internal, IP: netip.MustParseAddr("10.0.10.11"), Prefix: 24, Gateway: netip.MustParseAddr("10.0.10.1"), MAC: "52:54:00:aa:bb:01", Device: "eth0"},
		{Network: mgmt, MAC: "52:54:00:aa:bb:02", Device: "eth1", Management: true},
	}}
	got := ForVM(lab, vm, testUserKey, base.HostKeyPEM, base.HostKey)
	want := Seed{
		Hostname: "web-1", FQDN: "web-1.lab.test", User: "labctl",
		AuthorizedKeys: []string{testUserKey}, HostKeyPEM: base.HostKeyPEM, HostKey: base.HostKey,
		NICs: []NIC{
			{MAC: "52:54:00:aa:bb:01", Name: "eth0", Address: netip.MustParsePrefix("10.0.10.11/24"), Gateway: netip.MustParseAddr("10.0.10.1"), MTU: 9000},
			{MAC: "52:54:00:aa:bb:02", Name: "eth1", DHCP: true},
		},
	}
	opts := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	prefixes := cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })
	if d := cmp.Diff(want, got, opts, prefixes); d != "" {
		t.Errorf("ForVM mismatch (-want +got):\n%s", d)
	}
	if _, err := Render(got); err != nil {
		t.Errorf("Render(ForVM(...)) = %v", err)
	}
}
