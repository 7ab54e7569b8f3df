package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

type fakes map[string]*rolestest.Fake

// read returns a captured guest output; they live with their parsers.
func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "provision", "guestout", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f fakes) hosts(vm string) (ssh.Runner, error) {
	r, ok := f[vm]
	if !ok {
		return nil, fmt.Errorf("no route to %s", vm)
	}
	return r, nil
}

const (
	addrMaster = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
		"2: eth0    inet 192.168.100.11/24 brd 192.168.100.255 scope global eth0\\       valid_lft forever preferred_lft forever\n" +
		"2: eth0    inet 192.168.100.200/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever\n" +
		"3: eth1    inet 10.0.10.1/24 brd 10.0.10.255 scope global eth1\\       valid_lft forever preferred_lft forever\n" +
		"3: eth1    inet 10.0.10.254/24 scope global secondary eth1\\       valid_lft forever preferred_lft forever\n"
	addrBackup = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n" +
		"2: eth0    inet 192.168.100.12/24 brd 192.168.100.255 scope global eth0\\       valid_lft forever preferred_lft forever\n" +
		"3: eth1    inet 10.0.10.2/24 brd 10.0.10.255 scope global eth1\\       valid_lft forever preferred_lft forever\n"
)

func backendLines(names ...string) string {
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "200 %s\n", names[i%len(names)])
	}
	return b.String()
}

// healthyNAT returns fakes answering like a converged thesis NAT cluster
// whose RAID is still resyncing.
func healthyNAT(t *testing.T) fakes {
	t.Helper()
	f := fakes{}
	for _, n := range []string{"client", "director-1", "director-2", "storage", "web-1", "web-2", "web-3"} {
		f[n] = rolestest.New(n)
	}
	f["director-1"].Reply(`ip -o -4 addr show`, addrMaster)
	f["director-2"].Reply(`ip -o -4 addr show`, addrBackup)
	for _, d := range []string{"director-1", "director-2"} {
		f[d].Reply(`systemctl is-active keepalived`, "active\n")
		f[d].Reply(`ipvsadm -Ln`, read(t, "ipvsadm-nat.txt"))
	}
	for _, w := range []string{"web-1", "web-2", "web-3"} {
		f[w].Reply(`ip -4 route show default`, "default via 10.0.10.254 dev eth0 proto static\n")
		f[w].Reply(`findmnt -n -o SOURCE,FSTYPE --mountpoint '/var/www/nfs'; true`, "10.0.10.20:/srv/raid/www nfs4\n")
	}
	f["client"].Reply(regexp.QuoteMeta(`curl -s -o /dev/null --max-time 5 -w '%{http_code}' http://192.168.100.200:80/`), "200")
	f["client"].Reply(`for i in \$\(seq 30\); do curl .*`, backendLines("web-1", "web-2", "web-3"))
	f["storage"].Reply(`findmnt -n -o SOURCE --target '/srv/raid/www'; readlink -f '/dev/md/data'`, "/dev/md127\n/dev/md127\n")
	f["storage"].Reply(`mdadm --detail /dev/md/data`, read(t, "mdadm-detail-raid6-resync.txt"))
	f["storage"].Reply(`readlink -f /dev/md/data`, "/dev/md127\n")
	f["storage"].Reply(`cat /proc/mdstat`, read(t, "mdstat-raid6-resync.txt"))
	return f
}

func find(t *testing.T, r Result, name, vm string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if strings.HasPrefix(c.Name, name) && (vm == "" || c.VM == vm) {
			return c
		}
	}
	t.Fatalf("no check %q on %q in %+v", name, vm, r.Checks)
	return Check{}
}

func TestHealthyNATCluster(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	res, err := Run(context.Background(), lab, healthyNAT(t).hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
	}
	// 2 keepalived, VIP, gateway VIP, IPVS service, 3 real servers,
	// 3 routes, HTTP, spread, export on RAID, 3 mounts, RAID.
	if len(res.Checks) != 18 || !res.OK() {
		t.Errorf("%d checks, ok=%v", len(res.Checks), res.OK())
	}
	if c := find(t, res, "RAID /dev/md/data", "storage"); c.Observed != "ok (resyncing 41.3%) raid6, 5/5 working" {
		t.Errorf("RAID observed %q", c.Observed)
	}
	if c := find(t, res, "VIP 192.168.100.200 held", ""); c.Observed != "director-1" {
		t.Errorf("VIP holder %q", c.Observed)
	}
	if c := find(t, res, "responses from every real server", "client"); c.Observed != "web-1×10 web-2×10 web-3×10" {
		t.Errorf("spread %q", c.Observed)
	}
	var tbl, js bytes.Buffer
	if err := res.WriteTable(&tbl); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CHECK", "IPVS REAL SERVER 10.0.10.12:80", "Masq weight 1", "ok (resyncing 41.3%)"} {
		if !strings.Contains(strings.ToUpper(tbl.String()), strings.ToUpper(want)) {
			t.Errorf("table lacks %q:\n%s", want, tbl.String())
		}
	}
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Checks) != len(res.Checks) || back.Checks[0].Name != res.Checks[0].Name {
		t.Errorf("json round trip: %v %s", err, js.String())
	}
}

func TestFailures(t *testing.T) {
	tests := []struct {
		name    string
		break_  func(t *testing.T, f fakes)
		check   string
		vm      string
		observe string
	}{
		{"both directors hold the VIP", func(t *testing.T, f fakes) { f["director-2"].Reply(`ip -o -4 addr show`, addrMaster) },
			"VIP 192.168.100.200 held", "", "director-1, director-2"},
		{"no director holds the VIP", func(t *testing.T, f fakes) { f["director-1"].Reply(`ip -o -4 addr show`, addrBackup) },
			"VIP 192.168.100.200 held", "", "none"},
		{"backup keepalived stopped", func(t *testing.T, f fakes) {
			f["director-2"].Handle(`systemctl is-active keepalived`, func(*rolestest.Fake, []string) ssh.Result {
				return ssh.Result{Stdout: []byte("inactive\n"), ExitCode: 3}
			})
		}, "keepalived running", "director-2", "not active"},
		{"real server missing and weight wrong", func(t *testing.T, f fakes) { f["director-1"].Reply(`ipvsadm -Ln`, read(t, "ipvsadm-nat-one-down.txt")) },
			"IPVS real server 10.0.10.12:80", "director-1", "absent"},
		{"weight differs", func(t *testing.T, f fakes) { f["director-1"].Reply(`ipvsadm -Ln`, read(t, "ipvsadm-nat-one-down.txt")) },
			"IPVS real server 10.0.10.13:80", "director-1", "Masq weight 2"},
		{"one backend never answers", func(t *testing.T, f fakes) {
			f["client"].Reply(`for i in \$\(seq 30\); do curl .*`, backendLines("web-1", "web-3"))
		}, "responses from every real server", "client", "web-1×15 web-3×15"},
		{"timeouts", func(t *testing.T, f fakes) {
			f["client"].Reply(`for i in \$\(seq 30\); do curl .*`, strings.Repeat("000 \n", 30))
		}, "responses from every real server", "client", "failed×30"},
		{"VIP does not answer", func(t *testing.T, f fakes) {
			f["client"].Handle(regexp.QuoteMeta(`curl -s -o /dev/null --max-time 5 -w '%{http_code}' http://192.168.100.200:80/`), func(*rolestest.Fake, []string) ssh.Result {
				return ssh.Result{Stdout: []byte("000"), ExitCode: 28}
			})
		}, "VIP answers HTTP", "client", `error: client: command "curl -s -o /dev/null --max-time 5 -w '%{http_code}' http://192.168.100.200:80/" exited 28: `},
		{"VIP does not answer: no spread probe", func(t *testing.T, f fakes) {
			f["client"].Handle(regexp.QuoteMeta(`curl -s -o /dev/null --max-time 5 -w '%{http_code}' http://192.168.100.200:80/`), func(*rolestest.Fake, []string) ssh.Result {
				return ssh.Result{Stdout: []byte("000"), ExitCode: 28}
			})
			f["client"].Fail(`for i in \$\(seq 30\); do curl .*`, 99, "the spread probe ran")
		}, "responses from every real server", "client", "not probed: the VIP does not answer"},
		{"NFS not mounted", func(t *testing.T, f fakes) {
			f["web-2"].Reply(`findmnt -n -o SOURCE,FSTYPE --mountpoint '/var/www/nfs'; true`, "")
		}, "NFS mounted on /var/www/nfs", "web-2", "not mounted"},
		{"export on the system disk", func(t *testing.T, f fakes) {
			f["storage"].Reply(`findmnt -n -o SOURCE --target '/srv/raid/www'; readlink -f '/dev/md/data'`, "/dev/vda1\n/dev/md127\n")
		}, "export /srv/raid/www on RAID", "storage", "/dev/vda1"},
		{"RAID degraded", func(t *testing.T, f fakes) {
			f["storage"].Reply(`mdadm --detail /dev/md/data`, read(t, "mdadm-detail-raid6-degraded.txt"))
		}, "RAID /dev/md/data", "storage", "raid6, 4 active, 0 spare, clean, degraded"},
		{"wrong default route", func(t *testing.T, f fakes) {
			f["web-3"].Reply(`ip -4 route show default`, "default via 10.254.0.1 dev eth1 proto dhcp\n")
		}, "real server default route", "web-3", "default via 10.254.0.1 dev eth1 proto dhcp"},
		{"VM unreachable", func(t *testing.T, f fakes) { delete(f, "web-1") },
			"NFS mounted on /var/www/nfs", "web-1", "error: no route to web-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := healthyNAT(t)
			tt.break_(t, f)
			res, err := Run(context.Background(), rolestest.ThesisLab(topology.LVSNAT), f.hosts, Options{VRRPSettle: -1})
			if err != nil {
				t.Fatal(err)
			}
			c := find(t, res, tt.check, tt.vm)
			if c.OK || !strings.HasPrefix(c.Observed, tt.observe) {
				t.Errorf("check %+v, want failed with observed %q", c, tt.observe)
			}
			if res.OK() || res.Failed() == 0 {
				t.Error("result OK despite a failed check")
			}
		})
	}
}

func TestStickySchedulerNeedsOneBackend(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	lab.LVS[0].Persistence = &topology.Persistence{TimeoutSec: 300}
	f := healthyNAT(t)
	f["director-1"].Reply(`ipvsadm -Ln`, strings.Replace(read(t, "ipvsadm-nat.txt"), "wlc", "wlc persistent 300", 1))
	f["client"].Reply(`for i in \$\(seq 30\); do curl .*`, backendLines("web-2"))
	res, err := Run(context.Background(), lab, f.hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, res, "responses from a real server", "client"); !c.OK || c.Observed != "web-2×30" {
		t.Errorf("%+v", c)
	}
	if c := find(t, res, "IPVS service", "director-1"); !c.OK || c.Expected != "wlc persistent 300" {
		t.Errorf("%+v", c)
	}
}

func TestDRRealServerVIP(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSDR)
	f := healthyNAT(t)
	f["web-1"].Reply(`ip -o -4 addr show dev lo`, "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n1: lo    inet 192.168.100.200/32 scope global lo\\       valid_lft forever preferred_lft forever\n")
	f["web-2"].Reply(`ip -o -4 addr show dev lo`, "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever\n")
	res, err := Run(context.Background(), lab, f.hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, res, "real server VIP", "web-1"); !c.OK {
		t.Errorf("%+v", c)
	}
	if c := find(t, res, "real server VIP", "web-2"); c.OK || c.Observed != "absent" {
		t.Errorf("%+v", c)
	}
}

func TestRAIDRecoveryIsOK(t *testing.T) {
	lab := rolestest.Variants()["thesis-tun"] // RAID 5, 4 + 1 spare
	d := guestout.ParseMdadmDetail(read(t, "mdadm-detail-raid5-recovery.txt"))
	c := raidCheck("storage", "/dev/md/data", lab.VMs[3].RAID, d, 23)
	if !c.OK || c.Observed != "ok (recovering 23%) raid5, 5/5 working" {
		t.Errorf("%+v", c)
	}
	clean := guestout.ParseMdadmDetail(read(t, "mdadm-detail-raid6-clean.txt"))
	c = raidCheck("storage", "/dev/md/data", rolestest.ThesisLab(topology.LVSNAT).VMs[3].RAID, clean, -1)
	if !c.OK || c.Observed != "raid6, 5 active, 0 spare, clean" {
		t.Errorf("%+v", c)
	}
}

func TestNoClientVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	lab.VMs = lab.VMs[1:]
	lab.Experiments = nil
	res, err := Run(context.Background(), lab, healthyNAT(t).hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, res, "VIP answers HTTP", ""); c.OK || !strings.Contains(c.Observed, "no VM with role client") {
		t.Errorf("%+v", c)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, rolestest.ThesisLab(topology.LVSNAT), healthyNAT(t).hosts, Options{}); err == nil {
		t.Error("want context error")
	}
}

// Right after `labctl up` keepalived may still be electing a MASTER (seen
// on labs/lvs-tun: verify found no VIP holder): verify looks again until
// the election settles.
func TestVRRPElectionInProgressSettles(t *testing.T) {
	f := healthyNAT(t)
	looks := 0
	f["director-1"].Handle(`ip -o -4 addr show`, func(*rolestest.Fake, []string) ssh.Result {
		looks++
		if looks < 3 {
			return ssh.Result{Stdout: []byte(addrBackup)}
		}
		return ssh.Result{Stdout: []byte(addrMaster)}
	})
	res, err := Run(context.Background(), rolestest.ThesisLab(topology.LVSNAT), f.hosts, Options{VRRPSettle: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, res, "VIP 192.168.100.200 held", ""); !c.OK || c.Observed != "director-1" || looks != 3 {
		t.Errorf("check %+v after %d looks, want director-1 after 3", c, looks)
	}
	if n := len(res.Checks); res.Failed() != 0 {
		t.Errorf("%d of %d checks failed", res.Failed(), n)
	}
}

// pacemakerNAT is healthyNAT with the Pacemaker stack: crm_mon answers
// with out (captured on labs/thesis-pacemaker).
func pacemakerNAT(t *testing.T, out string) (*topology.Lab, fakes) {
	t.Helper()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	lab.LVS[0].Stack = topology.StackPacemaker
	f := healthyNAT(t)
	for _, d := range []string{"director-1", "director-2"} {
		f[d].Reply(`systemctl is-active corosync pacemaker`, "active\nactive\n")
		f[d].Reply(regexp.QuoteMeta(guestout.CrmMonCmd), out)
	}
	return lab, f
}

func TestPacemakerClusterChecks(t *testing.T) {
	lab, f := pacemakerNAT(t, read(t, "crm_mon-started.xml"))
	res, err := Run(context.Background(), lab, f.hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Checks {
		if !c.OK {
			t.Errorf("check failed: %+v", c)
		}
	}
	if c := find(t, res, "cluster resources", ""); c.Observed != "3 resources on director-1" {
		t.Errorf("cluster resources: %+v", c)
	}
	find(t, res, "corosync and pacemaker running", "director-2")

	lab, f = pacemakerNAT(t, read(t, "crm_mon-ldirectord-failed.xml"))
	res, err = Run(context.Background(), lab, f.hosts, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, res, "cluster resources", ""); c.OK || c.Observed != "p_ldirectord failed" {
		t.Errorf("a failed ldirectord passed: %+v", c)
	}
	if c := find(t, res, "cluster nodes online", ""); !c.OK {
		t.Errorf("nodes: %+v", c)
	}
}
