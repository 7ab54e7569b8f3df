package roles

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// sideEffects are commands a converged VM must never see again.
var sideEffects = []string{"systemctl start", "systemctl restart", "systemctl reload", "systemctl enable", "mdadm --create",
	"mkfs", "mount ", "update-initramfs", "exportfs -ra", "a2enmod", "modprobe", "sysctl -q -p", "ln -s", "sbin/labctl-realserver"}

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
			if len(rep.Steps) != len(Steps(lab)) || rep.Count(StatusFailed) != 0 || rep.Count(StatusChanged) == 0 {
				t.Fatalf("first Apply: %d steps (plan %d), %d changed, %d failed", len(rep.Steps), len(Steps(lab)), rep.Count(StatusChanged), rep.Count(StatusFailed))
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
						if strings.Contains(c, se) {
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

func TestFailedCommandNamesVMStepCommandExitStderr(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	gs["storage"].Fail(`mkfs\.ext4 -q /dev/md/data`, 1, "mke2fs 1.47.0\n/dev/md/data is apparently in use by the system; will not make a filesystem here!\n")
	rep, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *StepError", err)
	}
	var ce *ssh.CommandError
	if !errors.As(err, &ce) || ce.ExitCode != 1 {
		t.Fatalf("err = %v, want a wrapped *ssh.CommandError with exit 1", err)
	}
	msg := err.Error()
	for _, want := range []string{"storage", "role raid", "step filesystem", "mkfs.ext4 -q /dev/md/data", "exited 1", "will not make a filesystem here"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if rep.Count(StatusFailed) != 1 || rep.Steps[len(rep.Steps)-1].Status != StatusFailed {
		t.Errorf("report: %+v", rep.Steps)
	}
	// Later stages must not have run.
	for _, s := range rep.Steps {
		if s.Role != topology.RoleRAID {
			t.Errorf("step %s %s/%s ran after the raid stage failed", s.VM, s.Role, s.Step)
		}
	}
}

func TestKeepalivedValidationFailureKeepsOldConfig(t *testing.T) {
	ctx := context.Background()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	d1 := gs["director-1"]
	old := string(d1.Files[keepalivedConf])
	starts := d1.Unit("keepalived").Starts
	d1.Fail(`keepalived -t -f /etc/keepalived/keepalived.conf.labctl-new`, 1, "(/etc/keepalived/keepalived.conf.labctl-new: Line 30) Unknown keyword 'lb_algo'\n")
	lab.LVS[0].Scheduler = "lc"
	d1.ResetCommands()
	_, err := Apply(ctx, lab, hostsOf(gs), Options{Only: []string{"director-1"}})
	if err == nil {
		t.Fatal("Apply succeeded with a config keepalived rejects")
	}
	for _, want := range []string{"director-1", "keepalived.conf", "keepalived -t -f", "exited 1", "Unknown keyword", "live config untouched"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if d1.Exists(keepalivedConf + ".labctl-new") {
		t.Error("side file left behind")
	}
	if got := string(d1.Files[keepalivedConf]); got != old {
		t.Errorf("keepalived.conf not restored:\n%s", got)
	}
	if d1.Unit("keepalived").Starts != starts || d1.Exists(pendingDir+"/keepalived") {
		t.Errorf("keepalived was reloaded or marked pending after a failed validation")
	}
	for _, c := range d1.Commands() {
		if strings.Contains(c, "systemctl") {
			t.Errorf("ran %q after a failed validation", c)
		}
	}
}

func TestApacheValidationFailureOnFirstRunRemovesNewFiles(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	w := gs["web-1"]
	w.Fail(`apache2ctl configtest`, 1, "AH00526: Syntax error on line 12 of /etc/apache2/sites-enabled/labctl-www.conf:\nInvalid command 'EnableMMAP', perhaps misspelled\n")
	_, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	if err == nil || !strings.Contains(err.Error(), "web-1: role web: step site") || !strings.Contains(err.Error(), "AH00526") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := w.Files[siteConfPath("www")]; ok {
		t.Error("site config left behind after failed validation")
	}
	if w.Exists("/etc/apache2/sites-enabled/labctl-www.conf") {
		t.Error("sites-enabled link left behind after failed validation")
	}
	if u := w.Unit("apache2"); u.Starts != 0 {
		t.Errorf("apache2 started on a rejected config: %+v", u)
	}
}

func TestPendingReloadSurvivesFailedRun(t *testing.T) {
	ctx := context.Background()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	d1 := gs["director-1"]
	lab.LVS[0].Backends[0].Weight = 5
	d1.Fail(`systemctl reload keepalived`, 1, "Job for keepalived.service failed.\n")
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{Only: []string{"director-1"}}); err == nil {
		t.Fatal("want reload failure")
	}
	d1.Handle(`systemctl reload keepalived`, func(f *rolestest.Fake, _ []string) ssh.Result {
		f.Unit("keepalived").Starts++
		return ssh.Result{}
	})
	rep, err := Apply(ctx, lab, hostsOf(gs), Options{Only: []string{"director-1"}})
	if err != nil {
		t.Fatal(err)
	}
	var reloaded bool
	for _, s := range rep.Steps {
		reloaded = reloaded || (s.Step == "keepalived service" && s.Status == StatusChanged)
	}
	if !reloaded {
		t.Errorf("keepalived not reloaded on the run after a failed reload: %+v", rep.Steps)
	}
}

func TestMissingPackageNamesPackageAndImage(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	gs["director-2"].Missing = []string{"ipvsadm"}
	_, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	if err == nil {
		t.Fatal("want error")
	}
	for _, want := range []string{"director-2", "step packages", "ipvsadm", `"debian-12"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// unreachable fails every call the way the SSH pool does when the VM
// offers another host key or does not answer.
type unreachable struct {
	name string
	err  error
}

func (u unreachable) Host() string { return u.name }
func (u unreachable) Run(context.Context, string) (ssh.Result, error) {
	return ssh.Result{}, u.err
}
func (u unreachable) WriteFile(context.Context, string, []byte, fs.FileMode) error { return u.err }
func (u unreachable) ReadFile(context.Context, string) ([]byte, error)             { return nil, u.err }

// A connection failure must be reported as such, not as missing packages
// (seen on a real VM whose pinned host key had been replaced).
func TestConnectionErrorIsNotMissingPackages(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	hkErr := &ssh.HostKeyError{Host: "web-1", Addr: "10.0.10.110:22", Expected: "SHA256:a", Offered: "SHA256:b"}
	hosts := func(name string) (ssh.Runner, error) {
		if name == "web-1" {
			return unreachable{name: name, err: hkErr}, nil
		}
		return hostsOf(gs)(name)
	}
	_, err := Apply(context.Background(), lab, hosts, Options{Only: []string{"web-1"}})
	var got *ssh.HostKeyError
	if !errors.As(err, &got) {
		t.Fatalf("error %v does not wrap the host key error", err)
	}
	if strings.Contains(err.Error(), "not installed") {
		t.Errorf("connection failure reported as missing packages: %v", err)
	}
	for _, want := range []string{"web-1", "step packages", "HOST KEY MISMATCH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestStepsOrder(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	steps := Steps(lab)
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

func TestConnectErrorNamesVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	delete(gs, "storage")
	_, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	if err == nil || !strings.Contains(err.Error(), "storage: role raid: step connect") {
		t.Errorf("err = %v", err)
	}
}

func TestPackagesIsSortedUnion(t *testing.T) {
	p := Packages()
	if !slices.IsSorted(p) || len(slices.Compact(slices.Clone(p))) != len(p) {
		t.Errorf("not sorted and unique: %q", p)
	}
	for _, want := range []string{"mdadm", "nfs-kernel-server", "nfs-common", "apache2", "libapache2-mod-php", "keepalived", "ipvsadm", "curl", "apache2-utils", "siege", "xfsprogs"} {
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
	if err == nil || !strings.Contains(err.Error(), `director-1: role lvs_director: step ip_vs module: LVS service "www" on director "director-1": sorry_server "192.168.100.99:8080": DR cannot change the port, use port 80`) {
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

// cutAfterWrite is a director whose SSH connection drops right after the
// live keepalived.conf is written: every later command fails.
type cutAfterWrite struct {
	*rolestest.Fake
	cut bool
}

func (c *cutAfterWrite) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if c.cut {
		return errors.New("connection lost")
	}
	err := c.Fake.WriteFile(ctx, p, data, mode)
	c.cut = p == keepalivedConf
	return err
}

func (c *cutAfterWrite) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	if c.cut {
		return ssh.Result{ExitCode: -1}, errors.New("connection lost")
	}
	return c.Fake.Run(ctx, cmd)
}

// A run cut off between writing a service's config and reloading it must
// leave the reload pending: the next run finds the file current but still
// reloads keepalived.
func TestCutRunStillReloadsNextTime(t *testing.T) {
	ctx := context.Background()
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	if _, err := Apply(ctx, lab, hostsOf(gs), Options{}); err != nil {
		t.Fatal(err)
	}
	lab.LVS[0].Scheduler = "sh"
	d1 := gs["director-1"]
	cut := &cutAfterWrite{Fake: d1.Fake}
	hosts := func(name string) (ssh.Runner, error) {
		if name == "director-1" {
			return cut, nil
		}
		return hostsOf(gs)(name)
	}
	if _, err := Apply(ctx, lab, hosts, Options{Only: []string{"director-1"}}); err == nil || !cut.cut {
		t.Fatalf("cut run: err %v, cut %v", err, cut.cut)
	}
	if !strings.Contains(string(d1.Files[keepalivedConf]), "lb_algo sh") {
		t.Fatal("the cut run did not write the new keepalived.conf")
	}
	before := d1.Units["keepalived"].Starts
	rep, err := Apply(ctx, lab, hostsOf(gs), Options{Only: []string{"director-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if d1.Units["keepalived"].Starts != before+1 {
		t.Errorf("keepalived reloads after the cut run: %d, want 1", d1.Units["keepalived"].Starts-before)
	}
	if rep.Count(StatusChanged) == 0 {
		t.Error("the run after the cut reported nothing changed")
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
