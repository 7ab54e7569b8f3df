package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/topology"
)

// bigLab is testLab with n VMs (the extra ones copies of client).
func bigLab(name string, n int) *topology.Lab {
	lab := testLab(name)
	base := lab.VMs[0]
	for i := len(lab.VMs); i < n; i++ {
		v := *base
		v.Name = fmt.Sprintf("vm%d", i)
		v.LibvirtName = name + "-" + v.Name
		v.Hostname = v.Name
		v.NICs = nil
		for j, nic := range base.NICs {
			c := *nic
			c.MAC = fmt.Sprintf("52:54:00:01:%02x:%02x", i, j)
			v.NICs = append(v.NICs, &c)
		}
		lab.VMs = append(lab.VMs, &v)
	}
	return lab
}

// bootRecorder is a WaitSSH whose guests take boot (fake time) to answer
// SSH; it records how many boot at once and when each started.
type bootRecorder struct {
	boot   time.Duration
	mu     sync.Mutex
	now    int
	peak   int
	starts []time.Duration
	t0     time.Time
}

// recordedBoots is up's options with rec as WaitSSH: guests answer SSH
// boot after they start, from now on (fake time).
func recordedBoots(t *testing.T, boot time.Duration) (*bootRecorder, UpOptions) {
	rec := &bootRecorder{boot: boot, t0: time.Now()}
	opts := testOpts()
	opts.LogDir = t.TempDir()
	opts.WaitSSH = rec.wait
	return rec, opts
}

func (r *bootRecorder) wait(ctx context.Context, vm *VMSpec) error {
	r.mu.Lock()
	r.now++
	r.peak = max(r.peak, r.now)
	r.starts = append(r.starts, time.Since(r.t0))
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.now--; r.mu.Unlock() }()
	select {
	case <-time.After(r.boot):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestAdmissionNeverMoreThanK(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hv := fake.New()
		hv.Node.CPUs = 2 // TCG: K = 2
		rec, opts := recordedBoots(t, 40*time.Second)
		var info []string
		var mu sync.Mutex
		opts.Progress = progressFunc(func(s string) { mu.Lock(); info = append(info, s); mu.Unlock() })
		res, err := Up(ctx(), hv, bigLab("lab1", 7), opts)
		if err != nil {
			t.Fatal(err)
		}
		if rec.peak != 2 {
			t.Errorf("peak concurrent boots = %d, want K = 2", rec.peak)
		}
		// Waves of 2, each 40 s: 7 guests take 4 waves.
		if got := time.Since(rec.t0); got != 160*time.Second {
			t.Errorf("up took %v of fake time, want 4 waves of 40s", got)
		}
		for _, vm := range res.VMs {
			if vm.BootSeconds != 40 {
				t.Errorf("%s boot-to-SSH %.1fs, want 40 (time waiting for a slot is not boot time)", vm.Name, vm.BootSeconds)
			}
		}
		if !slices.ContainsFunc(info, func(s string) bool {
			return strings.Contains(s, "up to 2 guests boot at once (TCG, 2 host CPUs)")
		}) {
			t.Errorf("no admission line in %q", info)
		}
		// A heartbeat said what up waits for, with the bounds.
		if !slices.ContainsFunc(info, func(s string) bool {
			return strings.Contains(s, "waiting for SSH on") && strings.Contains(s, "waiting for a boot slot") && strings.Contains(s, "restarted after 5m0s")
		}) {
			t.Errorf("no heartbeat line in %q", info)
		}
	})
}

func TestAdmissionTimeSliceAdmitsNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hv := fake.New()
		rec, opts := recordedBoots(t, 100*time.Second)
		opts.BootParallel = 1
		opts.BootSlice = 30 * time.Second
		if _, err := Up(ctx(), hv, testLab("lab1"), opts); err != nil {
			t.Fatal(err)
		}
		// One slot: the slow first guest lets the next start after its
		// 30 s slice, and so on.
		slices.Sort(rec.starts)
		want := []time.Duration{0, 30 * time.Second, 60 * time.Second}
		if !slices.Equal(rec.starts, want) {
			t.Errorf("boots started at %v, want %v", rec.starts, want)
		}
	})
}

func TestAdmissionReleaseAdmitsNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(2, time.Hour)
		r1, _ := a.admit(ctx(), 0)
		r2, _ := a.admit(ctx(), 0)
		got := make(chan time.Duration)
		t0 := time.Now()
		go func() {
			r3, err := a.admit(ctx(), 0)
			if err != nil {
				t.Error(err)
				return
			}
			got <- time.Since(t0)
			r3()
		}()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		select {
		case <-got:
			t.Fatal("a third guest was admitted while two boot")
		default:
		}
		r1()
		r1() // twice frees once
		if d := <-got; d != 10*time.Second {
			t.Errorf("admitted after %v, want when the first answered (10s)", d)
		}
		r2()
		// Both slots free again: two admits do not block.
		cctx, cancel := context.WithTimeout(ctx(), time.Second)
		defer cancel()
		for range 2 {
			if _, err := a.admit(cctx, 0); err != nil {
				t.Fatalf("slot not freed: %v", err)
			}
		}
	})
}

func TestDefaultBootParallel(t *testing.T) {
	for _, c := range []struct {
		typ  string
		cpus int
		want int
	}{{"qemu", 2, 2}, {"qemu", 0, 1}, {"qemu", 16, 16}, {"kvm", 2, 6}, {"kvm", 0, 4}} {
		if got := DefaultBootParallel(c.typ, c.cpus); got != c.want {
			t.Errorf("DefaultBootParallel(%s, %d) = %d, want %d", c.typ, c.cpus, got, c.want)
		}
	}
}

// progressFunc records Info lines.
type progressFunc func(string)

func (f progressFunc) VM(string, Phase, error) {}
func (f progressFunc) Info(s string)           { f(s) }

// --timeout bounds a boot from its start: the last of three guests waits
// 80 s for its slot and still has its whole 60 s.
func TestBootTimeoutExcludesTheWaitForASlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, opts := recordedBoots(t, 40*time.Second)
		opts.BootParallel = 1
		opts.BootTimeout = time.Minute
		if _, err := Up(ctx(), fake.New(), testLab("lab1"), opts); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(rec.t0); got != 120*time.Second {
			t.Errorf("up took %v, want three boots of 40s in a row", got)
		}
		// A boot past the bound fails.
		rec = &bootRecorder{boot: 2 * time.Minute, t0: time.Now()}
		opts.WaitSSH = rec.wait
		_, err := Up(ctx(), fake.New(), testLab("lab2"), opts)
		if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
			t.Errorf("err = %v, want the 1m boot bound", err)
		}
	})
}

// A freed slot goes to the waiting guest of lowest rank, whatever the
// order they queued in.
func TestAdmissionByRank(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newAdmission(1, time.Hour)
		hold, _ := a.admit(ctx(), 0)
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		for _, rank := range []int{3, 1, 2, 1} {
			wg.Go(func() {
				r, err := a.admit(ctx(), rank)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, rank)
				mu.Unlock()
				time.Sleep(time.Second)
				r()
			})
			synctest.Wait() // queued in this order
		}
		hold()
		wg.Wait()
		if want := []int{1, 1, 2, 3}; !slices.Equal(order, want) {
			t.Errorf("admitted ranks %v, want %v", order, want)
		}
	})
}

// Configure starts while guests still boot: it reaches the first-ranked
// VM as soon as that one answers SSH, long before the last one does, and
// up returns only when both are done.
func TestConfigureRunsWhileLaterVMsBoot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hv := fake.New()
		rec, opts := recordedBoots(t, 40*time.Second)
		opts.BootParallel = 1
		opts.BootFirst = func(vm string) int {
			if vm == "web" {
				return 0 // boots first although the lab lists it last
			}
			return 1
		}
		var reached map[string]time.Duration
		opts.Configure = func(ctx context.Context, _ *State, ready func(context.Context, string) error) error {
			reached = map[string]time.Duration{}
			for _, vm := range []string{"web", "client", "storage"} {
				if err := ready(ctx, vm); err != nil {
					return err
				}
				reached[vm] = time.Since(rec.t0)
			}
			return nil
		}
		if _, err := Up(ctx(), hv, testLab("lab1"), opts); err != nil {
			t.Fatal(err)
		}
		if reached["web"] != 40*time.Second {
			t.Errorf("web reached after %v, want 40s (it boots first, configured while the others boot)", reached["web"])
		}
		if reached["storage"] != 120*time.Second {
			t.Errorf("storage reached after %v, want 120s (third in line)", reached["storage"])
		}
	})
}

// A failed boot ends Configure's waits: up reports the boot, not a hang.
func TestConfigureWaitEndsWhenABootFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hv := fake.New()
		opts := testOpts()
		opts.LogDir = t.TempDir()
		opts.WaitSSH = func(ctx context.Context, vm *VMSpec) error {
			if vm.Name == "storage" {
				return fmt.Errorf("no route to host")
			}
			return nil
		}
		opts.Configure = func(ctx context.Context, _ *State, ready func(context.Context, string) error) error {
			return ready(ctx, "storage")
		}
		_, err := Up(ctx(), hv, testLab("lab1"), opts)
		if err == nil || !strings.Contains(err.Error(), "VM storage") || !strings.Contains(err.Error(), "no route to host") {
			t.Fatalf("err = %v, want storage's boot failure", err)
		}
	})
}
