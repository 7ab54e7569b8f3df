package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// tcpServer accepts connections on 127.0.0.1 and hands each to handle in
// its own goroutine (which must close it); it returns the server's URL.
// The test's cleanup stops accepting and waits for every handler.
func tcpServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { handle(c) })
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

// rawServer answers every request on 127.0.0.1 with resp verbatim and then
// closes the connection when closeAfter is set.
func rawServer(t *testing.T, resp string, closeAfter bool) string {
	t.Helper()
	return tcpServer(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if _, err := io.WriteString(c, resp); err != nil || closeAfter {
				return
			}
		}
	})
}

func TestResponseParsing(t *testing.T) {
	cases := []struct {
		name       string
		resp       string
		closeAfter bool
		status     int
		bytes      int64
		backend    string
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 16\r\nX-Backend: web-1\r\n\r\nbackend: web-9\r\n", false, 200, 16, "web-1"},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nbackend: \r\n7\r\nweb-2\r\n\r\n0\r\n\r\n", false, 200, 16, "web-2"},
		{"http/1.0 until close", "HTTP/1.0 200 OK\r\n\r\nbackend: web-3\n", true, 200, 15, "web-3"},
		{"no content", "HTTP/1.1 204 No Content\r\nx-backend: web-4\r\n\r\n", false, 204, 0, "web-4"},
		{"interim then final", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", true, 503, 0, ""},
	}
	for _, eng := range engines {
		for _, c := range cases {
			for _, ka := range []bool{false, true} {
				url := rawServer(t, c.resp, c.closeAfter)
				r, err := run(context.Background(), Config{URL: url, Concurrency: 2, MaxRequests: 6, MaxDuration: 5 * time.Second, KeepAlive: ka, Timeout: 2 * time.Second}, eng)
				if err != nil {
					t.Fatal(err)
				}
				if r.Requests != 6 || r.Status[c.status] != 6 || r.Bytes != 6*c.bytes || r.Backends[c.backend] != 6 {
					t.Errorf("engine %d %s keepalive=%v: requests=%d status=%v bytes=%d backends=%v kinds=%v", eng, c.name, ka, r.Requests, r.Status, r.Bytes, r.Backends, r.ErrorKinds)
				}
				// The server closes first when it says so: no request waits for
				// the timeout.
				if r.Latency.Max > 1000 {
					t.Errorf("engine %d %s keepalive=%v: max latency %v ms", eng, c.name, ka, r.Latency.Max)
				}
			}
		}
	}
}

// engines: every way a closed-loop plain-HTTP run can be served.
var engines = []engine{engineAuto, engineConns}

func TestMalformedResponses(t *testing.T) {
	for _, resp := range []string{
		"garbage\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
		"HTTP/1.1 200 OK\r\nX-Backend: web-1\r\n", // closed in the headers
		"", // closed without answering
	} {
		for _, eng := range engines {
			url := rawServer(t, resp, true)
			r, err := run(context.Background(), Config{URL: url, Concurrency: 1, MaxRequests: 2, MaxDuration: 5 * time.Second, Timeout: time.Second}, eng)
			if err != nil {
				t.Fatal(err)
			}
			if r.Errors != 2 || r.OK != 0 || r.Requests != 2 || r.ErrorKinds["timeout"] != 0 {
				t.Errorf("engine %d %q: ok=%d errors=%d kinds=%v", eng, resp, r.OK, r.Errors, r.ErrorKinds)
			}
		}
	}
}

// TestKeepAliveReconnects: a server that closes idle connections between
// requests must not turn into errors.
func TestKeepAliveReconnects(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, strings.Repeat("x", 100))
	}))
	srv.Config.IdleTimeout = time.Millisecond
	srv.Start()
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 1, RateRPS: 100, MaxRequests: 20, MaxDuration: 5 * time.Second, KeepAlive: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 20 || r.Errors != 0 {
		t.Errorf("ok=%d errors=%d kinds=%v", r.OK, r.Errors, r.ErrorKinds)
	}
}

// silentServer accepts connections and never answers until the test ends.
func silentServer(t *testing.T) string {
	t.Helper()
	done := make(chan struct{})
	url := tcpServer(t, func(c net.Conn) { <-done; c.Close() })
	t.Cleanup(func() { close(done) }) // runs before tcpServer's cleanup waits
	return url
}

func TestTimeouts(t *testing.T) {
	url := silentServer(t)
	for _, eng := range engines {
		start := time.Now()
		r, err := run(context.Background(), Config{URL: url, Concurrency: 2, MaxRequests: 4, MaxDuration: 10 * time.Second, Timeout: 100 * time.Millisecond}, eng)
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != 4 || r.ErrorKinds["timeout"] != 4 || r.Incomplete != 0 {
			t.Errorf("engine %d: errors=%d kinds=%v incomplete=%d", eng, r.Errors, r.ErrorKinds, r.Incomplete)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("engine %d: 4 timeouts of 100 ms took %v", eng, d)
		}
	}
}

// TestRunEndCutsRequests: requests still waiting at MaxDuration are
// incomplete, not errors, and the run ends on time.
func TestRunEndCutsRequests(t *testing.T) {
	url := silentServer(t)
	for _, eng := range engines {
		r, err := run(context.Background(), Config{URL: url, Concurrency: 3, MaxDuration: 200 * time.Millisecond}, eng)
		if err != nil {
			t.Fatal(err)
		}
		if r.Requests != 0 || r.Incomplete != 3 || r.StopReason != "max_duration" || r.ElapsedSec > 0.2 {
			t.Errorf("engine %d: requests=%d incomplete=%d stop=%s elapsed=%v", eng, r.Requests, r.Incomplete, r.StopReason, r.ElapsedSec)
		}
	}
}

// TestCancelWhileWaiting: cancelling the run ends requests in flight; the
// loop at once, the net.Conn clients (no cancel hook, see conn.dial) at
// their timeout.
func TestCancelWhileWaiting(t *testing.T) {
	url := silentServer(t)
	for _, eng := range engines {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		start := time.Now()
		r, err := run(ctx, Config{URL: url, Concurrency: 2, MaxDuration: time.Minute, Timeout: 2 * time.Second}, eng)
		took := time.Since(start)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if eng == engineAuto && took > time.Second {
			t.Errorf("cancel took %v", took)
		}
		if r.StopReason != "canceled" || r.Requests != 0 || r.Incomplete != 2 {
			t.Errorf("engine %d: stop=%s requests=%d incomplete=%d", eng, r.StopReason, r.Requests, r.Incomplete)
		}
	}
}

// TestServerClosesKeptConnection: a server that answers with keep-alive
// and then closes anyway makes the client retry on a new connection, not
// count errors.
func TestServerClosesKeptConnection(t *testing.T) {
	url := rawServer(t, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", true)
	for _, eng := range engines {
		r, err := run(context.Background(), Config{URL: url, Concurrency: 2, MaxRequests: 50, MaxDuration: 10 * time.Second, KeepAlive: true}, eng)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK != 50 || r.Errors != 0 {
			t.Errorf("engine %d: ok=%d errors=%d kinds=%v", eng, r.OK, r.Errors, r.ErrorKinds)
		}
	}
}

// TestResetMidBody: a connection reset in the body is an error.
func TestResetMidBody(t *testing.T) {
	url := tcpServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := http.ReadRequest(br); err == nil {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
		}
		c.(*net.TCPConn).SetLinger(0) // close with RST
		c.Close()
	})
	for _, eng := range engines {
		r, err := run(context.Background(), Config{URL: url, Concurrency: 1, MaxRequests: 3, MaxDuration: 10 * time.Second}, eng)
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != 3 || r.OK != 0 || r.ErrorKinds["timeout"] != 0 {
			t.Errorf("engine %d: ok=%d errors=%d kinds=%v", eng, r.OK, r.Errors, r.ErrorKinds)
		}
	}
}

// TestHTTPS: https runs on the net.Conn clients with TLS.
func TestHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", "tls-1")
	}))
	defer srv.Close()
	for _, ka := range []bool{false, true} {
		r, err := Run(context.Background(), Config{URL: srv.URL, Concurrency: 2, MaxRequests: 10, MaxDuration: 10 * time.Second, KeepAlive: ka})
		if err != nil {
			t.Fatal(err)
		}
		if r.OK != 10 || r.Backends["tls-1"] != 10 {
			t.Errorf("keepalive=%v: ok=%d backends=%v kinds=%v", ka, r.OK, r.Backends, r.ErrorKinds)
		}
	}
}

func TestIPv6AndNames(t *testing.T) {
	for _, host := range []string{"[::1]", "localhost"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(strings.Trim(host, "[]"), "0"))
		if err != nil {
			t.Logf("%s: %v (skipped)", host, err)
			continue
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Backend", "v6")
		})}
		go func() { _ = srv.Serve(ln) }()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		r, err := Run(context.Background(), Config{URL: "http://" + host + ":" + port + "/", Concurrency: 2, MaxRequests: 20, MaxDuration: 10 * time.Second})
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if r.OK != 20 || r.Backends["v6"] != 20 {
			t.Errorf("%s: ok=%d backends=%v kinds=%v", host, r.OK, r.Backends, r.ErrorKinds)
		}
	}
}
