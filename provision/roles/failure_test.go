package roles

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// How Apply reports a failed step and recovers on the next run.

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
	if rep.Count(StatusFailed) != 1 {
		t.Errorf("report: %+v", rep.Steps)
	}
	// Nothing that waits for the storage server ran: the web servers'
	// stages start after every nfs_server stage. (Directors and the client
	// need nothing from it and may have run beside it until the failure.)
	for _, s := range rep.Steps {
		if s.VM != "storage" && s.Role != topology.RoleDirector && s.Role != topology.RoleClient {
			t.Errorf("step %s %s/%s ran after the raid stage failed", s.VM, s.Role, s.Step)
		}
		if s.VM == "storage" && s.Role != topology.RoleRAID {
			t.Errorf("storage's %s/%s ran after its raid stage failed", s.Role, s.Step)
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

func (u unreachable) ReadFile(context.Context, string) ([]byte, error) { return nil, u.err }

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

func TestConnectErrorNamesVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	delete(gs, "storage")
	_, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	if err == nil || !strings.Contains(err.Error(), "storage: role raid: step connect") {
		t.Errorf("err = %v", err)
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
