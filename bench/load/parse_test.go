package load

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// parseAll feeds resp to a fresh parser in pieces of size step (0 = all at
// once), then signals EOF if closed and the parser still wants bytes.
func parseAll(p *parser, resp string, step int, closed bool) (used int, err error) {
	p.reset()
	b := []byte(resp)
	for len(b) > 0 && !p.done() {
		n := len(b)
		if step > 0 && step < n {
			n = step
		}
		u, err := p.feed(b[:n])
		used += u
		if err != nil {
			return used, err
		}
		b = b[u:]
	}
	if !p.done() && closed {
		return used, p.eof()
	}
	return used, nil
}

func TestParserResponses(t *testing.T) {
	big := strings.Repeat("x", IdentifyBytes+100)
	cases := []struct {
		name          string
		resp          string
		closed        bool // the server closes after resp
		keepAlive     bool // the request asked for keep-alive
		status        int
		bytes         int64
		body          string // kept body, "" = not checked
		keep, closes  bool
		header, value string
	}{
		{name: "content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Backend: web-1\r\n\r\nhello",
			keepAlive: true, status: 200, bytes: 5, body: "hello", keep: true, header: "X-Backend", value: "web-1"},
		{name: "keep-alive not asked", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
			status: 200, bytes: 2, body: "hi"},
		{name: "connection close", resp: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi",
			keepAlive: true, status: 200, bytes: 2, closes: true},
		{name: "no reason phrase, bare LF", resp: "HTTP/1.1 404\nContent-Length: 0\n\n",
			keepAlive: true, status: 404, keep: true},
		{name: "chunked with extension and trailer",
			resp:      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\n",
			keepAlive: true, status: 200, bytes: 15, body: "hello, world!!!", keep: true},
		{name: "chunked wins over length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			keepAlive: true, status: 200, bytes: 2, body: "ok", keep: true},
		{name: "http/1.0 until close", resp: "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbackend: web-3\n", closed: true,
			keepAlive: true, status: 200, bytes: 15, body: "backend: web-3\n", closes: true},
		{name: "http/1.0 keep-alive", resp: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
			keepAlive: true, status: 200, bytes: 1, keep: true},
		{name: "204 has no body", resp: "HTTP/1.1 204 No Content\r\nx-backend: web-4\r\n\r\n",
			keepAlive: true, status: 204, keep: true, header: "X-Backend", value: "web-4"},
		{name: "304 has no body", resp: "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
			keepAlive: true, status: 304, keep: true},
		{name: "interim responses skipped", resp: "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy",
			keepAlive: true, status: 503, bytes: 4, body: "busy", keep: true, header: "X-Interim", value: ""},
		{name: "body beyond IdentifyBytes is counted, not kept", resp: "HTTP/1.1 200 OK\r\nContent-Length: " + itoa(len(big)) + "\r\n\r\n" + big,
			keepAlive: true, status: 200, bytes: int64(len(big)), body: big[:IdentifyBytes], keep: true},
	}
	for _, c := range cases {
		for _, step := range []int{0, 1, 7} {
			p := newParser(c.keepAlive)
			used, err := parseAll(p, c.resp, step, c.closed)
			r := p.resp
			switch {
			case err != nil:
				t.Errorf("%s step %d: %v", c.name, step, err)
			case !p.done():
				t.Errorf("%s step %d: not done", c.name, step)
			case r.Status != c.status || r.Bytes != c.bytes || p.keep != c.keep || p.closes != c.closes:
				t.Errorf("%s step %d: status=%d bytes=%d keep=%v closes=%v", c.name, step, r.Status, r.Bytes, p.keep, p.closes)
			case c.body != "" && string(r.Body) != c.body:
				t.Errorf("%s step %d: body %q", c.name, step, trunc(r.Body))
			case c.header != "" && r.Header.Get(c.header) != c.value:
				t.Errorf("%s step %d: %s = %q", c.name, step, c.header, r.Header.Get(c.header))
			case used != len(c.resp):
				t.Errorf("%s step %d: used %d of %d bytes", c.name, step, used, len(c.resp))
			}
		}
	}
}

// TestParserReuse: a second response on the same parser sees none of the
// first one's headers or body.
func TestParserReuse(t *testing.T) {
	p := newParser(true)
	if _, err := parseAll(p, "HTTP/1.1 200 OK\r\nX-Backend: web-1\r\nContent-Length: 3\r\n\r\nabc", 0, false); err != nil {
		t.Fatal(err)
	}
	if _, err := parseAll(p, "HTTP/1.1 500 Oops\r\nContent-Length: 1\r\n\r\nz", 0, false); err != nil {
		t.Fatal(err)
	}
	if p.resp.Status != 500 || p.resp.Header.Get("X-Backend") != "" || string(p.resp.Body) != "z" || len(p.resp.Header) != 1 {
		t.Errorf("second response: %+v", p.resp)
	}
	// The extra bytes after a complete response are left unused.
	used, err := p.feed([]byte("junk"))
	if err != nil || used != 0 {
		t.Errorf("feed after done: used=%d err=%v", used, err)
	}
}

func TestParserErrors(t *testing.T) {
	cases := []struct {
		name   string
		resp   string
		closed bool
		want   error // nil: any error
	}{
		{name: "garbage", resp: "garbage\r\n\r\n"},
		{name: "not http", resp: "HTTX/1.1 200 OK\r\n\r\n"},
		{name: "status not a number", resp: "HTTP/1.1 abc OK\r\n\r\n"},
		{name: "status too long", resp: "HTTP/1.1 2000 OK\r\n\r\n"},
		{name: "status below 100", resp: "HTTP/1.1 099 Low\r\n\r\n"},
		{name: "header without colon", resp: "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"},
		{name: "negative length", resp: "HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n"},
		{name: "conflicting lengths", resp: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n"},
		{name: "unknown transfer coding", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"},
		{name: "bad chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
		{name: "chunk without CRLF", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n"},
		{name: "line too long", resp: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", maxLine) + "\r\n\r\n", want: errLineTooLong},
		{name: "unterminated line too long", resp: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", maxLine), want: errLineTooLong},
		{name: "short body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", closed: true, want: io.ErrUnexpectedEOF},
		{name: "short chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nabc", closed: true, want: io.ErrUnexpectedEOF},
		{name: "closed in headers", resp: "HTTP/1.1 200 OK\r\nX-A: b\r\n", closed: true, want: io.ErrUnexpectedEOF},
		{name: "closed before answering", resp: "", closed: true, want: io.EOF},
	}
	for _, c := range cases {
		for _, step := range []int{0, 1} {
			_, err := parseAll(newParser(true), c.resp, step, c.closed)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("%s step %d: err = %v, want %v", c.name, step, err, c.want)
			}
		}
	}
}

func TestChunkSize(t *testing.T) {
	for line, want := range map[string]int64{"0": 0, "a": 10, "FF": 255, "1f ; ext": 31, "7fffffffffffffff": -1, "": -1, "-1": -1, "g": -1} {
		got, err := chunkSize([]byte(line))
		if want < 0 {
			if err == nil {
				t.Errorf("chunkSize(%q) = %d, want error", line, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("chunkSize(%q) = %d, %v; want %d", line, got, err, want)
		}
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func trunc(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}
