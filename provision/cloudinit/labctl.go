package cloudinit

import (
	"fmt"
	"strings"

	"github.com/labctl/labctl/provision/keys"
)

// LabctlDir is the seed directory labctl's own images read at first boot
// instead of running cloud-init (see image/rootfs/firstboot). Every file in
// it is plain data a POSIX shell copies or reads with `read`: no YAML, and
// nothing the guest evaluates. File names stay within what ISO 9660
// level 1 keeps intact: lower case, digits, "_" and one dot.
const LabctlDir = "labctl"

// SeedFile is one file of the seed's labctl directory.
type SeedFile struct {
	Name string // relative to LabctlDir
	Data []byte
}

// labctlFiles renders s (already validated) for labctl's first-boot
// script: the same hostname, user, keys, network and files as the
// cloud-init seed, with the network as systemd-networkd files.
func labctlFiles(s Seed, instanceID string) []SeedFile {
	line := func(v string) []byte { return []byte(v + "\n") }
	out := []SeedFile{
		{"instance", line(instanceID)},
		{"hostname", line(s.Hostname)},
		{"user", line(s.User)},
		{"authkeys", line(strings.Join(s.AuthorizedKeys, "\n"))},
		{"hostkey", s.HostKeyPEM},
		{"hostkey.pub", line(keys.AuthorizedKey(s.HostKey))},
	}
	if s.FQDN != "" {
		out = append(out, SeedFile{"fqdn", line(s.FQDN)})
	}
	for i, n := range s.NICs {
		link, network := networkdFiles(n)
		out = append(out,
			SeedFile{fmt.Sprintf("nic%02d.link", i), link},
			SeedFile{fmt.Sprintf("nic%02d.network", i), network})
	}
	for i, f := range s.Files {
		mode, owner := f.modeOwner()
		p := fmt.Sprintf("file%03d", i)
		out = append(out,
			SeedFile{p + ".path", line(f.Path)},
			SeedFile{p + ".mode", line(mode)},
			SeedFile{p + ".owner", line(owner)},
			SeedFile{p + ".data", f.Content})
	}
	return out
}

// networkdFiles renders what cloud-init's networkd renderer makes of the
// NIC's network-config entry: a .link naming the device by MAC, and a
// .network with its addresses, route, MTU and DNS, no DHCPv6 and no
// router advertisements (the image's 50-labctl-no-ra drop-ins).
func networkdFiles(n NIC) (link, network []byte) {
	mac := strings.ToLower(n.MAC)
	var l strings.Builder
	fmt.Fprintf(&l, "[Match]\nMACAddress=%s\n\n[Link]\nName=%s\n", mac, n.Name)
	if n.MTU != 0 {
		fmt.Fprintf(&l, "MTUBytes=%d\n", n.MTU)
	}
	var w strings.Builder
	fmt.Fprintf(&w, "[Match]\nMACAddress=%s\nName=%s\n\n", mac, n.Name)
	if n.MTU != 0 {
		fmt.Fprintf(&w, "[Link]\nMTUBytes=%d\n\n", n.MTU)
	}
	dhcp := "no"
	if n.DHCP && !n.Address.IsValid() {
		dhcp = "ipv4"
	}
	fmt.Fprintf(&w, "[Network]\nDHCP=%s\nIPv6AcceptRA=no\n", dhcp)
	if n.Address.IsValid() {
		fmt.Fprintf(&w, "Address=%s\n", n.Address)
	}
	for _, ns := range n.Nameservers {
		fmt.Fprintf(&w, "DNS=%s\n", ns)
	}
	if len(n.Search) > 0 {
		fmt.Fprintf(&w, "Domains=%s\n", strings.Join(n.Search, " "))
	}
	if n.Gateway.IsValid() {
		fmt.Fprintf(&w, "\n[Route]\nGateway=%s\n", n.Gateway)
	}
	return []byte(l.String()), []byte(w.String())
}
