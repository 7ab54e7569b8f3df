package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// maxLine bounds a status, header or chunk-size line.
const maxLine = 16 << 10

// errLineTooLong is returned for a response line longer than maxLine.
var errLineTooLong = errors.New("response line too long")

// response is the part of an HTTP response the generator records. Header
// and Body are reused by the next response on the same client.
type response struct {
	Status int
	Header http.Header
	Body   []byte // at most IdentifyBytes
	Bytes  int64  // whole body length
}

// parser states.
const (
	stStatus    = iota // status line
	stHeader           // header lines
	stLength           // body with Content-Length
	stUntilEOF         // body ends when the server closes
	stChunkSize        // chunk-size line
	stChunkData        // chunk data
	stChunkEnd         // CRLF after chunk data
	stTrailer          // trailer lines
	stDone
)

// parser reads one HTTP/1.x response pushed to it in pieces (feed), so the
// same code serves the blocking net.Conn client and the epoll loop. It
// parses by hand because net/http.ReadResponse was half of the generator's
// CPU per request, and it allocates nothing in steady state.
type parser struct {
	keepAlive bool // the request asked for keep-alive

	resp    response
	state   int
	line    []byte // partial line carried over between feeds
	remain  int64  // bytes left in the body or the current chunk
	body    []byte // buffer behind resp.Body
	proto11 bool
	// keep: the connection may carry the next request. closes: the server
	// said it closes the connection (Connection: close or HTTP/1.0), so the
	// client waits for its FIN as ab does.
	keep, closes bool
	got          bool // any byte of this response was seen
	keys         map[string]string
}

func newParser(keepAlive bool) *parser {
	return &parser{keepAlive: keepAlive, body: make([]byte, 0, IdentifyBytes),
		resp: response{Header: http.Header{}}, keys: map[string]string{}}
}

// reset prepares for the next response.
func (p *parser) reset() {
	p.state = stStatus
	p.line = p.line[:0]
	p.got = false
	p.startResponse()
}

func (p *parser) startResponse() {
	for k, vs := range p.resp.Header {
		p.resp.Header[k] = vs[:0] // keep the slices (and values) for reuse
	}
	p.body = p.body[:0]
	p.resp.Status, p.resp.Bytes, p.resp.Body = 0, 0, nil
	p.keep, p.closes, p.remain = false, false, 0
}

// done reports whether a whole response was parsed.
func (p *parser) done() bool { return p.state == stDone }

// feed parses b and returns how many bytes it used: less than len(b) only
// when the response ended before the end of b.
func (p *parser) feed(b []byte) (int, error) {
	if len(b) > 0 {
		p.got = true
	}
	used := 0
	for used < len(b) && p.state != stDone {
		switch p.state {
		case stLength, stChunkData:
			n := min(int64(len(b)-used), p.remain)
			p.keepBody(b[used : used+int(n)])
			used += int(n)
			p.remain -= n
			if p.remain == 0 {
				if p.state == stLength {
					p.finish()
				} else {
					p.state = stChunkEnd
				}
			}
		case stUntilEOF:
			p.keepBody(b[used:])
			used = len(b)
		default:
			line, n, err := p.nextLine(b[used:])
			used += n
			if err != nil {
				return used, err
			}
			if line == nil {
				return used, nil // need more bytes
			}
			if err := p.onLine(line); err != nil {
				return used, err
			}
		}
	}
	return used, nil
}

// eof tells the parser the server closed the connection. It ends a body
// that runs until close; anywhere else it is a short read.
func (p *parser) eof() error {
	switch p.state {
	case stDone:
		return nil
	case stUntilEOF:
		p.finish()
		return nil
	case stStatus:
		if !p.got {
			return io.EOF // closed before answering
		}
	}
	return io.ErrUnexpectedEOF
}

// nextLine returns the next complete line of b without CRLF, or nil and
// len(b) after saving a partial line.
func (p *parser) nextLine(b []byte) (line []byte, used int, err error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(p.line)+len(b) > maxLine {
			return nil, len(b), errLineTooLong
		}
		p.line = append(p.line, b...)
		return nil, len(b), nil
	}
	line = b[:i]
	if len(p.line)+len(line) > maxLine {
		return nil, i + 1, errLineTooLong
	}
	if len(p.line) > 0 {
		p.line = append(p.line, line...)
		line = p.line
		p.line = p.line[:0] // line stays valid until the next append
	}
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if line == nil {
		line = []byte{}
	}
	return line, i + 1, nil
}

func (p *parser) onLine(line []byte) error {
	switch p.state {
	case stStatus:
		return p.statusLine(line)
	case stHeader:
		if len(line) == 0 {
			return p.endHeaders()
		}
		return p.headerLine(line)
	case stChunkSize:
		size, err := chunkSize(line)
		if err != nil {
			return err
		}
		if size == 0 {
			p.state = stTrailer
		} else {
			p.state, p.remain = stChunkData, size
		}
	case stChunkEnd:
		if len(line) != 0 {
			return fmt.Errorf("malformed chunk end %q", line)
		}
		p.state = stChunkSize
	case stTrailer:
		if len(line) == 0 {
			p.finish()
		}
	}
	return nil
}

func (p *parser) statusLine(line []byte) error {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(rest) < 3 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || (len(rest) > 3 && rest[3] != ' ') {
		return fmt.Errorf("malformed status line %q", line)
	}
	code, ok := atoi(rest[:3])
	if !ok || code < 100 {
		return fmt.Errorf("malformed status line %q", line)
	}
	p.resp.Status = code
	p.proto11 = string(proto) == "HTTP/1.1"
	p.keep = p.keepAlive && p.proto11
	p.closes = !p.proto11
	p.state = stHeader
	return nil
}

func (p *parser) headerLine(line []byte) error {
	k, v, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(k) == 0 {
		return fmt.Errorf("malformed header line %q", line)
	}
	v = bytes.TrimSpace(v)
	key := p.canonical(k)
	h := p.resp.Header
	switch key {
	case "Content-Length":
		if _, ok := atoi(v); !ok || (len(h[key]) > 0 && h[key][0] != string(v)) {
			return fmt.Errorf("bad Content-Length %q", v)
		}
	case "Connection":
		if bytes.EqualFold(v, []byte("close")) {
			p.keep, p.closes = false, true
		} else if bytes.EqualFold(v, []byte("keep-alive")) {
			p.keep, p.closes = p.keepAlive, false
		}
	}
	h[key] = appendValue(h[key], v)
	return nil
}

func (p *parser) endHeaders() error {
	h := p.resp.Header
	for k, vs := range h {
		if len(vs) == 0 {
			delete(h, k)
		}
	}
	code := p.resp.Status
	if code < 200 { // interim response: the real one follows
		p.state = stStatus
		p.startResponse()
		return nil
	}
	te := h["Transfer-Encoding"]
	cl := h["Content-Length"]
	switch {
	case code == 204 || code == 304:
		p.finish()
	case len(te) > 0:
		if !strings.EqualFold(te[len(te)-1], "chunked") {
			return fmt.Errorf("unsupported Transfer-Encoding %q", te[len(te)-1])
		}
		p.state = stChunkSize
	case len(cl) > 0:
		n, _ := atoi([]byte(cl[0])) // checked in headerLine
		p.remain = int64(n)
		p.state = stLength
		if n == 0 {
			p.finish()
		}
	default:
		p.state, p.keep = stUntilEOF, false
	}
	return nil
}

func (p *parser) finish() {
	p.state = stDone
	p.resp.Body = p.body
}

// keepBody counts b and keeps the first IdentifyBytes for the Identifier.
func (p *parser) keepBody(b []byte) {
	p.resp.Bytes += int64(len(b))
	if room := IdentifyBytes - len(p.body); room > 0 {
		p.body = append(p.body, b[:min(room, len(b))]...)
	}
}

// canonical returns the canonical header key, cached so that the usual
// headers cost no allocation.
func (p *parser) canonical(k []byte) string {
	if s, ok := p.keys[string(k)]; ok {
		return s
	}
	s := textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(k)))
	if len(p.keys) < 64 {
		p.keys[string(k)] = s
	}
	return s
}

// chunkSize parses a chunk-size line ("1a", "1a;ext=x").
func chunkSize(line []byte) (int64, error) {
	hex, _, _ := bytes.Cut(line, []byte(";"))
	hex = bytes.TrimSpace(hex)
	if len(hex) == 0 || len(hex) > 15 {
		return 0, fmt.Errorf("malformed chunk size %q", line)
	}
	var n int64
	for _, c := range hex {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, fmt.Errorf("malformed chunk size %q", line)
		}
		n = n<<4 | int64(d)
	}
	return n, nil
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
