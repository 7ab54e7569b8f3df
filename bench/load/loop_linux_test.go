//go:build linux && (amd64 || arm64)

package load

import (
	"context"
	"syscall"
	"testing"
	"time"
)

func TestPlanLoop(t *testing.T) {
	base := Config{Concurrency: 10, MaxDuration: time.Second}
	cases := []struct {
		url    string
		rate   float64
		c      int
		family int // 0: no loop
		loops  int
	}{
		{url: "http://127.0.0.1:8080/", family: syscall.AF_INET, loops: 1},
		{url: "http://10.0.0.1/x?y=1", family: syscall.AF_INET, loops: 1},
		{url: "http://[::1]:80/", family: syscall.AF_INET6, loops: 1},
		{url: "http://127.0.0.1/", c: 2*clientsPerLoop + 1, family: syscall.AF_INET, loops: min(3, runtimeProcs())},
		{url: "https://127.0.0.1/"},           // TLS: net.Conn clients
		{url: "http://127.0.0.1/", rate: 100}, // open loop: net.Conn clients
		{url: "http://[fe80::1%25lo]/"},       // zone: net.Conn clients
	}
	for _, c := range cases {
		cfg := base
		cfg.URL, cfg.RateRPS = c.url, c.rate
		if c.c > 0 {
			cfg.Concurrency = c.c
		}
		tg, err := newTarget(cfg.withDefaults())
		if err != nil {
			t.Fatal(err)
		}
		p := planLoop(context.Background(), cfg, tg)
		switch {
		case c.family == 0 && p != nil:
			t.Errorf("%s rate %v: want no loop, got %+v", c.url, c.rate, p)
		case c.family != 0 && (p == nil || p.family != c.family || p.loops != c.loops):
			t.Errorf("%s: got %+v, want family %d, %d loops", c.url, p, c.family, c.loops)
		}
	}
}

// TestManyClients: more clients than one loop takes spread over several
// loops, and every request is counted once.
func TestManyClients(t *testing.T) {
	srv := twoBackends()
	defer srv.Close()
	for _, ka := range []bool{false, true} {
		r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 2*clientsPerLoop + 3, MaxRequests: 1000, MaxDuration: 20 * time.Second, KeepAlive: ka})
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 1000 || r.OK != 1000 || r.Backends["web-1"] != 500 || r.Latency.Count != 1000 {
			t.Errorf("keepalive=%v: requests=%d ok=%d backends=%v kinds=%v", ka, r.Requests, r.OK, r.Backends, r.ErrorKinds)
		}
	}
}
