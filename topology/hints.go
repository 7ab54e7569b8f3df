package topology

import (
	"fmt"
	"net/netip"
	"strings"

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

const quiescentHint = "quiescent is an ldirectord setting (inhibit_on_failure in keepalived). labctl runs keepalived, which takes a failed real server out of the IPVS table and puts it back once its health check passes (ldirectord's quiescent = no); keeping it with weight 0 is not supported. With persistence labctl also sets net.ipv4.vs.expire_quiescent_template = 1, so persistent clients move on. Remove this line."

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
