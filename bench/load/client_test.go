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

// rawServer answers every request on 127.0.0.1 with resp verbatim and then
// closes the connection when closeAfter is set.
func rawServer(t *testing.T, resp string, closeAfter bool) string {
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
			wg.Go(func() {
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
	})
	return "http://" + ln.Addr().String() + "/"
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
	for _, c := range cases {
		for _, ka := range []bool{false, true} {
			url := rawServer(t, c.resp, c.closeAfter)
			r, err := Run(context.Background(), Config{URL: url, Concurrency: 2, MaxRequests: 6, MaxDuration: 5 * time.Second, KeepAlive: ka, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.Requests != 6 || r.Status[c.status] != 6 || r.Bytes != 6*c.bytes || r.Backends[c.backend] != 6 {
				t.Errorf("%s keepalive=%v: requests=%d status=%v bytes=%d backends=%v kinds=%v", c.name, ka, r.Requests, r.Status, r.Bytes, r.Backends, r.ErrorKinds)
			}
			// The server closes first when it says so: no request waits for
			// the timeout.
			if r.Latency.Max > 1000 {
				t.Errorf("%s keepalive=%v: max latency %v ms", c.name, ka, r.Latency.Max)
			}
		}
	}
}

func TestMalformedResponses(t *testing.T) {
	for _, resp := range []string{
		"garbage\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
	} {
		url := rawServer(t, resp, true)
		r, err := Run(context.Background(), Config{URL: url, Concurrency: 1, MaxRequests: 2, MaxDuration: 5 * time.Second, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != 2 || r.OK != 0 {
			t.Errorf("%q: ok=%d errors=%d", resp, r.OK, r.Errors)
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
