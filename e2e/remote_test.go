//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/engine"
)

// labRemote is a 1-VM lab driven over qemu+ssh, with a RAID 1 so that
// its roles and verify have work to do through the jump.
func labRemote(image string) string {
	return fmt.Sprintf(`
lab "rmt" {
  accel = "tcg"
  image = %q
}

network "int" {
  mode = "isolated"
  cidr = "10.231.0.0/24"
}

vm "node" {
  vcpus  = 1
  memory = "448MiB"
  nic "int" {
    ip = cidrhost(network.int.cidr, 10)
  }

  raid "data" {
    level       = 1
    members     = 2
    member_size = "64MiB"
    filesystem  = "ext4"
    mount       = "/srv/raid"
  }
}
`, image)
}

// remoteEnv is what sandbox/remote.sh up made: the client namespace and
// the URI of libvirt through the sshd inside the sandbox.
type remoteEnv struct {
	ns, dir, uri string
}

func remoteSetup(t *testing.T) remoteEnv {
	t.Helper()
	r := remoteEnv{ns: os.Getenv("LABCTL_CLIENT_NETNS"), dir: os.Getenv("LABCTL_REMOTE_DIR")}
	if r.ns == "" {
		r.ns = "labctl-client"
	}
	if r.dir == "" {
		r.dir = "/run/labctl-remote"
	}
	b, err := os.ReadFile(filepath.Join(r.dir, "uri"))
	if err != nil {
		t.Skipf("no remote client set up (%v): run sandbox/remote.sh up on the host first (sandbox/e2e.sh does)", err)
	}
	r.uri = strings.TrimSpace(string(b))
	return r
}

// inClient runs argv in the client namespace.
func (r remoteEnv) inClient(ctx context.Context, argv ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", r.ns}, argv...)...)
	cmd.Env = append(os.Environ(), "LABCTL_STATE_DIR="+e.stateDir)
	return cmd
}

// labctl runs labctl in the client namespace against the remote URI.
func (r remoteEnv) labctl(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	args = append([]string{args[0], "-c", r.uri}, args[1:]...)
	cmd := r.inClient(ctx, append([]string{e.bin}, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	t.Logf("[%s] labctl %s (%.1fs)\n%s%s", r.ns, strings.Join(args, " "), time.Since(start).Seconds(), indent(errb.String()), indent(out.String()))
	return out.String(), err
}

func (r remoteEnv) mustLabctl(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := r.labctl(t, ctx, args...)
	if err != nil {
		t.Fatalf("labctl %s (in %s): %v", strings.Join(args, " "), r.ns, err)
	}
	return out
}

// TestRemote drives a lab as a remote client: labctl runs in a namespace
// that reaches nothing but an sshd in the sandbox (sandbox/remote.sh), so
// libvirt and the guests' SSH both go through that one SSH connection. The
// lab runs as a class of one copy ("r1"): the later commands find the copy
// through libvirt's metadata on the remote host, as a teacher's would.
func TestRemote(t *testing.T) {
	r := remoteSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	l := writeLab(t, "rmt", labRemote(e.image))
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		_, _ = labctl(t, c, "down", "--name", "rmt") // locally, whatever the client did
	})
	mustLabctl(t, ctx, "down", "--name", "rmt") // leftovers of an aborted run

	// The client has no route to the lab's networks (checked again below
	// on the addresses the VM really has).
	if out, err := r.inClient(ctx, "ip", "route", "get", "10.231.0.10").CombinedOutput(); err == nil {
		t.Fatalf("client namespace %s has a route to the lab network: %s", r.ns, out)
	}

	res := func() engine.UpResult {
		out := r.mustLabctl(t, ctx, "up", "--yes", "--names", "r1", "--timeout", "15m", "-o", "json", l.dir)
		var res engine.UpResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("up output is not JSON: %v\n%s", err, out)
		}
		return res
	}()
	if len(res.VMs) != 1 || res.VMs[0].Action != engine.ActCreate || res.VMs[0].BootSeconds <= 0 {
		t.Fatalf("up result: %+v", res)
	}
	t.Logf("FIGURE remote-up boot-to-ssh %.1fs, up %.1fs", res.VMs[0].BootSeconds, res.Seconds)
	if n := len(owned(t, "rmt-r1").Domains); n != 1 || res.Lab != "rmt-r1" {
		t.Fatalf("libvirt holds %d domains of copy rmt-r1 (up made %q), want 1", n, res.Lab)
	}

	out := r.mustLabctl(t, ctx, "ssh", "-l", l.dir, "node", "--", "echo jumped-$((6*7)); hostname -I")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || lines[0] != "jumped-42" {
		t.Fatalf("labctl ssh output %q, want jumped-42 and the VM's addresses", out)
	}
	addrs := strings.Fields(lines[1])
	if len(addrs) < 2 {
		t.Fatalf("VM addresses %q: want management and int", lines[1])
	}

	// The jump is what made that work: from the client namespace none of
	// the VM's addresses is reachable, while from the sandbox (the libvirt
	// host) its sshd answers on the management address (the isolated
	// network gives the host no address, so not there).
	hostReached := 0
	for _, a := range addrs {
		target := net.JoinHostPort(a, "22")
		probe := r.inClient(ctx, "timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/"+a+"/22")
		if b, err := probe.CombinedOutput(); err == nil {
			t.Errorf("direct TCP connect to %s from %s succeeded: the client is not isolated", target, r.ns)
		} else {
			t.Logf("direct connect to %s from %s fails as it must: %v %s", target, r.ns, err, strings.TrimSpace(string(b)))
		}
		if c, err := net.DialTimeout("tcp", target, 10*time.Second); err != nil {
			t.Logf("from the libvirt host, %s: %v", target, err)
		} else {
			c.Close()
			hostReached++
		}
	}
	if hostReached == 0 {
		t.Errorf("none of the VM's addresses %q answers from the libvirt host either: the isolation proves nothing", addrs)
	}

	// verify reaches the guest through the jump too: the RAID the roles
	// built (over the jump, during up) is checked from the client.
	vout := r.mustLabctl(t, ctx, "verify", "-o", "json", l.dir)
	var class struct {
		Copies []struct {
			Copy   string `json:"copy"`
			Result struct {
				Checks []struct {
					Name string `json:"check"`
					OK   bool   `json:"ok"`
				} `json:"checks"`
			} `json:"result"`
		} `json:"copies"`
	}
	if err := json.Unmarshal([]byte(vout), &class); err != nil || len(class.Copies) != 1 || class.Copies[0].Copy != "r1" || len(class.Copies[0].Result.Checks) == 0 {
		t.Fatalf("verify output (%v):\n%s", err, vout)
	}
	for _, c := range class.Copies[0].Result.Checks {
		if !c.OK {
			t.Errorf("verify check %q failed through the jump:\n%s", c.Name, vout)
		}
	}

	if out := r.mustLabctl(t, ctx, "status", l.dir); !strings.Contains(out, "node") {
		t.Errorf("status does not list the VM:\n%s", out)
	}
	if log, err := os.ReadFile(filepath.Join(r.dir, "sshd.log")); err != nil || !strings.Contains(string(log), "Accepted publickey for root") {
		t.Errorf("sshd in the sandbox logged no root login (%v)", err)
	}

	r.mustLabctl(t, ctx, "down", l.dir)
	assertGone(t, "rmt-r1", false)
}
