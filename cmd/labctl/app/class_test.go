package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"libvirt.org/go/libvirtxml"
)

// fakeClassHosts are two fake hosts holding copies of labs/minimal ("minimal"):
// alice on lab1 (one of two VMs running), bob on lab2.
func fakeClassHosts(t *testing.T) map[string]*fake.Hypervisor {
	t.Helper()
	hosts := map[string]*fake.Hypervisor{"qemu+ssh://t@lab1/system": fake.New(), "qemu+ssh://t@lab2/system": fake.New()}
	add := func(uri, cp, vm string, running bool) {
		x, err := libvirt.MarshalMeta(&libvirt.Meta{Lab: "minimal-" + cp, Object: vm, Kind: "domain", Class: "minimal", Copy: cp, Owner: cp})
		if err != nil {
			t.Fatal(err)
		}
		name := "minimal-" + cp + "-" + vm
		hv, ctx := hosts[uri], context.Background()
		if err := hv.DefineDomain(ctx, &libvirtxml.Domain{Type: "qemu", Name: name, Metadata: &libvirtxml.DomainMetadata{XML: x}, Devices: &libvirtxml.DomainDeviceList{}}); err != nil {
			t.Fatal(err)
		}
		if running {
			if err := hv.StartDomain(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	add("qemu+ssh://t@lab1/system", "alice", "vm-1", true)
	add("qemu+ssh://t@lab1/system", "alice", "vm-2", false)
	add("qemu+ssh://t@lab2/system", "bob", "vm-1", true)
	return hosts
}

// runClass runs `labctl class` on labs/minimal with every URI dialled to
// its fake (any other URI is down).
func runClass(t *testing.T, hosts map[string]*fake.Hypervisor, args ...string) (string, string, error) {
	t.Helper()
	return runOnHosts(t, hosts, append([]string{"class", "../../../labs/minimal"}, args...)...)
}

// runOnHosts runs labctl with every URI dialled to its fake.
func runOnHosts(t *testing.T, hosts map[string]*fake.Hypervisor, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &App{IO: IO{In: strings.NewReader(""), Out: &out, Err: &errb},
		fakes: provision.OpenOptions{Connect: func(_ context.Context, uri string) (libvirt.Hypervisor, error) {
			if hv, ok := hosts[uri]; ok {
				return hv, nil
			}
			return nil, fmt.Errorf("dial %s: connection refused", uri)
		}}}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestClassShowsEachCopyOnItsHost(t *testing.T) {
	hosts := fakeClassHosts(t)
	out, errs, err := runClass(t, hosts, "--hosts", "qemu+ssh://t@lab1/system,qemu+ssh://t@lab2/system,qemu+ssh://t@lab3/system")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var alice, bob string
	for _, l := range lines {
		if strings.Contains(l, "alice") {
			alice = l
		}
		if strings.Contains(l, "bob") {
			bob = l
		}
	}
	if !strings.Contains(alice, "qemu+ssh://t@lab1/system") || !strings.Contains(alice, "1/2") ||
		!strings.Contains(bob, "qemu+ssh://t@lab2/system") || !strings.Contains(bob, "1/1") {
		t.Errorf("class table:\n%s", out)
	}
	if !strings.Contains(errs, "warning: host qemu+ssh://t@lab3/system skipped: dial qemu+ssh://t@lab3/system: connection refused") {
		t.Errorf("stderr = %q", errs)
	}

	out, _, err = runClass(t, hosts, "--hosts", "qemu+ssh://t@lab2/system", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Copies []struct {
			Copy, URI, Owner string
			Running          int
		}
	}
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err, out)
	}
	if len(c.Copies) != 1 || c.Copies[0].Copy != "bob" || c.Copies[0].Owner != "bob" || c.Copies[0].Running != 1 {
		t.Errorf("json: %s", out)
	}
}

func TestClassRefusesACopyOnTwoHosts(t *testing.T) {
	hosts := fakeClassHosts(t)
	hosts["qemu+ssh://t@lab3/system"] = hosts["qemu+ssh://t@lab1/system"] // the same libvirtd under two names
	_, _, err := runClass(t, hosts, "--hosts", "qemu+ssh://t@lab1/system,qemu+ssh://t@lab3/system")
	if err == nil || !strings.Contains(err.Error(), `copy "alice" is on two hosts`) {
		t.Errorf("err = %v", err)
	}
}

// down finds each copy of a class on the host that holds it and removes
// it there.
func TestDownRemovesEachCopyOnItsHost(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the copies belong to alice and bob: only root may remove them (--force)")
	}
	t.Setenv(keys.EnvStateDir, t.TempDir())
	hosts := fakeClassHosts(t)
	out, errs, err := runOnHosts(t, hosts, "down", "../../../labs/minimal", "--force", "--hosts", "qemu+ssh://t@lab1/system,qemu+ssh://t@lab2/system")
	if err != nil {
		t.Fatalf("%v\n%s%s", err, out, errs)
	}
	for uri, hv := range hosts {
		if doms, _ := hv.ListDomains(context.Background()); len(doms) != 0 {
			t.Errorf("%s still has %d domains", uri, len(doms))
		}
	}
	for _, want := range []string{"lab minimal-alice removed: 2 domains", "lab minimal-bob removed: 1 domains"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
