package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"time"
)

// conn is one client's HTTP/1.1 connection. It is a lean replacement for
// net/http's Transport (no pool, no per-request goroutines): with the
// Transport the generator reached only ~60% of ab's rate on loopback
// (bench/scripts/compare-ab.sh). Responses are parsed by readResponse.
type conn struct {
	addr      string
	tls       *tls.Config // nil for http
	request   []byte      // the whole GET request, built once
	keepAlive bool
	runCtx    context.Context
	dialer    net.Dialer

	c    net.Conn
	br   *bufio.Reader
	resp response
	body []byte
	keys map[string]string
	// serverCloses: the last response announced the server closes the
	// connection (Connection: close, or HTTP/1.0 without keep-alive).
	serverCloses bool
}

func newConn(runCtx context.Context, cfg Config) (*conn, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("load: url %q: %w", cfg.URL, err)
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	hostHeader := u.Host
	if cfg.Host != "" {
		hostHeader = cfg.Host
	}
	connHdr := "close"
	if cfg.KeepAlive {
		connHdr = "keep-alive"
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + hostHeader +
		"\r\nUser-Agent: labctl-load\r\nAccept: */*\r\nConnection: " + connHdr + "\r\n\r\n"
	c := &conn{addr: host, request: []byte(req), keepAlive: cfg.KeepAlive, runCtx: runCtx,
		// No TCP keep-alive probes: connections live for one run, and
		// enabling them costs four setsockopt calls per connection.
		dialer: net.Dialer{KeepAlive: -1}}
	if u.Scheme == "https" {
		// Lab servers use self-made certificates; the bench measures
		// throughput, not trust, so the name is still sent but not verified.
		c.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12, InsecureSkipVerify: true} //nolint:gosec
	}
	return c, nil
}

// response is the part of an HTTP response the generator records. Header
// and Body are reused by the next request on the same connection.
type response struct {
	Status int
	Header http.Header
	Body   []byte // at most IdentifyBytes
	Bytes  int64  // whole body length
}

// roundTrip sends the request and reads the whole response before
// deadline. A kept-alive connection the server had closed is retried once
// on a new connection, as net/http does.
func (c *conn) roundTrip(deadline time.Time) (*response, error) {
	reused := c.c != nil
	err := c.try(deadline)
	if err != nil && reused && c.runCtx.Err() == nil && time.Now().Before(deadline) && retryable(err) {
		err = c.try(deadline)
	}
	if err != nil {
		return nil, err
	}
	return &c.resp, nil
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || classify(err) == "connection_reset"
}

func (c *conn) try(deadline time.Time) error {
	if c.c == nil {
		if err := c.dial(deadline); err != nil {
			return err
		}
	}
	if err := c.c.SetDeadline(deadline); err != nil {
		c.close()
		return err
	}
	if _, err := c.c.Write(c.request); err != nil {
		c.close()
		return err
	}
	keep, err := c.readResponse()
	if err == nil && c.serverCloses {
		// Let the server close first, as ab does: the server then holds
		// TIME_WAIT and our close is cheap (it was a fifth of the CPU).
		_, _ = c.br.Discard(c.br.Buffered())
		_, _ = c.br.ReadByte()
	}
	if err != nil || !keep {
		c.close()
	}
	return err
}

// readResponse parses one response from c.br into c.resp and reports
// whether the connection may be reused. It parses by hand because
// net/http.ReadResponse was half of the generator's CPU per request.
func (c *conn) readResponse() (keep bool, err error) {
	r := &c.resp
	if r.Header == nil {
		r.Header = http.Header{}
	}
	for { // skip 1xx interim responses
		for k, vs := range r.Header {
			r.Header[k] = vs[:0] // keep the slices (and values) for reuse
		}
		line, err := c.readLine()
		if err != nil {
			return false, err
		}
		proto, rest, ok := bytes.Cut(line, []byte(" "))
		if !ok || len(rest) < 3 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
			return false, fmt.Errorf("malformed status line %q", line)
		}
		code, ok := atoi(rest[:3])
		if !ok || code < 100 {
			return false, fmt.Errorf("malformed status line %q", line)
		}
		r.Status = code
		keep = c.keepAlive && string(proto) == "HTTP/1.1"
		c.serverCloses = string(proto) == "HTTP/1.0"
		length, chunked := int64(-1), false
		for {
			line, err := c.readLine()
			if err != nil {
				return false, err
			}
			if len(line) == 0 {
				break
			}
			k, v, ok := bytes.Cut(line, []byte(":"))
			if !ok {
				return false, fmt.Errorf("malformed header line %q", line)
			}
			v = bytes.TrimSpace(v)
			key := c.canonical(k)
			switch key {
			case "Content-Length":
				n, ok := atoi(v)
				if !ok {
					return false, fmt.Errorf("bad Content-Length %q", v)
				}
				length = int64(n)
			case "Transfer-Encoding":
				chunked = bytes.EqualFold(v, []byte("chunked"))
			case "Connection":
				if bytes.EqualFold(v, []byte("close")) {
					keep, c.serverCloses = false, true
				} else if bytes.EqualFold(v, []byte("keep-alive")) {
					keep, c.serverCloses = c.keepAlive, false
				}
			}
			r.Header[key] = appendValue(r.Header[key], v)
		}
		for k, vs := range r.Header {
			if len(vs) == 0 {
				delete(r.Header, k)
			}
		}
		if code >= 100 && code < 200 {
			continue
		}
		var body io.Reader
		switch {
		case code == 204 || code == 304:
			body = eofReader{}
		case chunked:
			body = httputil.NewChunkedReader(c.br)
		case length >= 0:
			body = io.LimitReader(c.br, length)
		default:
			body, keep = c.br, false // ends when the server closes
		}
		r.Body, r.Bytes, err = c.readBody(body)
		if err == nil && length >= 0 && r.Bytes != length {
			err = io.ErrUnexpectedEOF
		}
		for err == nil && chunked { // trailer section, ends with an empty line
			var line []byte
			if line, err = c.readLine(); len(line) == 0 {
				break
			}
		}
		return keep && err == nil, err
	}
}

// readBody keeps the first IdentifyBytes in a reused buffer and discards
// the rest (bounded).
func (c *conn) readBody(r io.Reader) ([]byte, int64, error) {
	if c.body == nil {
		c.body = make([]byte, IdentifyBytes)
	}
	n, err := io.ReadFull(r, c.body)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return c.body[:n], int64(n), nil
	}
	if err != nil {
		return nil, int64(n), err
	}
	rest, err := io.Copy(io.Discard, io.LimitReader(r, 256<<20))
	return c.body[:n], int64(n) + rest, err
}

func (c *conn) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, errors.New("response line too long")
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

// canonical returns the canonical header key, cached so that the usual
// headers cost no allocation.
func (c *conn) canonical(k []byte) string {
	if s, ok := c.keys[string(k)]; ok {
		return s
	}
	if c.keys == nil {
		c.keys = map[string]string{}
	}
	s := textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(k)))
	if len(c.keys) < 64 {
		c.keys[string(k)] = s
	}
	return s
}

// appendValue appends v to vs, reusing the string left in vs's spare
// capacity by the previous response when it is the same (Content-Type,
// X-Backend … repeat), so steady-state parsing does not allocate.
func appendValue(vs []string, v []byte) []string {
	if n := len(vs); n < cap(vs) && vs[:n+1][n] == string(v) {
		return vs[:n+1]
	}
	return append(vs, string(v))
}

// atoi parses a non-negative decimal of at most 18 digits.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// dial connects before deadline. There is no per-connection cancel hook:
// every deadline is capped at the end of the run, so a cancelled run waits
// at most one Timeout for requests in flight.
func (c *conn) dial(deadline time.Time) error {
	d := c.dialer
	d.Deadline = deadline
	nc, err := d.DialContext(c.runCtx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if c.tls != nil {
		_ = nc.SetDeadline(deadline)
		tc := tls.Client(nc, c.tls)
		if err := tc.HandshakeContext(c.runCtx); err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	c.c = nc
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 16<<10)
	} else {
		c.br.Reset(nc)
	}
	return nil
}

func (c *conn) close() {
	if c.c == nil {
		return
	}
	c.c.Close()
	c.c = nil
}
