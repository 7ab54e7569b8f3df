package placement

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// host is a fake libvirt host of gib GiB and cpus CPUs.
func host(t *testing.T, uri string, gib uint64, cpus int) Host {
	t.Helper()
	hv := fake.New()
	hv.Node = libvirt.NodeInfo{CPUs: cpus, MemoryKiB: gib << 20}
	return Host{URI: uri, Hypervisor: hv}
}

// domain defines (and with running, starts) a domain of memMiB and vcpus
// on h; meta nil makes it foreign.
func domain(t *testing.T, h Host, name string, meta *libvirt.Meta, memMiB uint, vcpus uint, running bool) {
	t.Helper()
	ctx := context.Background()
	def := &libvirtxml.Domain{Type: "qemu", Name: name,
		Memory: &libvirtxml.DomainMemory{Value: memMiB, Unit: "MiB"}, VCPU: &libvirtxml.DomainVCPU{Value: vcpus}, Devices: &libvirtxml.DomainDeviceList{}}
	if meta != nil {
		x, err := libvirt.MarshalMeta(meta)
		if err != nil {
			t.Fatal(err)
		}
		def.Metadata = &libvirtxml.DomainMetadata{XML: x}
	}
	if err := h.Hypervisor.DefineDomain(ctx, def); err != nil {
		t.Fatal(err)
	}
	if running {
		if err := h.Hypervisor.StartDomain(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
}

func copyMeta(class, cp, object, owner string) *libvirt.Meta {
	return &libvirt.Meta{Lab: class + "-" + cp, Object: object, Kind: "domain", Class: class, Copy: cp, Owner: owner}
}

// needs are n copies "1"…"n" of two VMs with 1 GiB and 1 vCPU each:
// 2048 + 2×192 = 2432 MiB of host memory per copy.
func needs(n int) []Need {
	out := make([]Need, n)
	for i := range out {
		out[i] = Need{Copy: fmt.Sprint(i + 1), VMs: 2, MemoryMiB: 2048, VCPUs: 2}
	}
	return out
}

func TestPlaceBalancesByFreeMemory(t *testing.T) {
	a, b := host(t, "qemu+ssh://t@lab1/system", 8, 4), host(t, "qemu+ssh://t@lab2/system", 8, 4)
	p, err := Place(context.Background(), []Host{a, b}, "lvs", needs(4))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"1": a.URI, "2": b.URI, "3": a.URI, "4": b.URI}
	if !reflect.DeepEqual(p.Hosts, want) {
		t.Errorf("hosts = %v, want %v", p.Hosts, want)
	}
	// 8 GiB: reserve 1 GiB (more than 10 %), 7168 MiB free.
	if f := p.Free[0]; f.FreeMiB != 7168 || f.ReserveMiB != 1024 || f.MaxVCPUs != 64 {
		t.Errorf("free = %+v", f)
	}
}

// Memory of running domains counts whoever owns them; stopped ones do not.
func TestPlaceCountsRunningDomainsOfAnyOwner(t *testing.T) {
	a, b := host(t, "qemu:///a", 8, 4), host(t, "qemu:///b", 8, 4)
	domain(t, a, "someone-elses-vm", nil, 2048, 2, true)
	domain(t, b, "stopped-vm", nil, 4096, 2, false)
	p, err := Place(context.Background(), []Host{a, b}, "lvs", needs(2))
	if err != nil {
		t.Fatal(err)
	}
	// a has 4928 MiB free, b 7168: copy 1 goes to b (4736 left), then 2 to a.
	if p.Hosts["1"] != b.URI || p.Hosts["2"] != a.URI {
		t.Errorf("hosts = %v, want 1 on b, 2 on a", p.Hosts)
	}
	if f := p.Free[0]; f.RunningMiB != 2048+GuestOverheadMiB || f.FreeMiB != 7168-2240 || f.VCPUs != 2 {
		t.Errorf("a: %+v", f)
	}
}

func TestPlaceDoesNotFit(t *testing.T) {
	a, b := host(t, "qemu:///a", 4, 2), host(t, "qemu:///b", 4, 2)
	_, err := Place(context.Background(), []Host{a, b}, "lvs", needs(3))
	if !errors.Is(err, ErrDoesNotFit) {
		t.Fatalf("err = %v, want ErrDoesNotFit", err)
	}
	// 3072 MiB free each, one 2432 MiB copy each, 640 left each: the
	// third copy is 2432 − 1280 = 1152 MiB short.
	for _, s := range []string{`class "lvs"`, "1 of 3 copies have no host: 3 (2432 MiB, 2 vCPUs)", "1152 MiB of memory missing",
		"qemu:///a: 3072 MiB free of 4096 MiB (running 0, reserve 1024), 0/32 vCPUs in use; 640 MiB left", "qemu:///b: 3072 MiB free"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}

// Memory enough in all, but vCPUs run out: the error says so instead of
// claiming memory is missing.
func TestPlaceDoesNotFitByVCPUs(t *testing.T) {
	a := host(t, "qemu:///a", 64, 1)
	_, err := Place(context.Background(), []Host{a}, "lvs", needs(9)) // 16 vCPUs max, 2 each
	if !errors.Is(err, ErrDoesNotFit) || strings.Contains(err.Error(), "memory missing") || !strings.Contains(err.Error(), "vCPUs run out") {
		t.Fatalf("err = %v", err)
	}
}

func TestPlaceSkipsHostsDown(t *testing.T) {
	up := host(t, "qemu:///up", 8, 4)
	nodeDown := host(t, "qemu:///flaky", 64, 16)
	nodeDown.Hypervisor.(*fake.Hypervisor).Fail["NodeInfo"] = errors.New("connection reset")
	dialed := Dial(context.Background(), []string{"qemu+ssh://t@gone/system", up.URI, nodeDown.URI}, func(_ context.Context, uri string) (libvirt.Hypervisor, error) {
		switch uri {
		case up.URI:
			return up.Hypervisor, nil
		case nodeDown.URI:
			return nodeDown.Hypervisor, nil
		}
		return nil, fmt.Errorf("dial %s: no route to host", uri)
	})
	defer dialed.Close()
	p, err := Place(context.Background(), dialed, "lvs", needs(2))
	if err != nil {
		t.Fatal(err)
	}
	if p.Hosts["1"] != up.URI || p.Hosts["2"] != up.URI || len(p.Free) != 1 {
		t.Errorf("plan = %+v", p)
	}
	w := strings.Join(p.Warnings, "\n")
	if !strings.Contains(w, "host qemu+ssh://t@gone/system skipped: dial qemu+ssh://t@gone/system: no route to host") ||
		!strings.Contains(w, "host qemu:///flaky skipped: connection reset") {
		t.Errorf("warnings = %q", p.Warnings)
	}
	if _, err := Place(context.Background(), dialed[:1], "lvs", needs(1)); err == nil || !strings.Contains(err.Error(), "no host reachable") {
		t.Errorf("no host: err = %v", err)
	}
}

// A copy that exists stays on its host even where another host has more
// room, and its VMs that do not run keep their room there.
func TestPlaceKeepsExistingCopies(t *testing.T) {
	a, b := host(t, "qemu:///a", 8, 4), host(t, "qemu:///b", 16, 4)
	domain(t, b, "lvs-alice-web-1", copyMeta("lvs", "alice", "web-1", "teacher"), 4096, 1, true)
	domain(t, b, "lvs-alice-web-2", copyMeta("lvs", "alice", "web-2", "teacher"), 4096, 1, false)
	p, err := Place(context.Background(), []Host{a, b}, "lvs", []Need{{Copy: "alice", VMs: 2, MemoryMiB: 8192, VCPUs: 2}, {Copy: "bob", VMs: 2, MemoryMiB: 2048, VCPUs: 2}})
	if err != nil {
		t.Fatal(err)
	}
	// b: 16384 − 1638 reserve − 4288 for alice's running web-1 = 10458
	// free; minus the 4288 her stopped web-2 takes when it starts, 6170 <
	// a's 7168.
	if p.Hosts["alice"] != b.URI || p.Hosts["bob"] != a.URI || !reflect.DeepEqual(p.Existing, []string{"alice"}) || p.Free[1].FreeMiB != 10458 {
		t.Errorf("plan = %+v", p)
	}
	if _, err := Place(context.Background(), []Host{a, b}, "lvs", append(needs(1), needs(1)...)); err == nil || !strings.Contains(err.Error(), `copy "1" is listed twice`) {
		t.Errorf("twice: err = %v", err)
	}
}

func TestFind(t *testing.T) {
	a, b := host(t, "qemu:///a", 8, 4), host(t, "qemu:///b", 8, 4)
	domain(t, a, "lvs-alice-web-1", copyMeta("lvs", "alice", "web-1", "alice"), 512, 1, true)
	domain(t, a, "lvs-alice-lb", copyMeta("lvs", "alice", "lb", "alice"), 512, 1, false)
	domain(t, b, "lvs-bob-web-1", copyMeta("lvs", "bob", "web-1", "bob"), 512, 1, true)
	domain(t, b, "lvs-web-1", &libvirt.Meta{Lab: "lvs", Object: "web-1", Kind: "domain"}, 512, 1, true) // the lab, not a copy
	domain(t, b, "other-bob-web-1", copyMeta("other", "bob", "web-1", "bob"), 512, 1, true)
	x, _ := libvirt.MarshalMeta(&libvirt.Meta{Lab: "lvs-bob", Object: "internal", Kind: "network", Class: "lvs", Copy: "bob"})
	b.Hypervisor.(*fake.Hypervisor).AddNetwork(&libvirtxml.Network{Name: "lvs-bob-internal", Metadata: &libvirtxml.NetworkMetadata{XML: x}}, true)
	c, err := Find(context.Background(), []Host{a, b, {URI: "qemu:///down", Err: errors.New("refused")}}, "lvs")
	if err != nil {
		t.Fatal(err)
	}
	want := []Copy{
		{Name: "alice", Lab: "lvs-alice", URI: a.URI, Owner: "alice", VMs: []string{"lvs-alice-lb", "lvs-alice-web-1"}, Running: 1},
		{Name: "bob", Lab: "lvs-bob", URI: b.URI, Owner: "bob", VMs: []string{"lvs-bob-web-1"}, Running: 1, Networks: []string{"lvs-bob-internal"}},
	}
	if !reflect.DeepEqual(c.Copies, want) {
		t.Errorf("copies =\n%+v\nwant\n%+v", c.Copies, want)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "qemu:///down skipped: refused") {
		t.Errorf("warnings = %q", c.Warnings)
	}
}

func TestFindRefusesACopyOnTwoHosts(t *testing.T) {
	a, b := host(t, "qemu:///a", 8, 4), host(t, "qemu:///b", 8, 4)
	domain(t, a, "lvs-alice-web-1", copyMeta("lvs", "alice", "web-1", "alice"), 512, 1, true)
	domain(t, b, "lvs-alice-web-2", copyMeta("lvs", "alice", "web-2", "alice"), 512, 1, true)
	for _, f := range []func() error{
		func() error { _, err := Find(context.Background(), []Host{a, b}, "lvs"); return err },
		func() error { _, err := Place(context.Background(), []Host{a, b}, "lvs", needs(1)); return err },
	} {
		if err := f(); err == nil || !strings.Contains(err.Error(), `copy "alice" is on two hosts, qemu:///a and qemu:///b`) {
			t.Errorf("err = %v", err)
		}
	}
}

func TestNeedOf(t *testing.T) {
	lab := &topology.Lab{Copy: "alice", VMs: []*topology.VM{{MemoryMiB: 1024, VCPUs: 2}, {MemoryMiB: 512, VCPUs: 1}}}
	if n := NeedOf(lab); n != (Need{Copy: "alice", VMs: 2, MemoryMiB: 1536, VCPUs: 3}) {
		t.Errorf("NeedOf = %+v", n)
	}
}

func TestDomainMiB(t *testing.T) {
	for unit, v := range map[string]uint{"": 1 << 20, "KiB": 1 << 20, "MiB": 1024, "GiB": 1, "bytes": 1 << 30} {
		if got := domainMiB(&libvirtxml.Domain{Memory: &libvirtxml.DomainMemory{Value: v, Unit: unit}}); got != 1024 {
			t.Errorf("%d %q = %d MiB, want 1024", v, unit, got)
		}
	}
}

func TestParseHosts(t *testing.T) {
	got, err := ParseHosts("qemu+ssh://t@lab1/system, qemu+ssh://t@lab2/system,qemu+ssh://t@lab1/system")
	if err != nil || !reflect.DeepEqual(got, []string{"qemu+ssh://t@lab1/system", "qemu+ssh://t@lab2/system"}) {
		t.Errorf("ParseHosts = %q, %v", got, err)
	}
	if _, err := ParseHosts("qemu:///a,,qemu:///b"); err == nil {
		t.Error("empty URI accepted")
	}
}
