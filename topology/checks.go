package topology

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// Checks for values that parse but would break the lab later or land
// unquoted in a host or guest config file.

// rejectNullRequired reports required attributes set to null: val treats
// null as absent, which would drop the block or its references silently.
func (l *loader) rejectNullRequired(s scope, kind string) {
	for _, a := range schemas[kind].Attributes {
		if a.Required && s.isNull(a.Name) {
			l.errorf(s.rng(a.Name), "Missing required argument", "%s is required and must not be null.", a.Name)
		}
	}
}

// sorryServerError explains why v is not a plain "IPv4:port", or "". The
// value is written into keepalived.conf, so an IPv6 zone (any text after %)
// or anything else netip would accept must not pass.
func sorryServerError(v string) string {
	ap, err := netip.ParseAddrPort(v)
	if err != nil || !ap.Addr().Is4() || ap.Port() == 0 || ap.String() != v {
		return fmt.Sprintf("sorry_server must be an IPv4 address and port such as \"10.0.10.50:80\", got %q.", v)
	}
	return ""
}

// reservedNets are ranges a lab network cannot use: loopback, multicast,
// "this network", link-local and the reserved class E.
var reservedCIDRs = []struct {
	p    netip.Prefix
	what string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\" (0.0.0.0/8)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (169.254.0.0/16)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (224.0.0.0/4)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (240.0.0.0/4)"},
}

// reservedCIDRError explains why p cannot hold a lab network, or "".
func reservedCIDRError(name string, p netip.Prefix) string {
	for _, r := range reservedCIDRs {
		if p.Overlaps(r.p) {
			return fmt.Sprintf("%s %s overlaps the %s range, which cannot carry a lab network; use a private range such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16.", name, p, r.what)
		}
	}
	return ""
}

// ifNameRe is what a host bridge name may use: it is passed to libvirt and
// to ip(8), and appears in messages.
var ifNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// domainRe is a DNS domain: dot-separated labels of letters, digits and -.
var domainRe = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

func domainError(v string) string {
	if len(v) <= 253 && domainRe.MatchString(v) {
		return ""
	}
	return fmt.Sprintf("domain %q is not a DNS domain name such as \"lab.example\": labels of letters, digits and '-', separated by dots.", v)
}

// healthPathError rejects a web health page that would alias a directory:
// "/" would replace the whole site with the health page.
func healthPathError(v string) string {
	if strings.HasSuffix(v, "/") {
		return fmt.Sprintf("health_path %q is a directory; the health page is aliased over it (for \"/\": the whole site). Name a page such as \"/health.html\".", v)
	}
	return ""
}

// systemTrees are guest directories that a mount, an export or a docroot
// must neither be nor lie under: mounting over them (or labctl changing
// their owner) breaks the guest.
var systemTrees = []string{"/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt", "/var/log"}

// systemPathError explains why p would cover a system directory, or "".
func systemPathError(name, p string) string {
	for _, t := range systemTrees {
		if under(p, t) {
			return fmt.Sprintf("%s = %q is inside the system directory %s; use a directory such as /srv/<name>.", name, p, t)
		}
		if under(t, p) {
			return fmt.Sprintf("%s = %q would cover the system directory %s; use a directory such as /srv/<name>.", name, p, t)
		}
	}
	if p == "/home" || p == "/var" {
		return fmt.Sprintf("%s = %q would cover %s (user homes or system state); use a directory such as /srv/<name>.", name, p, p)
	}
	return ""
}

// maxPCIDevices bounds what sits on the default machine's PCI root bus:
// it has 32 slots, of which the chipset, video, balloon and serial take
// about six. Each NIC and each virtio disk takes one slot; SATA, SCSI and
// IDE disks share their controller.
const maxPCIDevices = 26

func (x *expander) checkPCISlots(e *vmEval) {
	n := len(e.vm.NICs)
	scsi := false
	for _, d := range e.vm.Disks {
		if d.Bus == "virtio" {
			n++
		}
		scsi = scsi || d.Bus == "scsi"
	}
	n += 2 // system disk and cloud-init seed, both virtio
	if scsi {
		n++ // the virtio-scsi controller
	}
	if n > maxPCIDevices {
		x.l.errorf(e.b.defRange(), "Too many devices", "vm %q needs %d PCI slots for its NICs and virtio disks, but the machine has %d free; put data disks on bus = \"scsi\" (one controller for all).", e.vm.Name, n, maxPCIDevices)
	}
}

// staticBackendIP reports a backend whose address libvirt assigns by DHCP:
// the director's configuration (keepalived or ldirectord) needs a fixed
// real server address.
func (x *expander) staticBackendIP(e *lvsEval, vm *VM, nic *NIC) netip.Addr {
	if !nic.IP.IsValid() && nic.Network.DHCP {
		x.l.errorf(e.s.rng("backends"), "Backend without fixed address", "backend %q gets its address on network %q by DHCP, but the directors need a fixed real server address; give its nic %q an ip.", vm.Name, nic.Network.Name, nic.Network.Name)
	}
	return nic.IP
}
