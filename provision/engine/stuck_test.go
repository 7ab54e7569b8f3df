package engine

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/labctl/labctl/provision/libvirt/fake"
)

// fakeConsole is a guest's console: WaitSSH runs one script per boot
// attempt, writing to the console log as a booting guest would.
type fakeConsole struct {
	mu       sync.Mutex
	attempts map[string]int
	// script returns nil when the attempt reaches SSH.
	script func(ctx context.Context, vm *VMSpec, attempt int, log *os.File) error
}

func (c *fakeConsole) wait(ctx context.Context, vm *VMSpec) error {
	c.mu.Lock()
	c.attempts[vm.Name]++
	n := c.attempts[vm.Name]
	c.mu.Unlock()
	// A start truncates the log (append="off").
	f, err := os.Create(vm.ConsoleLog)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.script(ctx, vm, n, f)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func recordInfo(opts *UpOptions) func() []string {
	var mu sync.Mutex
	var info []string
	opts.Progress = progressFunc(func(s string) { mu.Lock(); info = append(info, s); mu.Unlock() })
	return func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(info) }
}

func hasLine(lines []string, parts ...string) bool {
	return slices.ContainsFunc(lines, func(l string) bool {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				return false
			}
		}
		return true
	})
}

// A guest whose ssh.service fails in a loop (a starved boot) is destroyed
// and started again; the second boot reaches SSH and up succeeds.
func TestStuckBootIsRestarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hv := fake.New()
		opts := testOpts()
		opts.LogDir = t.TempDir()
		opts.BootParallel = 3 // web boots from the start
		info := recordInfo(&opts)
		con := &fakeConsole{attempts: map[string]int{}, script: func(ctx context.Context, vm *VMSpec, n int, log *os.File) error {
			log.WriteString("[    0.812345] ACPI Error: AE_AML_LOOP_TIMEOUT\n[  OK  ] Reached target Basic System.\n")
			if vm.Name != "web" || n > 1 {
				if err := sleepCtx(ctx, 20*time.Second); err != nil {
					return err
				}
				log.WriteString("web login: ")
				return nil
			}
			for {
				log.WriteString("[FAILED] Failed to start ssh.service - OpenBSD Secure Shell server.\n")
				if err := sleepCtx(ctx, 15*time.Second); err != nil {
					return err
				}
			}
		}}
		opts.WaitSSH = con.wait
		t0 := time.Now()
		res, err := Up(ctx(), hv, testLab("lab1"), opts)
		if err != nil {
			t.Fatal(err)
		}
		if n := hv.Calls["DestroyDomain:lab1-web"]; n != 1 {
			t.Errorf("web destroyed %d times, want 1", n)
		}
		if n := hv.Calls["StartDomain:lab1-web"]; n != 2 {
			t.Errorf("web started %d times, want 2", n)
		}
		for _, vm := range res.VMs {
			want := 0
			if vm.Name == "web" {
				want = 1
			}
			if vm.Restarts != want {
				t.Errorf("%s restarts %d, want %d", vm.Name, vm.Restarts, want)
			}
		}
		// The 4th failure (45 s) is seen at the next 2 s watch tick.
		if took := time.Since(t0); took < 45*time.Second || took > 70*time.Second {
			t.Errorf("up took %v, want the restart soon after the 4th failure plus a 20 s boot", took)
		}
		if !hasLine(info(), "web: the console repeats a failure (4 times): [FAILED] Failed to start ssh.service", "restarting it (attempt 2 of 2)") {
			t.Errorf("no restart line in %q", info())
		}
	})
}

// A guest that goes silent on every attempt fails up after the bounded
// retries, with the reason, the stage it reached and its console tail.
func TestSilentBootFailsWithStageAndTail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hv := fake.New()
		opts := testOpts()
		opts.LogDir = t.TempDir()
		con := &fakeConsole{attempts: map[string]int{}, script: func(ctx context.Context, vm *VMSpec, n int, log *os.File) error {
			if vm.Name != "web" {
				log.WriteString("web login: ")
				return nil
			}
			log.WriteString("/scripts/local-bottom/mdadm: rm: not found\n[    3.1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!\n")
			<-ctx.Done()
			return ctx.Err()
		}}
		opts.WaitSSH = con.wait
		t0 := time.Now()
		_, err := Up(ctx(), hv, testLab("lab1"), opts)
		if err == nil {
			t.Fatal("up succeeded with a guest that never boots")
		}
		for _, want := range []string{
			"VM web", "the console has been silent for 3m0s (at initramfs)",
			"the boot reached: initramfs", "attempt 1: the console has been silent",
			"last console lines of web", "soft lockup - CPU#0 stuck",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q:\n%v", want, err)
			}
		}
		if n := hv.Calls["DestroyDomain:lab1-web"]; n != 1 {
			t.Errorf("web destroyed %d times, want 1 (Retries)", n)
		}
		// Two attempts of 180 s silence (each seen at a 2 s tick).
		if took := time.Since(t0); took < 360*time.Second || took > 370*time.Second {
			t.Errorf("up failed after %v, want two silent bounds", took)
		}
	})
}

// labctl's first boot (no cloud-init) has its own console line.
func TestBootWatchFirstbootStage(t *testing.T) {
	t0 := time.Unix(1000, 0)
	w := newBootWatch(DefaultBootBounds("qemu"), t0)
	w.feed(t0, []byte("labctl-firstboot: labctl-web-1-0123456789ab: network, user and host key from the seed\n"), true)
	if w.stage != StageCloudInit {
		t.Errorf("stage %s, want %s", w.stage, StageCloudInit)
	}
}

func TestBootWatchStages(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	w := newBootWatch(DefaultBootBounds("qemu"), t0)
	steps := []struct {
		sec  int
		out  string
		want Stage
	}{
		{1, "", StageNone},
		{2, "[    0.000000] Linux version 6.1.0-27-cloud-amd64\n", StageKernel},
		{5, "/scripts/local-bottom/mdadm: rm: not found\n", StageInitramfs},
		{9, "[ TIME ] Timed out waiting for device \x1b[0;1;39mdev-ttyS0.device\x1b[0m - /dev/ttyS0.\n", StageSystemd},
		{12, "Cloud-init v. 22.4.2 running 'init-local' at Wed, 02 Dec 2026 16:00:01 +0000. Up 12.1 seconds.\n", StageCloudInit},
		{20, "Cloud-init v. 22.4.2 running 'init' at Wed, 02 Dec 2026 16:00:09 +0000. Up 20.3 seconds.\nci-info: ++++++++Net device info++++++++\n", StageNetwork},
		{30, "\r\nDebian GNU/Linux 12 web-1 ttyS0\r\n\r\nweb-1 login: ", StageLogin},
	}
	for _, s := range steps {
		w.feed(at(s.sec), []byte(s.out), true)
		if w.stage != s.want {
			t.Errorf("after %q: stage %s, want %s", s.out, w.stage, s.want)
		}
		if r := w.stuck(at(s.sec)); r != "" {
			t.Errorf("a progressing boot is stuck at %ds: %s", s.sec, r)
		}
	}
	// Once sshd runs (here: the login prompt is up), neither silence nor
	// a slow handshake is a stuck boot: --timeout bounds the wait.
	if r := w.stuck(at(30 + 3600)); r != "" {
		t.Errorf("a booted guest whose SSH is slow counts as stuck: %q", r)
	}

	// Without a readable console (libvirt on another host) there is no
	// evidence of a stuck boot: no restart, --timeout bounds it.
	remote := newBootWatch(DefaultBootBounds("kvm"), t0)
	remote.feed(at(60), nil, false)
	if r := remote.stuck(at(3600)); r != "" {
		t.Errorf("remote boot restarted without evidence: %s", r)
	}

	// A quiet kernel prints nothing for a while: silence counts from the
	// first output, the stall bound from the start.
	mute := newBootWatch(DefaultBootBounds("qemu"), t0)
	mute.feed(at(1), nil, true)
	if r := mute.stuck(at(299)); r != "" {
		t.Errorf("a boot with no console output yet is stuck before the stall bound: %s", r)
	}
	if r := mute.stuck(at(300)); !strings.Contains(r, "no boot progress for 5m0s") {
		t.Errorf("mute reason %q", r)
	}

	// A console that went quiet before sshd started is a stuck boot.
	quiet := newBootWatch(DefaultBootBounds("qemu"), t0)
	quiet.feed(at(1), []byte("Cloud-init v. 22.4.2 running 'init' at Wed, 02 Dec 2026 16:00:09 +0000. Up 20.3 seconds.\n"), true)
	if r := quiet.stuck(at(1 + 180)); !strings.Contains(r, "silent for 3m0s (at network up)") {
		t.Errorf("quiet reason %q", r)
	}

	// Repeats count a failure whatever its timestamps.
	loop := newBootWatch(DefaultBootBounds("qemu"), t0)
	for i := range 3 {
		loop.feed(at(i), []byte("[   1"+string(rune('0'+i))+".5] systemd-journald.service: Watchdog timeout (limit 3min)!\n"), true)
	}
	if r := loop.stuck(at(3)); r != "" {
		t.Errorf("stuck after 3 repeats: %s", r)
	}
	loop.feed(at(4), []byte("[   19.5] systemd-journald.service: Watchdog timeout (limit 3min)!\n"), true)
	if r := loop.stuck(at(4)); !strings.Contains(r, "repeats a failure (4 times)") {
		t.Errorf("repeat reason %q", r)
	}
}
