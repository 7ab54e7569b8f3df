package roles

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// sideEffects start the commands a converged VM must never see again.
var sideEffects = []string{"systemctl start", "systemctl restart", "systemctl reload", "systemctl enable", "mdadm --create",
	"mkfs", "mount ", "update-initramfs", "exportfs -ra", "a2enmod", "modprobe", "sysctl -q -p", "ln -s", rsScript}

func TestApplyConvergesThenIsIdempotent(t *testing.T) {
	labs := rolestest.Variants()
	// The storage VM also mounts its own export: two fstab blocks on one VM.
	self := rolestest.ThesisLab(topology.LVSNAT)
	self.VMs[3].Roles = []topology.Role{topology.RoleRAID, topology.RoleNFSServer, topology.RoleNFSClient}
	self.NFS[0].Clients = append(self.NFS[0].Clients, self.VMs[3])
	labs["self-mount"] = self
	for name, lab := range labs {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			gs := guests(lab)
			var out bytes.Buffer
			rep, err := Apply(ctx, lab, hostsOf(gs), Options{Out: &out})
			if err != nil {
				t.Fatalf("first Apply: %v\n%s", err, out.String())
			}
			if len(rep.Steps) != len(Steps(lab, false)) || rep.Count(StatusFailed) != 0 || rep.Count(StatusChanged) == 0 {
				t.Fatalf("first Apply: %d steps (plan %d), %d changed, %d failed", len(rep.Steps), len(Steps(lab, false)), rep.Count(StatusChanged), rep.Count(StatusFailed))
			}
			checkConverged(t, lab, gs)

			for _, g := range gs {
				g.ResetCommands()
			}
			rep, err = Apply(ctx, lab, hostsOf(gs), Options{})
			if err != nil {
				t.Fatalf("second Apply: %v", err)
			}
			for _, s := range rep.Steps {
				if s.Status != StatusUnchanged {
					t.Errorf("second Apply: %s %s/%s is %s", s.VM, s.Role, s.Step, s.Status)
				}
			}
			for vm, g := range gs {
				if len(g.Writes) > 0 {
					t.Errorf("second Apply wrote on %s: %v", vm, g.Writes)
				}
				for _, c := range g.Commands() {
					for _, se := range sideEffects {
						if strings.HasPrefix(c, se) {
							t.Errorf("second Apply ran %q on %s", c, vm)
						}
					}
				}
			}
		})
	}
}

func checkConverged(t *testing.T, lab *topology.Lab, gs map[string]*guest) {
	t.Helper()
	st := gs["storage"]
	if st.creates != 1 || st.mkfs != 1 || st.initramfs != 1 {
		t.Errorf("storage: %d creates, %d mkfs, %d initramfs updates; want 1 each", st.creates, st.mkfs, st.initramfs)
	}
	if st.mounts["/srv/raid"] != "/dev/md/data" {
		t.Errorf("storage: /srv/raid mounted from %q", st.mounts["/srv/raid"])
	}
	if _, ok := st.Files["/srv/raid/www/index.php"]; !ok {
		t.Errorf("storage: index.php not written into the export on the array")
	}
	if conf := string(st.Files[mdadmConf]); !strings.Contains(conf, "ARRAY /dev/md/data metadata=1.2 name=storage:data UUID=") || strings.Contains(conf, "spares=") {
		t.Errorf("storage: mdadm.conf:\n%s", conf)
	}
	if u := st.Unit("nfs-server"); !u.Enabled || !u.Active {
		t.Errorf("storage: nfs-server %+v", u)
	}
	svc := lab.LVS[0]
	for _, vm := range []string{"web-1", "web-2", "web-3"} {
		g := gs[vm]
		if g.mounts["/var/www/nfs"] != "10.0.10.20:/srv/raid/www" {
			t.Errorf("%s: /var/www/nfs mounted from %q", vm, g.mounts["/var/www/nfs"])
		}
		if u := g.Unit("apache2"); !u.Enabled || !u.Active || u.Starts != 1 {
			t.Errorf("%s: apache2 %+v", vm, u)
		}
		if g.Exists("/etc/apache2/sites-enabled/000-default.conf") || !g.Exists("/etc/apache2/sites-enabled/labctl-www.conf") {
			t.Errorf("%s: sites not switched", vm)
		}
		switch svc.Mode {
		case topology.LVSNAT:
			if !strings.Contains(g.routes, "via 10.0.10.254 dev eth0") {
				t.Errorf("%s: default route %q", vm, g.routes)
			}
		case topology.LVSDR:
			if !slices.Contains(g.addrs["lo"], "192.168.100.200/32") || g.Sysctl["net.ipv4.conf.all.arp_ignore"] != "1" {
				t.Errorf("%s: lo %v, arp_ignore %q", vm, g.addrs["lo"], g.Sysctl["net.ipv4.conf.all.arp_ignore"])
			}
		case topology.LVSTUN:
			if !slices.Contains(g.addrs["tunl0"], "192.168.100.200/32") || g.Sysctl["net.ipv4.conf.all.rp_filter"] != "2" {
				t.Errorf("%s: tunl0 %v, rp_filter %q", vm, g.addrs["tunl0"], g.Sysctl["net.ipv4.conf.all.rp_filter"])
			}
		}
	}
	for _, vm := range []string{"director-1", "director-2"} {
		g := gs[vm]
		if u := g.Unit("keepalived"); !u.Enabled || !u.Active || u.Starts != 1 {
			t.Errorf("%s: keepalived %+v", vm, u)
		}
		if !g.Exists("/sys/module/ip_vs") || g.Sysctl["net.ipv4.vs.expire_nodest_conn"] != "1" {
			t.Errorf("%s: ip_vs not loaded or sysctls not applied", vm)
		}
		if (svc.Mode == topology.LVSNAT) != (g.Sysctl["net.ipv4.ip_forward"] == "1") {
			t.Errorf("%s: ip_forward = %q in %s mode", vm, g.Sysctl["net.ipv4.ip_forward"], svc.Mode)
		}
	}
}

func TestKeepalivedChangeReloadsOnlyDirectors(t *testing.T) {
	ctx := context.Background()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	lab.LVS[0].Scheduler = "rr"
	rep, err := Apply(ctx, lab, hostsOf(gs), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, s := range rep.Steps {
		if s.Status == StatusChanged {
			changed = append(changed, s.VM+" "+s.Step)
		}
	}
	want := []string{"director-1 keepalived.conf", "director-1 keepalived service", "director-2 keepalived.conf", "director-2 keepalived service"}
	if !slices.Equal(changed, want) {
		t.Errorf("changed steps = %q, want %q", changed, want)
	}
	if u := gs["director-1"].Unit("keepalived"); u.Starts != 2 {
		t.Errorf("keepalived started/reloaded %d times, want 2", u.Starts)
	}
	if !slices.Contains(gs["director-1"].Commands(), "systemctl reload keepalived") {
		t.Errorf("keepalived not reloaded: %q", gs["director-1"].Commands())
	}
}

func TestStepsOrder(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	steps := Steps(lab, false)
	rank := map[topology.Role]int{}
	for i, r := range topology.RoleOrder {
		rank[r] = i
	}
	for i := 1; i < len(steps); i++ {
		if rank[steps[i].Role] < rank[steps[i-1].Role] {
			t.Errorf("step %d %+v comes after %+v", i, steps[i], steps[i-1])
		}
	}
	if steps[0].StepID != (StepID{VM: "storage", Role: "raid", Step: "packages"}) {
		t.Errorf("first step %+v", steps[0])
	}
	if last := steps[len(steps)-1]; last.Role != topology.RoleClient {
		t.Errorf("last step %+v", last)
	}
}

func TestApplyOnlyAndUnknownVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	if _, err := Apply(context.Background(), lab, hostsOf(gs), Options{Only: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `no VM "nope"`) {
		t.Errorf("err = %v", err)
	}
	rep, err := Apply(context.Background(), lab, hostsOf(gs), Options{Only: []string{"client"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Steps {
		if s.VM != "client" {
			t.Errorf("ran %+v", s)
		}
	}
	if len(gs["storage"].Commands()) != 0 {
		t.Error("storage touched")
	}
}

func TestApplyCancelled(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	ctx, cancel := context.WithCancel(context.Background())
	gs["storage"].Handle(`udevadm settle`, func(*rolestest.Fake, []string) ssh.Result { cancel(); return ssh.Result{} })
	_, err := Apply(ctx, lab, hostsOf(gs), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(gs["web-1"].Commands()) != 0 {
		t.Error("web-1 configured after cancellation")
	}
}

func TestPackagesIsSortedUnion(t *testing.T) {
	p := Packages()
	if !slices.IsSorted(p) || len(slices.Compact(slices.Clone(p))) != len(p) {
		t.Errorf("not sorted and unique: %q", p)
	}
	for _, want := range []string{"mdadm", "nfs-kernel-server", "nfs-common", "apache2", "libapache2-mod-php", "keepalived", "ipvsadm", "curl", "apache2-utils", "siege", "xfsprogs", "corosync", "pacemaker", "crmsh", "ldirectord"} {
		if !slices.Contains(p, want) {
			t.Errorf("Packages() lacks %s", want)
		}
	}
}

func TestBadModelFailsTheStepWithAClearError(t *testing.T) {
	lab := rolestest.Variants()["thesis-dr"]
	lab.LVS[0].SorryServer = "192.168.100.99:8080"
	gs := guests(lab)
	_, err := Apply(context.Background(), lab, hostsOf(gs), Options{Only: []string{"director-1"}})
	if err == nil || !strings.Contains(err.Error(), `director-1: role lvs_director: step keepalived.conf: LVS service "www" on director "director-1": sorry_server "192.168.100.99:8080": DR cannot change the port, use port 80`) {
		t.Errorf("err = %v", err)
	}
}

func TestInitramfsOnlyForBootloaderBoots(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	gs["storage"].Fail(`grep -q BOOT_IMAGE= /proc/cmdline`, 1, "")
	if _, err := Apply(context.Background(), lab, hostsOf(gs), Options{Only: []string{"storage"}}); err != nil {
		t.Fatal(err)
	}
	if n := gs["storage"].initramfs; n != 0 {
		t.Errorf("update-initramfs ran %d times on a direct-kernel-boot guest", n)
	}
	if _, ok := gs["storage"].Files[mdadmConf]; !ok || gs["storage"].Exists(pendingDir+"/"+initramfsMark) {
		t.Error("mdadm.conf missing or initramfs still pending")
	}
}

// New NFS mount options reach the mounted share on every client by a
// remount; a run without changes remounts nothing.
func TestNFSMountOptionsChangeRemounts(t *testing.T) {
	ctx := context.Background()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	exp := lab.NFS[0]
	exp.MountOpts = append(slices.Clone(exp.MountOpts), "actimeo=1")
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range exp.Clients {
		if n := gs[c.Name].remounts[exp.MountPoint]; n != 1 {
			t.Errorf("%s: %d remounts of %s after new mount options, want 1", c.Name, n, exp.MountPoint)
		}
	}
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range exp.Clients {
		if n := gs[c.Name].remounts[exp.MountPoint]; n != 1 {
			t.Errorf("%s: %d remounts after an unchanged run, want still 1", c.Name, n)
		}
	}
}

// An exercise keeps only the packages step of the student's roles;
// Solution plans them whole, exactly as without the exercise.
func TestExerciseWithholdsTheStudentsRoles(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	full := Steps(lab, false)
	fp, err := Fingerprint(lab, lab.VM("director-1"))
	if err != nil {
		t.Fatal(err)
	}
	lab.Exercise = &topology.Exercise{Name: "x", Roles: []topology.Role{topology.RoleDirector, topology.RoleNFSServer, topology.RoleNFSClient}}
	for _, s := range Steps(lab, false) {
		if lab.Exercise.Withholds(lab.VM(s.VM), s.Role) && s.Step != "packages" {
			t.Errorf("[%s] %s/%s planned, but the role is the student's", s.VM, s.Role, s.Step)
		}
	}
	if got := Steps(lab, true); len(got) != len(full) {
		t.Errorf("solution plans %d steps, the lab without exercise %d", len(got), len(full))
	}
	withheld, err := Fingerprint(lab, lab.VM("director-1"))
	if err != nil || withheld == fp {
		t.Errorf("fingerprint of a withheld director %q (%v) equals the configured one's", withheld, err)
	}
}
