package load

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"
)

// conn is one client's blocking HTTP/1.1 connection on net.Conn, used for
// https and where the epoll loop (loop_linux.go) is not available. It
// has no pool and no per-request goroutines: with net/http's Transport the
// generator reached only ~60% of ab's rate on loopback.
type conn struct {
	tg     *target
	runCtx context.Context
	dialer net.Dialer
	c      net.Conn
	p      *parser
	buf    []byte
}

func newConn(runCtx context.Context, tg *target, keepAlive bool) *conn {
	return &conn{tg: tg, runCtx: runCtx, p: newParser(keepAlive), buf: make([]byte, 16<<10),
		// No TCP keep-alive probes: connections live for one run, and
		// enabling them costs four setsockopt calls per connection.
		dialer: net.Dialer{KeepAlive: -1}}
}

// roundTrip sends the request and reads the whole response before
// deadline. A kept-alive connection the server had closed is retried once
// on a new connection, as net/http does.
func (c *conn) roundTrip(deadline time.Time) (*response, error) {
	reused := c.c != nil
	err := c.try(deadline)
	if err != nil && reused && !c.p.got && c.runCtx.Err() == nil && time.Now().Before(deadline) && retryable(err) {
		err = c.try(deadline)
	}
	if err != nil {
		return nil, err
	}
	return &c.p.resp, nil
}

func retryable(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || classify(err) == "connection_reset"
}

func (c *conn) try(deadline time.Time) error {
	c.p.reset()
	if c.c == nil {
		if err := c.dial(deadline); err != nil {
			return err
		}
	}
	err := c.exchange(deadline)
	if err == nil && c.p.closes {
		// Let the server close first, as ab does: the server then holds
		// TIME_WAIT and our close is cheap (it was a fifth of the CPU).
		for err == nil {
			_, err = c.c.Read(c.buf)
		}
		err = nil
	}
	if err != nil || !c.p.keep {
		c.close()
	}
	return err
}

// exchange writes the request and feeds the reply to the parser until it
// holds a whole response.
func (c *conn) exchange(deadline time.Time) error {
	if err := c.c.SetDeadline(deadline); err != nil {
		return err
	}
	if _, err := c.c.Write(c.tg.request); err != nil {
		return err
	}
	for !c.p.done() {
		n, err := c.c.Read(c.buf)
		if n > 0 {
			if _, perr := c.p.feed(c.buf[:n]); perr != nil {
				return perr
			}
		}
		if errors.Is(err, io.EOF) {
			return c.p.eof()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// dial connects before deadline. There is no per-connection cancel hook:
// every deadline is capped at the end of the run, so a cancelled run waits
// at most one Timeout for requests in flight.
func (c *conn) dial(deadline time.Time) error {
	d := c.dialer
	d.Deadline = deadline
	nc, err := d.DialContext(c.runCtx, "tcp", c.tg.addr)
	if err != nil {
		return err
	}
	if c.tg.tls != nil {
		_ = nc.SetDeadline(deadline)
		tc := tls.Client(nc, c.tg.tls)
		if err := tc.HandshakeContext(c.runCtx); err != nil {
			nc.Close()
			return err
		}
		nc = tc
	}
	c.c = nc
	return nil
}

func (c *conn) close() {
	if c.c == nil {
		return
	}
	c.c.Close()
	c.c = nil
}
