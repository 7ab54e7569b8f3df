package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkClosedLoop measures the generator's cost per request against an
// in-process loopback server (server cost included).
func BenchmarkClosedLoop(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "web-1")
		_, _ = w.Write([]byte("<p>backend: web-1</p>\n"))
	}))
	defer srv.Close()
	for _, ka := range []bool{false, true} {
		name := "keepalive=off"
		if ka {
			name = "keepalive=on"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 10, MaxRequests: int64(b.N), MaxDuration: time.Minute, KeepAlive: ka})
			if err != nil || r.Requests != int64(b.N) {
				b.Fatalf("err=%v requests=%d", err, r.Requests)
			}
			b.ReportMetric(r.RPS, "req/s")
		})
	}
}
