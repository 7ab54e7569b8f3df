package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
)

// foreignAttrs explains attributes other LVS tools take, by block kind:
// hclsyntax alone would only say "not expected here".
var foreignAttrs = map[string]map[string]string{
	"lvs": {
		"quiescent":          quiescentHint,
		"inhibit_on_failure": quiescentHint,
	},
	"health_check": {
		"quiescent":          quiescentHint,
		"inhibit_on_failure": quiescentHint,
	},
}

const quiescentHint = "quiescent is an ldirectord setting (inhibit_on_failure in keepalived). labctl's directors, keepalived or (stack = \"pacemaker\") ldirectord with quiescent = no, take a failed real server out of the IPVS table and put it back once its health check passes; keeping it with weight 0 is not supported. With persistence labctl also sets net.ipv4.vs.expire_quiescent_template = 1, so persistent clients move on. Remove this line."

// explainForeign adds the hint to "Unsupported argument" errors of kind.
func explainForeign(kind string, diags hcl.Diagnostics) {
	for _, d := range diags {
		if d.Summary != "Unsupported argument" {
			continue
		}
		for name, hint := range foreignAttrs[kind] {
			if strings.Contains(d.Detail, fmt.Sprintf("named %q ", name)) {
				d.Detail = fmt.Sprintf("An argument named %q is not expected here: %s", name, hint)
			}
		}
	}
}

// nfsRootOptions are export options that make the export the NFSv4
// pseudo-root, which moves every path the clients mount.
func nfsRootOption(o string) bool { return o == "fsid=0" || o == "fsid=root" }

const fsidHint = "%q makes this export the NFSv4 pseudo-root: clients then see %s as \"/\", and the mount labctl writes on the clients (%s:%s) no longer exists under that name. Remove it; labctl mounts the export by its full path, which NFSv4 serves without a pseudo-root."

// sorryServer checks that the sorry server can answer: an address inside
// a lab network must be one of the lab's VMs (outside them labctl cannot
// tell, so it is left to the user).
func (x *expander) sorryServer(e *lvsEval) {
	ap, err := netip.ParseAddrPort(e.x.SorryServer)
	if err != nil || x.addressesUnsure() {
		return // reported at evaluation, or VM addresses may be missing
	}
	net := x.netContaining(ap.Addr())
	if net == nil {
		return
	}
	if owner := x.taken[net.Name][ap.Addr()]; !strings.HasPrefix(owner, "vm ") {
		what := "no VM has that address"
		if owner != "" {
			what = "it is the address of " + owner + ", not of a VM"
		}
		x.l.errorf(e.s.rng("sorry_server"), "Nothing answers at sorry_server", "sorry_server %s is inside network %q (%s), but %s, so nothing would answer once every backend is down. Point it at a lab VM that serves port %d (e.g. one with role web), or at an address outside the lab networks.", ap.Addr(), net.Name, net.CIDR, what, ap.Port())
	}
}

// addressesUnsure tells whether some VM address may be missing because a
// nic failed (already reported).
func (x *expander) addressesUnsure() bool {
	for _, e := range x.order {
		if e.nicsLost {
			return true
		}
		for _, n := range e.nics {
			if n.s.failed("ip") {
				return true
			}
		}
	}
	return false
}

// imageBuildHint is the command that makes image, in the kernel flavour
// the lab's buses and NIC models need.
func imageBuildHint(image string, generic bool) string {
	why := ""
	if generic {
		why = " (its SATA disks, e1000 or rtl8139 NICs need the generic kernel)"
	}
	switch {
	case image == "bookworm-generic":
		return " Build it with `sudo labctl image build --kernel generic`."
	case image == "bookworm-cloud" && !generic:
		return " Build it with `sudo labctl image build`."
	case image == "bookworm-cloud":
		return " Its VMs use SATA disks, e1000 or rtl8139 NICs, which need the generic kernel: build it with `sudo labctl image build --kernel generic` and set image = \"bookworm-generic\"."
	case generic:
		return fmt.Sprintf(" Build it with `sudo labctl image build --name %s --kernel generic`%s, or import one with `labctl image import FILE --name %s`.", image, why, image)
	}
	return fmt.Sprintf(" Build it with `sudo labctl image build --name %s`, or import one with `labctl image import FILE --name %s`.", image, image)
}

// needsGeneric names the images whose VMs use a bus or NIC model only the
// generic kernel drives.
func (x *expander) needsGeneric() map[string]bool {
	out := map[string]bool{}
	generic := func(s string) bool { return s == "sata" || s == "e1000" || s == "rtl8139" }
	for _, e := range x.order {
		for _, d := range e.disks {
			out[e.vm.Image] = out[e.vm.Image] || generic(d.d.Bus)
		}
		if e.raid != nil {
			out[e.vm.Image] = out[e.vm.Image] || generic(e.raid.r.Bus)
		}
		for _, n := range e.nics {
			out[e.vm.Image] = out[e.vm.Image] || generic(n.model)
		}
	}
	return out
}

// nicMTU is the guest MTU of a NIC: its own mtu, which must fit the
// network's (a bridge drops bigger frames), else the network's.
func (x *expander) nicMTU(n *nicEval) int {
	net := x.nets[n.net]
	if n.mtu == 0 {
		return net.MTU
	}
	limit, what := net.MTU, fmt.Sprintf("the mtu of network %q", net.Name)
	if limit == 0 && net.Mode != NetBridge {
		limit, what = 1500, fmt.Sprintf("network %q's default MTU (it sets no mtu)", net.Name)
	}
	if limit != 0 && n.mtu > limit {
		x.l.errorf(n.s.rng("mtu"), "NIC MTU above the network's", "mtu %d is larger than %s, %d: its bridge would drop the bigger frames. Lower mtu here, or raise mtu on network %q.", n.mtu, what, limit, net.Name)
	}
	return n.mtu
}

// busNames says which driver a bus or NIC model needs, for image checks.
var busNames = map[string]string{
	"sata":    "SATA (AHCI)",
	"ide":     "IDE (ata_piix)",
	"scsi":    "SCSI (virtio-scsi)",
	"virtio":  "virtio",
	"e1000":   "e1000",
	"rtl8139": "RTL8139 (8139cp)",
}

func (x *expander) checkImage(e *vmEval, warned map[string]bool) {
	bs, ms, ok := x.l.opts.ImageCaps(e.vm.Image)
	if !ok {
		if !warned[e.vm.Image] {
			warned[e.vm.Image] = true
			x.l.warnf(e.s.rng("image"), "Image not found", "image %q is not built or imported yet, so its disk buses and NIC models were not checked.%s", e.vm.Image, imageBuildHint(e.vm.Image, x.generic[e.vm.Image]))
		}
		return
	}
	for _, d := range e.disks {
		if !slices.Contains(bs, d.d.Bus) {
			x.l.errorf(d.s.rng("bus"), "Bus not supported by image", "image %q has no %s driver in its kernel (it drives %s); use bus = \"virtio\" or build an image with --kernel generic.", e.vm.Image, busNames[d.d.Bus], strings.Join(bs, ", "))
		}
	}
	if r := e.raid; r != nil && !slices.Contains(bs, r.r.Bus) {
		x.l.errorf(r.s.rng("bus"), "Bus not supported by image", "image %q has no %s driver in its kernel (it drives %s); use bus = \"virtio\" or build an image with --kernel generic.", e.vm.Image, busNames[r.r.Bus], strings.Join(bs, ", "))
	}
	for _, n := range e.nics {
		if !slices.Contains(ms, n.model) {
			x.l.errorf(n.s.rng("model"), "NIC model not supported by image", "image %q has no %s driver in its kernel (it drives %s); use model = \"virtio\" or build an image with --kernel generic.", e.vm.Image, busNames[n.model], strings.Join(ms, ", "))
		}
	}
}

// didYouMean returns ` Did you mean "x"?` for the closest candidate.
func didYouMean[T ~string](given string, candidates []T) string {
	best, bestD := "", 4
	for _, c := range candidates {
		if d := levenshtein.Distance(given, string(c), nil); d < bestD {
			best, bestD = string(c), d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func quoteList[T ~string](list []T) string {
	q := make([]string, len(list))
	for i, x := range list {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}
