// Package testbedtest simulates a running LVS lab for tests of bench/testbed and
// labctl bench: directors, real servers, storage and client are
// rolestest.Fakes that share one cluster state (VIP holder, Apache per
// real server, scheduler, RAID), and the client runs the load agent in
// this process against a loopback HTTP server standing in for the VIP.
package testbedtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"libvirt.org/go/libvirtxml"
)

// Sim is a simulated running lab.
type Sim struct {
	Lab     *topology.Lab
	Service *topology.LVSService
	Fakes   map[string]*rolestest.Fake
	Server  *httptest.Server // answers for the VIP
	// HV holds one running domain per VM, owned by the lab: Power acts
	// on it through testbed.LibvirtPower, as labctl bench does on libvirt.
	HV *fake.Hypervisor
	// ClockSkew is added to the client's `date` (guest clock ahead).
	ClockSkew time.Duration
	// DownHang is how long an SSH call to a powered-off VM hangs before it
	// fails (on libvirt: until the SSH timeout; 0 = fails at once).
	DownHang time.Duration
	// FailoverLag is how long a backup director waits before it takes the
	// VIP from a director that went away (VRRP's master-down interval).
	FailoverLag time.Duration
	// KeepVIPOnKill: a director whose keepalived is SIGKILLed keeps the
	// VIP address (as on a real host: split brain once the BACKUP takes it).
	KeepVIPOnKill bool
	// HealthLag is how long after Apache starts the directors take the
	// real server back (keepalived's next health check).
	HealthLag time.Duration

	mu         sync.Mutex
	down       map[string]bool // powered-off VMs
	apache     map[string]bool
	apacheAt   map[string]time.Time // when Apache last started
	goneAt     map[string]time.Time // when a director last lost power or keepalived
	kept       map[string]bool      // killed directors that kept the VIP
	keepalived map[string]bool
	nfs        bool
	sched      topology.Scheduler
	next       int
	raidFailed string // removed member device
	rebuild    int    // polls of /proc/mdstat left until clean; -1 = not rebuilding
	reconnects []string
}

// New simulates l (e.g. rolestest.ThesisLab) with everything running.
func New(l *topology.Lab) *Sim {
	s := &Sim{Lab: l, Service: l.LVS[0], Fakes: map[string]*rolestest.Fake{}, down: map[string]bool{},
		apache: map[string]bool{}, apacheAt: map[string]time.Time{}, goneAt: map[string]time.Time{}, kept: map[string]bool{}, keepalived: map[string]bool{}, nfs: true, rebuild: -1}
	s.sched = s.Service.Scheduler
	for _, b := range s.Service.Backends {
		s.apache[b.VM.Name] = true
	}
	for _, d := range s.Service.Directors {
		s.keepalived[d.Name] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	s.HV = fake.New()
	for _, vm := range l.VMs {
		s.Fakes[vm.Name] = s.fake(vm)
		s.define(l.Name, vm)
	}
	return s
}

// define adds vm's domain to HV, running, with labctl's metadata and one
// interface per NIC (by MAC).
func (s *Sim) define(lab string, vm *topology.VM) {
	meta, err := libvirt.MarshalMeta(&libvirt.Meta{Lab: lab, Object: vm.Name, Kind: "domain"})
	if err != nil {
		panic(err) // fixed input: cannot fail
	}
	def := &libvirtxml.Domain{Type: "qemu", Name: vm.LibvirtName, Metadata: &libvirtxml.DomainMetadata{XML: meta},
		Devices: &libvirtxml.DomainDeviceList{}}
	for _, n := range vm.NICs {
		s.HV.AddNetwork(&libvirtxml.Network{Name: n.Network.LibvirtName}, true)
		def.Devices.Interfaces = append(def.Devices.Interfaces, libvirtxml.DomainInterface{
			MAC:    &libvirtxml.DomainInterfaceMAC{Address: n.MAC},
			Source: &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: n.Network.LibvirtName}},
		})
	}
	ctx := context.Background()
	if err := s.HV.DefineDomain(ctx, def); err != nil {
		panic(err)
	}
	if err := s.HV.StartDomain(ctx, vm.LibvirtName); err != nil {
		panic(err)
	}
}

// Link returns the libvirt link state of vm's NIC dev ("" = never set).
func (s *Sim) Link(vm, dev string) string {
	doms, _ := s.HV.ListDomains(context.Background())
	for _, d := range doms {
		if d.Meta == nil || d.Meta.Object != vm {
			continue
		}
		for _, n := range s.vm(vm).NICs {
			if n.Device != dev {
				continue
			}
			if i, err := libvirt.InterfaceByMAC(d.Def, n.MAC); err == nil && i.Link != nil {
				return i.Link.State
			}
		}
	}
	return ""
}

func (s *Sim) vm(name string) *topology.VM {
	if vm := s.Lab.VM(name); vm != nil {
		return vm
	}
	return &topology.VM{}
}

// Close stops the loopback server.
func (s *Sim) Close() { s.Server.Close() }

// holderLocked: the first director that is up with keepalived running,
// once every director before it has been gone for FailoverLag.
func (s *Sim) holderLocked() string {
	for i, d := range s.Service.Directors {
		if !s.down[d.Name] && s.keepalived[d.Name] {
			for _, prev := range s.Service.Directors[:i] {
				if time.Since(s.goneAt[prev.Name]) < s.FailoverLag {
					return ""
				}
			}
			return d.Name
		}
	}
	return ""
}

// poolLocked: real servers that are up with Apache running.
func (s *Sim) poolLocked() []string {
	var out []string
	for _, b := range s.Service.Backends {
		if !s.down[b.VM.Name] && s.apache[b.VM.Name] && time.Since(s.apacheAt[b.VM.Name]) >= s.HealthLag {
			out = append(out, b.VM.Name)
		}
	}
	return out
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	pool := s.poolLocked()
	ok := s.holderLocked() != "" && len(pool) > 0
	var name string
	if ok {
		name = pool[s.next%len(pool)]
		s.next++
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no real server", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("X-Backend", name)
	fmt.Fprintf(w, "<p>backend: %s</p>\n", name)
}

// Down reports whether vm is powered off.
func (s *Sim) Down(vm string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down[vm]
}

// Apache reports whether Apache runs on vm.
func (s *Sim) Apache(vm string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apache[vm]
}

// Scheduler is the directors' IPVS scheduler.
func (s *Sim) Scheduler() topology.Scheduler {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sched
}

// Reconnects lists the VMs Hosts.Reconnect was called for.
func (s *Sim) Reconnects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reconnects)
}

// PowerOff and PowerOn switch a VM (the Power implementation calls them).
func (s *Sim) PowerOff(vm string) {
	s.mu.Lock()
	s.down[vm], s.goneAt[vm] = true, time.Now()
	s.mu.Unlock()
}
func (s *Sim) PowerOn(vm string) { s.mu.Lock(); s.down[vm] = false; s.mu.Unlock() }

func result(out string) ssh.Result { return ssh.Result{Stdout: []byte(out)} }

func (s *Sim) fake(vm *topology.VM) *rolestest.Fake {
	f := rolestest.New(vm.Name)
	unit := func(name string, state map[string]bool, on bool) rolestest.Handler {
		return func(*rolestest.Fake, []string) ssh.Result {
			s.mu.Lock()
			state[vm.Name] = on
			s.mu.Unlock()
			return result("")
		}
	}
	f.Handle(`systemctl stop apache2`, unit("apache2", s.apache, false))
	start := unit("apache2", s.apache, true)
	f.Handle(`(?:systemctl reset-failed apache2 2>/dev/null; )?systemctl start apache2`, func(f *rolestest.Fake, m []string) ssh.Result {
		s.mu.Lock()
		s.apacheAt[vm.Name] = time.Now()
		s.mu.Unlock()
		return start(f, m)
	})
	kill := unit("keepalived", s.keepalived, false)
	f.Handle(`systemctl kill -s SIGKILL keepalived`, func(f *rolestest.Fake, m []string) ssh.Result {
		s.mu.Lock()
		s.goneAt[vm.Name] = time.Now()
		s.kept[vm.Name] = s.KeepVIPOnKill && s.holderLocked() == vm.Name
		s.mu.Unlock()
		return kill(f, m)
	})
	startKA := unit("keepalived", s.keepalived, true)
	f.Handle(`systemctl reset-failed keepalived 2>/dev/null; systemctl start keepalived`, func(f *rolestest.Fake, m []string) ssh.Result {
		s.mu.Lock()
		s.kept[vm.Name] = false // a starting keepalived takes over its address
		s.mu.Unlock()
		return startKA(f, m)
	})
	f.Handle(`systemctl stop nfs-server`, func(*rolestest.Fake, []string) ssh.Result {
		s.mu.Lock()
		s.nfs = false
		s.mu.Unlock()
		return result("")
	})
	f.Handle(`systemctl reset-failed nfs-server 2>/dev/null; systemctl start nfs-server`, func(*rolestest.Fake, []string) ssh.Result {
		s.mu.Lock()
		s.nfs = true
		s.mu.Unlock()
		return result("")
	})
	f.Handle(`systemctl is-active --quiet (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		s.mu.Lock()
		defer s.mu.Unlock()
		on := map[string]bool{"apache2": s.apache[vm.Name], "keepalived": s.keepalived[vm.Name], "nfs-server": s.nfs}[m[1]]
		if on {
			return result("")
		}
		return ssh.Result{ExitCode: 3}
	})
	f.Handle(`ip -o addr show; echo @@; ipvsadm -Ln`, func(*rolestest.Fake, []string) ssh.Result { return result(s.directorView(vm)) })
	f.Handle(`ipvsadm -E -t (\S+) -s (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		s.mu.Lock()
		s.sched = topology.Scheduler(m[2])
		s.mu.Unlock()
		return result("")
	})
	if vm.RAID != nil {
		s.raidHandlers(f, vm)
	}
	f.Handle(`date \+%s\.%N`, func(*rolestest.Fake, []string) ssh.Result {
		t := time.Now().Add(s.ClockSkew)
		return result(fmt.Sprintf("%d.%09d\n", t.Unix(), t.Nanosecond()))
	})
	f.Handle(`sha256sum /usr/local/bin/labctl-agent 2>/dev/null \|\| true`, func(*rolestest.Fake, []string) ssh.Result { return result("") })
	f.Handle(`(?:touch|rm -f) (/tmp/labctl-probe-\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		// The stop file lives on this host: the agent runs in process.
		if strings.HasPrefix(m[0], "touch") {
			_ = os.WriteFile(m[1], nil, 0o600)
		} else {
			_ = os.Remove(m[1])
		}
		return result("")
	})
	f.Handle(`/usr/local/bin/labctl-agent load-agent (.*)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		args := strings.Fields(m[1])
		for i := range args {
			if i > 0 && args[i-1] == "-url" {
				args[i] = s.Server.URL + "/" // the VIP, on loopback
			}
		}
		var out, errb bytes.Buffer
		code := testbed.Agent(context.Background(), args, &out, &errb)
		res := ssh.Result{Stdout: out.Bytes(), Stderr: errb.Bytes(), ExitCode: code}
		if len(args) > 0 && args[0] == "probe" && code == 0 {
			res.Stdout = s.skew(res.Stdout) // probe times come from the guest clock
		}
		return res
	})
	return f
}

func (s *Sim) skew(out []byte) []byte {
	var po testbed.ProbeOutput
	if json.Unmarshal(out, &po) != nil {
		return out
	}
	for i := range po.Probes {
		po.Probes[i].At = po.Probes[i].At.Add(s.ClockSkew)
	}
	b, _ := json.Marshal(po)
	return b
}

// directorView renders `ip -o addr show; echo @@; ipvsadm -Ln` on d.
func (s *Sim) directorView(d *topology.VM) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "1: lo    inet 127.0.0.1/8 scope host lo\n")
	if s.holderLocked() == d.Name || (s.kept[d.Name] && !s.down[d.Name]) {
		fmt.Fprintf(&b, "2: eth0    inet %s/24 scope global secondary eth0\n", s.Service.VIP)
	}
	b.WriteString("@@\nIP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n")
	fmt.Fprintf(&b, "TCP  %s %s\n", netip.AddrPortFrom(s.Service.VIP, uint16(s.Service.Port)), s.sched)
	pool := s.poolLocked()
	for _, be := range s.Service.Backends {
		if slices.Contains(pool, be.VM.Name) {
			fmt.Fprintf(&b, "  -> %-28s Masq    1      0          0\n", netip.AddrPortFrom(be.IP, uint16(s.Service.Port)))
		}
	}
	return b.String()
}

func (s *Sim) raidHandlers(f *rolestest.Fake, vm *topology.VM) {
	devs := []string{"/dev/vdb", "/dev/vdc", "/dev/vdd", "/dev/vde", "/dev/vdf"}
	md := "/dev/md/" + vm.RAID.Name
	f.Handle(`mdadm --detail `+md, func(*rolestest.Fake, []string) ssh.Result {
		s.mu.Lock()
		defer s.mu.Unlock()
		var b strings.Builder
		b.WriteString(md + ":\n        Raid Level : raid6\n    Number   Major   Minor   RaidDevice State\n")
		for i, d := range devs {
			if d != s.raidFailed {
				fmt.Fprintf(&b, "       %d     254       %d        %d      active sync   %s\n", i, 16*(i+1), i, d)
			}
		}
		return result(b.String())
	})
	f.Handle(`mdadm `+md+` --fail (\S+)`, func(_ *rolestest.Fake, m []string) ssh.Result {
		s.mu.Lock()
		s.raidFailed = m[1]
		s.mu.Unlock()
		return result("")
	})
	f.Handle(`mdadm `+md+` --remove (\S+)`, func(*rolestest.Fake, []string) ssh.Result { return result("") })
	f.Handle(`mdadm --zero-superblock (\S+) && mdadm `+md+` --add (\S+)`, func(*rolestest.Fake, []string) ssh.Result {
		s.mu.Lock()
		s.rebuild = 3
		s.mu.Unlock()
		return result("")
	})
	f.Handle(`cat /proc/mdstat`, func(*rolestest.Fake, []string) ssh.Result {
		s.mu.Lock()
		defer s.mu.Unlock()
		head := "Personalities : [raid6] [raid5] [raid4]\nmd127 : active raid6 vdf[4] vde[3] vdd[2] vdc[1] vdb[0]\n"
		switch {
		case s.rebuild > 0:
			pct := 100 - 30*s.rebuild
			s.rebuild--
			return result(head + "      307200 blocks super 1.2 level 6, 512k chunk, algorithm 2 [5/4] [UUUU_]\n" +
				fmt.Sprintf("      [==>..................]  recovery = %d.0%% (1/2) finish=0.1min speed=1000K/sec\n\nunused devices: <none>\n", pct))
		case s.rebuild == 0 || s.raidFailed == "":
			s.rebuild, s.raidFailed = -1, ""
			return result(head + "      307200 blocks super 1.2 level 6, 512k chunk, algorithm 2 [5/5] [UUUUU]\n\nunused devices: <none>\n")
		}
		return result(head + "      307200 blocks super 1.2 level 6, 512k chunk, algorithm 2 [5/4] [UUUU_]\n\nunused devices: <none>\n")
	})
}
