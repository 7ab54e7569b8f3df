package main

import (
	"bytes"
	"net"
	"strconv"
	"sync/atomic"
)

// serveLean answers GET requests with prebuilt responses and almost no
// parsing, so that it costs less CPU per request than either client under
// test and the comparison measures the clients. Keep-alive follows
// HTTP/1.1 (on unless "Connection: close") and HTTP/1.0 (off unless
// "Connection: keep-alive", which ab -k sends). Request bodies are not
// supported.
func serveLean(ln net.Listener, name string, failEvery int64) error {
	body := "<html><body><p>backend: " + name + "</p></body></html>\n"
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Backend: " + name +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: "
	fail := "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 12\r\nConnection: "
	r := responses{
		okKeep: []byte(head + "keep-alive\r\n\r\n" + body), okClose: []byte(head + "close\r\n\r\n" + body),
		failKeep: []byte(fail + "keep-alive\r\n\r\nunavailable\n"), failClose: []byte(fail + "close\r\n\r\nunavailable\n"),
		failEvery: failEvery,
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go r.serve(c)
	}
}

type responses struct {
	okKeep, okClose, failKeep, failClose []byte
	failEvery                            int64
	n                                    atomic.Int64
}

func (r *responses) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 8<<10)
	have := 0
	for {
		end := bytes.Index(buf[:have], []byte("\r\n\r\n"))
		for end < 0 {
			if have == len(buf) {
				return // request head too large
			}
			n, err := c.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			end = bytes.Index(buf[:have], []byte("\r\n\r\n"))
		}
		keep := keepAlive(buf[:end])
		resp := r.okClose
		switch failed := r.failEvery > 0 && r.n.Add(1)%r.failEvery == 0; {
		case failed && keep:
			resp = r.failKeep
		case failed:
			resp = r.failClose
		case keep:
			resp = r.okKeep
		}
		if _, err := c.Write(resp); err != nil || !keep {
			return // the server closes first, as Apache and net/http do
		}
		have = copy(buf, buf[end+4:have])
	}
}

// keepAlive reports whether the request head asks to keep the connection.
func keepAlive(head []byte) bool {
	line, rest, _ := bytes.Cut(head, []byte("\r\n"))
	keep := bytes.HasSuffix(line, []byte("HTTP/1.1"))
	for len(rest) > 0 {
		var h []byte
		h, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte("Connection")) {
			continue
		}
		switch v = bytes.TrimSpace(v); {
		case bytes.EqualFold(v, []byte("close")):
			keep = false
		case bytes.EqualFold(v, []byte("keep-alive")):
			keep = true
		}
	}
	return keep
}
