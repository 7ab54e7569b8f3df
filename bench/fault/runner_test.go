package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/bench/load"
)

// stoppable is a web server on a fixed 127.0.0.1 port that the fake
// injector stops (outage) and starts again (revert).
type stoppable struct {
	t    *testing.T
	addr string
	mu   sync.Mutex
	srv  *http.Server
}

func newStoppable(t *testing.T) *stoppable {
	s := &stoppable{t: t, addr: "127.0.0.1:0"}
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	return s
}

func (s *stoppable) start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.addr = ln.Addr().String()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "web-1")
	})}
	go func() { _ = srv.Serve(ln) }()
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	return nil
}

func (s *stoppable) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// serverInjector stops the server on Inject and starts it on Revert.
type serverInjector struct {
	s                *stoppable
	injects, reverts int
	injectErr        error
}

func (i *serverInjector) Inject(ctx context.Context, f Fault) error {
	i.injects++
	i.s.stop()
	return i.injectErr
}

func (i *serverInjector) Revert(ctx context.Context, f Fault) error {
	i.reverts++
	return i.s.start()
}

func TestRunMeasuresOutageWindow(t *testing.T) {
	s := newStoppable(t)
	inj := &serverInjector{s: s}
	url := "http://" + s.addr + "/"
	hold := 600 * time.Millisecond
	out, err := Run(context.Background(), inj, Scenario{
		Fault:  Fault{Kind: "stop_web", Target: "web-1"},
		Probe:  ProberConfig{URL: url, Timeout: 200 * time.Millisecond},
		Load:   &load.Config{URL: url, Concurrency: 4, RateRPS: 200, Timeout: 200 * time.Millisecond, Bucket: 100 * time.Millisecond},
		Before: 400 * time.Millisecond, Hold: hold, After: 400 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if inj.injects != 1 || inj.reverts != 1 || len(out.Events) != 2 {
		t.Fatalf("injects=%d reverts=%d events=%v", inj.injects, inj.reverts, out.Events)
	}
	a := out.During
	// The server is down from Inject to the end of Revert; the measured
	// window adds up to one probe interval on each side (plus scheduling
	// delays on a busy machine).
	down := out.Events[1].End.Sub(out.Events[0].Start).Seconds()
	if a.Outage < down-0.01 || a.Outage > down+0.4 {
		t.Errorf("outage %.3f s, server down %.3f s", a.Outage, down)
	}
	if a.Failed < 8 || a.BaselineFailed != 0 || a.Recovered {
		// Until = Revert start: the server is still down then.
		t.Errorf("during: failed=%d baseline=%d recovered=%v", a.Failed, a.BaselineFailed, a.Recovered)
	}
	r := out.Revert
	if r == nil || !r.Recovered || r.Failed > 1 {
		t.Errorf("after revert: %+v", r)
	}
	if out.Load == nil || out.Load.OK == 0 || out.Load.Errors == 0 || out.Load.ErrorKinds["connection_refused"] == 0 {
		t.Errorf("load during the fault: %+v", out.Load)
	}
	if n := len(out.Probes); n < 25 || n > 40 {
		t.Errorf("%d probes for ~1.4 s at 50 ms", n)
	}
	t.Logf("outage %.3f s (server down %.3f s), failed probes %d, recovery after revert %.3f s", a.Outage, down, a.Failed, r.Recovery)
}

// rrFront is a round-robin "director" over named backends; a dead backend
// resets connections until the "health check" removes it after detect.
type rrFront struct {
	mu       sync.Mutex
	rotation []string
	dead     map[string]bool
	next     int
	detect   time.Duration
	timers   []*time.Timer
}

func (f *rrFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	b := f.rotation[f.next%len(f.rotation)]
	f.next++
	dead := f.dead[b]
	f.mu.Unlock()
	if dead {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
		return
	}
	fmt.Fprintf(w, "<p>backend: %s</p>\n", b)
}

func (f *rrFront) Inject(ctx context.Context, ft Fault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dead[ft.Target] = true
	f.timers = append(f.timers, time.AfterFunc(f.detect, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		var keep []string
		for _, b := range f.rotation {
			if b != ft.Target {
				keep = append(keep, b)
			}
		}
		f.rotation = keep
	}))
	return nil
}

func (f *rrFront) Revert(ctx context.Context, ft Fault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.dead, ft.Target)
	f.rotation = append(f.rotation, ft.Target)
	return nil
}

func TestRunDetectsBackendSetChange(t *testing.T) {
	front := &rrFront{rotation: []string{"web-1", "web-2"}, dead: map[string]bool{}, detect: 300 * time.Millisecond}
	srv := &http.Server{Handler: front}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	out, err := Run(context.Background(), front, Scenario{
		Fault:  Fault{Kind: "stop_web", Target: "web-2"},
		Probe:  ProberConfig{URL: "http://" + ln.Addr().String() + "/", Timeout: 200 * time.Millisecond},
		Before: 500 * time.Millisecond, Hold: 1500 * time.Millisecond, After: 1200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	a := out.During
	if !a.BackendsChange || !cmp.Equal(a.BackendsBefore, []string{"web-1", "web-2"}) || !cmp.Equal(a.BackendsAfter, []string{"web-1"}) {
		t.Fatalf("backends %v → %v", a.BackendsBefore, a.BackendsAfter)
	}
	if a.BackendChange < 0.25 || a.BackendChange > 0.5 || a.Failed < 2 || a.Failed > 6 || !a.Recovered {
		t.Errorf("change after %.3f s (detect 0.3 s), failed %d, recovered %v", a.BackendChange, a.Failed, a.Recovered)
	}
	r := out.Revert
	if r == nil || !r.BackendsChange || !cmp.Equal(r.BackendsAfter, []string{"web-1", "web-2"}) || r.Failed != 0 {
		t.Errorf("after revert: %+v", r)
	}
	t.Logf("backend set changed %.3f s after the fault, %d failed probes", a.BackendChange, a.Failed)
}

func TestRunRevertsAfterInjectErrorAndCancel(t *testing.T) {
	s := newStoppable(t)
	inj := &serverInjector{s: s, injectErr: errors.New("virsh: boom")}
	out, err := Run(context.Background(), inj, Scenario{
		Fault:  Fault{Kind: "destroy_vm", Target: "web-1"},
		Probe:  ProberConfig{URL: "http://" + s.addr + "/"},
		Before: 100 * time.Millisecond, Hold: time.Second,
	})
	if err == nil || inj.reverts != 1 || len(out.Events) != 2 || out.Events[0].Err != "virsh: boom" {
		t.Errorf("err=%v reverts=%d events=%+v", err, inj.reverts, out.Events)
	}

	inj = &serverInjector{s: s}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Run(ctx, inj, Scenario{
		Fault:  Fault{Kind: "destroy_vm", Target: "web-1"},
		Probe:  ProberConfig{URL: "http://" + s.addr + "/"},
		Before: 100 * time.Millisecond, Hold: time.Minute,
	})
	if !errors.Is(err, context.DeadlineExceeded) || inj.reverts != 1 || time.Since(start) > 5*time.Second {
		t.Errorf("cancel during hold: err=%v reverts=%d", err, inj.reverts)
	}
	if _, err := Run(context.Background(), inj, Scenario{Probe: ProberConfig{URL: "http://" + s.addr + "/"}}); err == nil {
		t.Error("zero hold: want error")
	}
}
