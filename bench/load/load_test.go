package load

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// twoBackends answers alternately as web-1 (header) and web-2 (body line),
// like an rr-scheduled VIP would.
func twoBackends() *httptest.Server {
	var n atomic.Int64
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			w.Header().Set("X-Backend", "web-1")
			fmt.Fprintln(w, "<html>hello</html>")
			return
		}
		fmt.Fprintln(w, "<html><body>\n<p>backend: web-2</p>\n</body></html>")
	}))
}

func TestClosedLoopRequestBound(t *testing.T) {
	srv := twoBackends()
	defer srv.Close()
	for _, ka := range []bool{false, true} {
		r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 4, MaxRequests: 400, MaxDuration: 20 * time.Second, KeepAlive: ka})
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 400 || r.OK != 400 || r.Errors != 0 || r.StopReason != "max_requests" || r.Mode != "closed" {
			t.Fatalf("keepalive=%v: got requests=%d ok=%d errors=%d stop=%s", ka, r.Requests, r.OK, r.Errors, r.StopReason)
		}
		if d := cmp.Diff(map[string]int64{"web-1": 200, "web-2": 200}, r.Backends); d != "" {
			t.Errorf("backends (-want +got):\n%s", d)
		}
		if r.Status[200] != 400 || r.Latency.Count != 400 || r.Latency.P50 <= 0 || r.Latency.Max < r.Latency.P99 || r.RPS <= 0 {
			t.Errorf("status/latency: %+v %+v", r.Status, r.Latency)
		}
		var sum int64
		for _, b := range r.Timeline {
			sum += b.OK
		}
		if sum != 400 {
			t.Errorf("timeline sums to %d", sum)
		}
		h, err := r.Hist()
		if err != nil || h.TotalCount() != 400 {
			t.Errorf("histogram round trip: %v count %d", err, h.TotalCount())
		}
	}
}

func TestClosedLoopDurationBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 2, MaxDuration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.StopReason != "max_duration" || r.ElapsedSec > 0.3 || r.Requests < 5 || r.Requests > 40 {
		t.Errorf("stop=%s elapsed=%v requests=%d", r.StopReason, r.ElapsedSec, r.Requests)
	}
}

// stallOnce stalls the request that arrives at or after `after` for `stall`.
func stallOnce(after, stall time.Duration) *httptest.Server {
	start := time.Now()
	var done atomic.Bool
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if time.Since(start) >= after && done.CompareAndSwap(false, true) {
			time.Sleep(stall)
		}
	}))
}

// TestOpenLoopSeesStall shows the point of the open loop: a 300 ms stall
// delays every request due during it, so it shows in p90; a closed loop
// with one client records it as one slow request.
func TestOpenLoopSeesStall(t *testing.T) {
	open := stallOnce(200*time.Millisecond, 300*time.Millisecond)
	defer open.Close()
	ro, err := Run(context.Background(), Config{URL: open.URL, Concurrency: 1, RateRPS: 200, MaxDuration: time.Second, KeepAlive: true})
	if err != nil {
		t.Fatal(err)
	}
	if ro.Mode != "open" || ro.Requests+ro.Incomplete+ro.Unsent < 195 || ro.Requests+ro.Incomplete+ro.Unsent > 201 {
		t.Errorf("open: requests=%d incomplete=%d unsent=%d", ro.Requests, ro.Incomplete, ro.Unsent)
	}
	if ro.Latency.Max < 250 || ro.Latency.P90 < 50 {
		t.Errorf("open loop hid the stall: %+v", ro.Latency)
	}

	closed := stallOnce(200*time.Millisecond, 300*time.Millisecond)
	defer closed.Close()
	rc, err := Run(context.Background(), Config{URL: closed.URL, Concurrency: 1, MaxDuration: time.Second, KeepAlive: true})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Latency.Max < 250 || rc.Latency.P90 > 50 {
		t.Errorf("closed loop: %+v", rc.Latency)
	}
	t.Logf("p90 open=%.1fms closed=%.1fms", ro.Latency.P90, rc.Latency.P90)
}

func TestErrorsAreCounted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 2, MaxRequests: 10, MaxDuration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 10 || r.OK != 0 || r.Status[503] != 10 {
		t.Errorf("503: %+v", r)
	}

	// A port nobody listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, err = Run(context.Background(), Config{URL: "http://" + addr + "/", Concurrency: 1, MaxRequests: 3, MaxDuration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 3 || r.ErrorKinds["connection_refused"] != 3 {
		t.Errorf("refused: errors=%d kinds=%v", r.Errors, r.ErrorKinds)
	}
}

func TestCancelStopsRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r, err := Run(ctx, Config{URL: srv.URL, Concurrency: 2, MaxDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if r.StopReason != "canceled" || r.ElapsedSec > 1 {
		t.Errorf("stop=%s elapsed=%v", r.StopReason, r.ElapsedSec)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{URL: "http://127.0.0.1/", Concurrency: 1, MaxDuration: time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := map[string]func(*Config){
		"no url":       func(c *Config) { c.URL = "" },
		"scheme":       func(c *Config) { c.URL = "ftp://x/" },
		"no host":      func(c *Config) { c.URL = "http:///x" },
		"concurrency":  func(c *Config) { c.Concurrency = 0 },
		"no duration":  func(c *Config) { c.MaxDuration = 0 },
		"too long":     func(c *Config) { c.MaxDuration = 2 * time.Hour },
		"neg requests": func(c *Config) { c.MaxRequests = -1 },
		"neg rate":     func(c *Config) { c.RateRPS = -5 },
	}
	for name, mut := range bad {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: want error", name)
		}
		if _, err := Run(context.Background(), c); err == nil {
			t.Errorf("%s: Run wants error", name)
		}
	}
}

func TestArgsRoundTrip(t *testing.T) {
	want := Config{URL: "http://10.0.0.1/", Concurrency: 10, MaxRequests: 100000, MaxDuration: 20 * time.Second,
		RateRPS: 500, KeepAlive: true, Timeout: 2 * time.Second, Host: "www", Bucket: 100 * time.Millisecond,
		HeaderName: "X-Real", BodyKey: "server", Label: "rs=2"}
	var got Config
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	BindFlags(fs, &got)
	if err := fs.Parse(want.Args()); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmp.AllowUnexported(Config{})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestIdentify(t *testing.T) {
	id := DefaultIdentifier()
	h := http.Header{}
	cases := []struct {
		hdr, body, want string
	}{
		{"web-3", "backend: web-1\n", "web-3"},
		{"", "backend: web-1\n", "web-1"},
		{"", "<html>\n  <p>Backend:   web-2 </p>\n", "web-2"},
		{"", "<h1>backend: rs1</h1>", "rs1"},
		{"", "no name here\nbackends: x\n", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		h.Set("X-Backend", c.hdr)
		if got := id.Identify(h, []byte(c.body)); got != c.want {
			t.Errorf("Identify(%q, %q) = %q, want %q", c.hdr, c.body, got, c.want)
		}
	}
	custom := HeaderOrBody{BodyKey: "server"}
	if got := custom.Identify(http.Header{"X-Backend": {"ignored"}}, []byte("server: rs9\n")); got != "rs9" {
		t.Errorf("custom = %q", got)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	h := NewHistogram()
	for ms := int64(1); ms <= 1000; ms++ {
		if err := h.RecordValue(ms * 1000); err != nil {
			t.Fatal(err)
		}
	}
	l := SummarizeHistogram(h)
	// HDR keeps 3 significant digits: each value within 0.1%.
	for _, c := range []struct{ got, want float64 }{{l.P50, 500}, {l.P90, 900}, {l.P99, 990}, {l.P999, 999}, {l.Max, 1000}, {l.Min, 1}, {l.Mean, 500.5}} {
		if math.Abs(c.got-c.want) > c.want*0.001+0.001 {
			t.Errorf("got %v, want %v (%+v)", c.got, c.want, l)
		}
	}
	enc, err := EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeHistogram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(l, SummarizeHistogram(back)); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if _, err := DecodeHistogram("not base64!"); err == nil {
		t.Error("bad histogram: want error")
	}
	// The JSON result carries the histogram as a string.
	b, _ := json.Marshal(Result{Histogram: enc})
	var r Result
	if err := json.Unmarshal(b, &r); err != nil || r.Histogram != enc {
		t.Errorf("json: %v", err)
	}
}
