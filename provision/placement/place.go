package placement

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// ReserveMiB and ReserveShare keep memory back for the host itself (its
// kernel, page cache, libvirtd, sshd): the larger of 1 GiB and 10 % of the
// node's memory is never handed to copies.
const (
	ReserveMiB   = 1024
	ReserveShare = 10 // percent
)

// GuestOverheadMiB is what QEMU takes per guest beyond the guest's RAM:
// labctl's TCG guests carry a 128 MiB translation cache (engine's domain
// XML) plus QEMU's own heap. It is counted for every running domain and
// every VM placed, so a full host does not swap.
const GuestOverheadMiB = 192

// VCPUOvercommit is how many vCPUs a host takes per CPU. A configured lab
// mostly idles (measured here: 9 idle TCG guests of labs/classroom on 2
// CPUs), so vCPUs may far outnumber CPUs and memory is what fills a host.
// Under TCG, though, every busy vCPU is a host thread emulating
// instructions: past one busy vCPU per CPU the guests share the cores and
// can miss their own timeouts (which is why up boots one guest per CPU at a
// time). A class that runs load (bench) on TCG wants fewer copies per host
// than this allows.
const VCPUOvercommit = 16

// Need is what one copy takes on a host: the sums over its VMs.
type Need struct {
	Copy      string
	VMs       int
	MemoryMiB uint64
	VCPUs     int
}

// NeedOf sums the VMs of one copy's lab.
func NeedOf(lab *topology.Lab) Need {
	n := Need{Copy: lab.Copy, VMs: len(lab.VMs)}
	for _, vm := range lab.VMs {
		n.MemoryMiB += vm.MemoryMiB
		n.VCPUs += vm.VCPUs
	}
	return n
}

// hostMiB is the host memory the copy takes, with QEMU's overhead.
func (n Need) hostMiB() int64 { return int64(n.MemoryMiB) + int64(n.VMs)*GuestOverheadMiB }

// Free is one reachable host's room before placement.
type Free struct {
	URI        string
	NodeMiB    int64 // the node's memory
	RunningMiB int64 // taken by running domains (any owner), with overhead
	ReserveMiB int64 // kept for the host
	FreeMiB    int64 // NodeMiB - RunningMiB - ReserveMiB (may be < 0)
	CPUs       int
	VCPUs      int // vCPUs of running domains
	MaxVCPUs   int // CPUs × VCPUOvercommit
}

// Plan says where every copy goes.
type Plan struct {
	Class string
	// Hosts maps every copy asked for to the URI of its host.
	Hosts map[string]string
	// Existing are the copies found on a host already: they stay there.
	Existing []string
	Free     []Free // reachable hosts, in the order given
	// Warnings name the hosts that were skipped.
	Warnings []string
}

// Place puts each copy of class whole on one host: a copy that already
// exists (by its metadata) stays where it is; each other one goes, largest
// first, to the host with the most free memory that also has the vCPUs.
// Unreachable hosts are skipped with a warning. When the class does not
// fit, the error says how much memory is missing and what each host has.
func Place(ctx context.Context, hosts []Host, class string, copies []Need) (*Plan, error) {
	states := survey(ctx, hosts)
	found, err := find(states, class)
	if err != nil {
		return nil, err
	}
	p := &Plan{Class: class, Hosts: map[string]string{}, Warnings: found.Warnings}
	rooms := map[string]*Free{}
	for _, s := range states {
		if s.Err == nil {
			p.Free = append(p.Free, room(s))
		}
	}
	if len(p.Free) == 0 {
		return nil, fmt.Errorf("class %q: no host reachable:\n  %s", class, strings.Join(p.Warnings, "\n  "))
	}
	left := make([]Free, len(p.Free)) // room after placement
	copy(left, p.Free)
	for i := range left {
		rooms[left[i].URI] = &left[i]
	}
	var todo []Need
	seen := map[string]bool{}
	for _, n := range copies {
		if seen[n.Copy] {
			return nil, fmt.Errorf("class %q: copy %q is listed twice", class, n.Copy)
		}
		seen[n.Copy] = true
		cp, ok := found.Copy(n.Copy)
		if !ok {
			todo = append(todo, n)
			continue
		}
		p.Hosts[n.Copy], p.Existing = cp.URI, append(p.Existing, n.Copy)
		// Its VMs that do not run yet (stopped, or never defined after an
		// interrupted up) will start on that host: keep their room.
		mib, vcpus := running(states, cp)
		r := rooms[cp.URI]
		r.FreeMiB -= max(0, n.hostMiB()-mib)
		r.VCPUs += max(0, n.VCPUs-vcpus)
	}
	sort.SliceStable(todo, func(i, j int) bool { return todo[i].hostMiB() > todo[j].hostMiB() })
	var missing []Need
	for _, n := range todo {
		var best *Free
		for i := range left {
			r := &left[i]
			if r.FreeMiB >= n.hostMiB() && r.VCPUs+n.VCPUs <= r.MaxVCPUs && (best == nil || r.FreeMiB > best.FreeMiB) {
				best = r
			}
		}
		if best == nil {
			missing = append(missing, n)
			continue
		}
		best.FreeMiB -= n.hostMiB()
		best.VCPUs += n.VCPUs
		p.Hosts[n.Copy] = best.URI
	}
	if len(missing) > 0 {
		return nil, doesNotFit(p, left, missing, len(copies))
	}
	return p, nil
}

// room sizes one host from its node info and running domains.
func room(s state) Free {
	f := Free{URI: s.URI, NodeMiB: int64(s.node.MemoryKiB / 1024), CPUs: s.node.CPUs}
	f.ReserveMiB = max(ReserveMiB, f.NodeMiB*ReserveShare/100)
	f.MaxVCPUs = s.node.CPUs * VCPUOvercommit
	for _, d := range s.domains {
		if live(d.State) {
			f.RunningMiB += domainMiB(d.Def) + GuestOverheadMiB
			f.VCPUs += domainVCPUs(d.Def)
		}
	}
	f.FreeMiB = f.NodeMiB - f.RunningMiB - f.ReserveMiB
	return f
}

// live says whether the domain has a QEMU process holding its memory.
func live(st libvirt.DomainState) bool {
	return st != libvirt.StateShutoff && st != libvirt.StateCrashed
}

// running sums the host memory (with overhead) and vCPUs of the copy's
// running domains, which room already counts.
func running(states []state, cp Copy) (mib int64, vcpus int) {
	for _, s := range states {
		if s.URI != cp.URI {
			continue
		}
		for _, d := range s.domains {
			if d.Meta != nil && d.Meta.Lab == cp.Lab && live(d.State) {
				mib += domainMiB(d.Def) + GuestOverheadMiB
				vcpus += domainVCPUs(d.Def)
			}
		}
	}
	return mib, vcpus
}

// domainMiB is the domain's maximum memory in MiB (libvirt's default
// unit is KiB).
func domainMiB(def *libvirtxml.Domain) int64 {
	if def == nil || def.Memory == nil {
		return 0
	}
	v := int64(def.Memory.Value)
	switch def.Memory.Unit {
	case "b", "bytes":
		return v >> 20
	case "", "k", "KiB":
		return v >> 10
	case "KB":
		return v * 1000 >> 20
	case "M", "MiB":
		return v
	case "MB":
		return v * 1000 * 1000 >> 20
	case "G", "GiB":
		return v << 10
	case "GB":
		return v * 1000 * 1000 * 1000 >> 20
	case "T", "TiB":
		return v << 20
	}
	return v >> 10
}

func domainVCPUs(def *libvirtxml.Domain) int {
	if def == nil || def.VCPU == nil {
		return 1
	}
	if def.VCPU.Current > 0 {
		return int(def.VCPU.Current)
	}
	return int(max(def.VCPU.Value, 1))
}

// ErrDoesNotFit is wrapped by Place's error when the class does not fit.
var ErrDoesNotFit = errors.New("class does not fit")

func doesNotFit(p *Plan, left []Free, missing []Need, total int) error {
	var need, spare int64
	names := make([]string, len(missing))
	for i, n := range missing {
		need += n.hostMiB()
		names[i] = fmt.Sprintf("%s (%d MiB, %d vCPUs)", n.Copy, n.hostMiB(), n.VCPUs)
	}
	for _, r := range left {
		spare += max(r.FreeMiB, 0)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d copies have no host: %s", len(missing), total, strings.Join(names, ", "))
	if need > spare {
		fmt.Fprintf(&b, "; %d MiB of memory missing", need-spare)
	} else {
		b.WriteString("; the free memory is spread over hosts (or vCPUs run out) so no one host holds a whole copy")
	}
	b.WriteString("\nfree memory per host (node − running domains − reserve), and vCPUs:")
	for i, f := range p.Free {
		fmt.Fprintf(&b, "\n  %s: %d MiB free of %d MiB (running %d, reserve %d), %d/%d vCPUs in use; %d MiB left after the copies that fit",
			f.URI, max(f.FreeMiB, 0), f.NodeMiB, f.RunningMiB, f.ReserveMiB, f.VCPUs, f.MaxVCPUs, max(left[i].FreeMiB, 0))
	}
	for _, w := range p.Warnings {
		b.WriteString("\n  " + w)
	}
	return fmt.Errorf("class %q: %w: %s", p.Class, ErrDoesNotFit, b.String())
}
