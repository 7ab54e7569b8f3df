package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

// fakeOpener serves lab with one rolestest.Fake per VM.
func fakeOpener(lab *topology.Lab, fakes map[string]*rolestest.Fake) hostsOpener {
	return func(ctx context.Context, arg string, f lifecycleFlags) (*topology.Lab, func(string) (ssh.Runner, error), func(), error) {
		return lab, func(vm string) (ssh.Runner, error) {
			if r, ok := fakes[vm]; ok {
				return r, nil
			}
			return nil, fmt.Errorf("unknown VM %q", vm)
		}, func() {}, nil
	}
}

func execute(cmd *cobra.Command, args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestProvisionCmdOnlyNamedVMsJSON(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	lab := rolestest.ThesisLab(topology.LVSNAT)
	fakes := map[string]*rolestest.Fake{"client": rolestest.New("client")}
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	if _, _, err := execute(provisionCmd(a, fakeOpener(lab, fakes)), "client", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	var rep roles.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(rep.Steps) != 2 || rep.Steps[0].VM != "client" || rep.Count(roles.StatusUnchanged) != 2 {
		t.Errorf("report %+v", rep)
	}
	if !strings.Contains(errb.String(), "[client] client/tools: unchanged") {
		t.Errorf("progress: %q", errb.String())
	}
	// Recorded for up: the client is configured, the others are not.
	applied, err := roles.LoadApplied(keys.DefaultDir(lab.Name))
	if err != nil {
		t.Fatal(err)
	}
	if stale, _ := applied.Stale(lab); slices.Contains(stale, "client") || !slices.Contains(stale, "web-1") {
		t.Errorf("stale after provisioning the client: %v", stale)
	}
}

func TestProvisionCmdReportsFailedStep(t *testing.T) {
	t.Setenv(keys.EnvStateDir, t.TempDir())
	lab := rolestest.ThesisLab(topology.LVSNAT)
	c := rolestest.New("client")
	c.Fail(`command -v siege`, 1, "")
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	_, _, err := execute(provisionCmd(a, fakeOpener(lab, map[string]*rolestest.Fake{"client": c})), "client")
	var se *roles.StepError
	if !errors.As(err, &se) || se.VM != "client" || se.Step != "tools" || !strings.Contains(err.Error(), "siege") {
		t.Fatalf("err = %v", err)
	}
	applied, err := roles.LoadApplied(keys.DefaultDir(lab.Name))
	if err != nil {
		t.Fatal(err)
	}
	if stale, _ := applied.Stale(lab); !slices.Contains(stale, "client") {
		t.Errorf("a failed run recorded the client as configured: stale %v", stale)
	}
}

func TestVerifyCmdExitCode(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	lab.LVS, lab.NFS = nil, nil // only the RAID check remains
	st := rolestest.New("storage")
	st.Reply(`mdadm --detail /dev/md/data`, "/dev/md/data:\n        Raid Level : raid6\n      Raid Devices : 5\n             State : clean \n    Active Devices : 5\n   Working Devices : 5\n    Failed Devices : 0\n     Spare Devices : 0\n")
	fakes := map[string]*rolestest.Fake{"storage": st}
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}}
	if _, _, err := execute(verifyCmd(a, fakeOpener(lab, fakes)), "labs/x"); err != nil {
		t.Fatalf("healthy: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "raid6, 5 active, 0 spare, clean") {
		t.Errorf("table:\n%s", out.String())
	}
	st.Reply(`mdadm --detail /dev/md/data`, "/dev/md/data:\n        Raid Level : raid6\n      Raid Devices : 5\n             State : clean, degraded \n    Active Devices : 4\n   Working Devices : 4\n    Failed Devices : 1\n     Spare Devices : 0\n")
	out.Reset()
	_, _, err := execute(verifyCmd(a, fakeOpener(lab, fakes)), "-o", "json")
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("err = %v, want exit 1", err)
	}
	if !strings.Contains(out.String(), `"ok": false`) {
		t.Errorf("json:\n%s", out.String())
	}
}

// A class is verified copy by copy, then summed up one line per copy; one
// failing copy fails the command without hiding the others.
func TestVerifyCmdClassView(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	lab.LVS, lab.NFS = nil, nil
	st := rolestest.New("storage")
	st.Reply(`mdadm --detail /dev/md/data`, "/dev/md/data:\n        Raid Level : raid6\n      Raid Devices : 5\n             State : clean \n    Active Devices : 5\n   Working Devices : 5\n    Failed Devices : 0\n     Spare Devices : 0\n")
	var seen []string
	open := func(ctx context.Context, arg string, f lifecycleFlags) (*topology.Lab, func(string) (ssh.Runner, error), func(), error) {
		seen = append(seen, f.copy)
		if f.copy == "bob" {
			return nil, nil, nil, errors.New("lab not up")
		}
		return fakeOpener(lab, map[string]*rolestest.Fake{"storage": st})(ctx, arg, f)
	}
	class := func(context.Context, string, lifecycleFlags) ([]classCopy, error) {
		return []classCopy{{Name: "alice"}, {Name: "bob"}}, nil
	}
	var out, errb bytes.Buffer
	a := &App{IO: IO{Out: &out, Err: &errb}, findCopies: class}
	_, _, err := execute(verifyCmd(a, open))
	if err == nil || !strings.Contains(err.Error(), "copy bob: lab not up") {
		t.Fatalf("err = %v", err)
	}
	if strings.Join(seen, ",") != "alice,bob" {
		t.Errorf("opened copies %v", seen)
	}
	text := out.String()
	for _, want := range []string{"== copy alice", "raid6, 5 active", "== copy bob", "== class", "not checked: lab not up"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if !regexp.MustCompile(`alice\s*│\s*thesis\s*│\s*1\s*│\s*0\s*│\s*ok`).MatchString(text) {
		t.Errorf("no ok row for alice:\n%s", text)
	}
}
