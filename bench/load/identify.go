package load

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
)

// Identifier names the backend (real server) that produced a response, or
// returns "" when the response does not say. It sees at most the first
// IdentifyBytes of the body. It must not keep h or body: both are reused.
type Identifier interface {
	Identify(h http.Header, body []byte) string
}

// IdentifyBytes is how much of each body is kept for the Identifier.
const IdentifyBytes = 64 << 10

// HeaderOrBody reads the backend from a response header, falling back to a
// "KEY: NAME" line in the body (the lab's web page prints "backend: web-1").
type HeaderOrBody struct {
	Header  string // e.g. "X-Backend"; "" skips the header
	BodyKey string // e.g. "backend"; "" skips the body
}

// DefaultIdentifier reads X-Backend, then a "backend: NAME" body line.
func DefaultIdentifier() HeaderOrBody {
	return HeaderOrBody{Header: "X-Backend", BodyKey: "backend"}
}

// Identify implements Identifier.
func (i HeaderOrBody) Identify(h http.Header, body []byte) string {
	if i.Header != "" {
		if v := strings.TrimSpace(h.Get(i.Header)); v != "" {
			return v
		}
	}
	if i.BodyKey == "" || len(body) == 0 {
		return ""
	}
	key := []byte(i.BodyKey + ":")
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), IdentifyBytes)
	for sc.Scan() {
		line := bytes.TrimSpace(stripLeadingTags(bytes.TrimSpace(sc.Bytes())))
		if len(line) < len(key) || !bytes.EqualFold(line[:len(key)], key) {
			continue
		}
		v := bytes.TrimSpace(line[len(key):])
		if j := bytes.IndexAny(v, " \t<"); j >= 0 {
			v = v[:j]
		}
		if len(v) > 0 {
			return string(v)
		}
	}
	return ""
}

// stripLeadingTags drops HTML tags before the text, so "<p>backend: web-1</p>"
// is read like "backend: web-1".
func stripLeadingTags(b []byte) []byte {
	for len(b) > 0 && b[0] == '<' {
		end := bytes.IndexByte(b, '>')
		if end < 0 {
			return b
		}
		b = bytes.TrimSpace(b[end+1:])
	}
	return b
}
