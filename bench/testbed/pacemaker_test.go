package testbed

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// fakeHosts reaches one rolestest.Fake per VM.
type fakeHosts map[string]*rolestest.Fake

func (h fakeHosts) Runner(vm string) (ssh.Runner, error) { return h[vm], nil }
func (h fakeHosts) Reconnect(context.Context, string, time.Duration) error {
	return nil
}

func crmMonXML(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../provision/guestout/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// After a kill the revert waits past crm_mon's stale "Started" (and past
// the failed monitor) until the daemon runs again, and notes where.
func TestRevertKillLdirectordWaitsForTheDaemon(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	svc := lab.LVS[0]
	svc.Stack = topology.StackPacemaker
	d1, d2 := rolestest.New("director-1"), rolestest.New("director-2")
	states := []string{crmMonXML(t, "crm_mon-ldirectord-failed.xml"), crmMonXML(t, "crm_mon-started.xml")}
	looks := 0
	d1.Handle(regexp.QuoteMeta("crm_mon -1 --output-as=xml"), func(*rolestest.Fake, []string) ssh.Result {
		looks++
		return ssh.Result{Stdout: []byte(states[min(looks/2, 1)])}
	})
	d1.Reply(`crm_resource --wait --timeout=60s`, "")
	pidChecks := 0
	d1.Handle(`kill -0 .*`, func(*rolestest.Fake, []string) ssh.Result {
		if pidChecks++; pidChecks < 2 {
			return ssh.Result{ExitCode: 1}
		}
		return ssh.Result{}
	})
	in := &Injector{Lab: lab, Service: svc, Hosts: fakeHosts{"director-1": d1, "director-2": d2}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := in.revertPacemaker(ctx, topology.KillLdirectord, svc.Directors[0]); err != nil {
		t.Fatal(err)
	}
	if got := in.Notes()["resources_on"]; got != "director-1" {
		t.Errorf("resources_on = %q, want director-1", got)
	}
	if pidChecks < 2 {
		t.Errorf("the daemon's pid was checked %d times; the first check said not running", pidChecks)
	}
	if len(d2.Commands()) != 0 {
		t.Errorf("director-2 asked although director-1 answered: %q", d2.Commands())
	}
}

// After stop_corosync the revert starts corosync and pacemaker and waits
// until both directors are online again before judging where the group runs.
func TestRevertStopCorosyncWaitsForBothNodes(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	svc := lab.LVS[0]
	svc.Stack = topology.StackPacemaker
	d1, d2 := rolestest.New("director-1"), rolestest.New("director-2")
	d1.Reply(`systemctl reset-failed (corosync|pacemaker) 2>/dev/null; systemctl start (corosync|pacemaker)`, "")
	d1.Reply(`systemctl is-active .*`, "active\n")
	started := crmMonXML(t, "crm_mon-started.xml")
	oneNode := regexp.MustCompile(`<node name="director-2" [^>]*online="true"`).ReplaceAllStringFunc(started, func(s string) string {
		return regexp.MustCompile(`online="true"`).ReplaceAllString(s, `online="false"`)
	})
	looks := 0
	d1.Handle(regexp.QuoteMeta("crm_mon -1 --output-as=xml"), func(*rolestest.Fake, []string) ssh.Result {
		if looks++; looks < 3 {
			return ssh.Result{Stdout: []byte(oneNode)}
		}
		return ssh.Result{Stdout: []byte(started)}
	})
	waits := 0
	d1.Handle(`crm_resource --wait --timeout=60s`, func(*rolestest.Fake, []string) ssh.Result {
		waits++
		return ssh.Result{}
	})
	in := &Injector{Lab: lab, Service: svc, Hosts: fakeHosts{"director-1": d1, "director-2": d2}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := in.revertPacemaker(ctx, topology.StopCorosync, svc.Directors[0]); err != nil {
		t.Fatal(err)
	}
	if looks < 3 || waits != 1 {
		t.Errorf("crm_mon read %d times, crm_resource --wait %d times; want the wait only once both nodes were online", looks, waits)
	}
	if got := in.Notes()["resources_on"]; got != "director-1" {
		t.Errorf("resources_on = %q, want director-1", got)
	}
}

// Only the active Pacemaker director has the virtual service to edit.
func TestEditCmdByStack(t *testing.T) {
	svc := rolestest.ThesisLab(topology.LVSNAT).LVS[0]
	if got, want := editCmd(svc, "wlc"), "ipvsadm -E -t 192.168.100.200:80 -s wlc"; got != want {
		t.Errorf("keepalived: %q, want %q", got, want)
	}
	svc.Stack = topology.StackPacemaker
	if got, want := editCmd(svc, "wlc"), "if ipvsadm -Ln -t 192.168.100.200:80 >/dev/null 2>&1; then ipvsadm -E -t 192.168.100.200:80 -s wlc; fi"; got != want {
		t.Errorf("pacemaker: %q, want %q", got, want)
	}
}
