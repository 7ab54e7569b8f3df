package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"
)

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }

// BenchmarkClosedLoop measures the generator's cost per request against an
// in-process loopback server (server cost included), on the epoll loop
// ("auto") and on net.Conn clients ("conns").
func BenchmarkClosedLoop(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "web-1")
		_, _ = w.Write([]byte("<p>backend: web-1</p>\n"))
	}))
	defer srv.Close()
	for _, eng := range []struct {
		name string
		e    engine
	}{{"auto", engineAuto}, {"conns", engineConns}} {
		for _, ka := range []bool{false, true} {
			name := eng.name + "/keepalive=off"
			if ka {
				name = eng.name + "/keepalive=on"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				r, err := run(context.Background(), Config{URL: srv.URL, Concurrency: 10, MaxRequests: int64(b.N), MaxDuration: time.Minute, KeepAlive: ka}, eng.e)
				if err != nil || r.Requests != int64(b.N) || r.OK != int64(b.N) {
					b.Fatalf("err=%v requests=%d ok=%d", err, r.Requests, r.OK)
				}
				b.ReportMetric(r.RPS, "req/s")
			})
		}
	}
}
