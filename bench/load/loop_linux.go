//go:build linux && (amd64 || arm64)

package load

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// The epoll loop serves closed-loop plain-HTTP runs, the case compared
// with ab. One goroutine drives many clients on non-blocking sockets with
// raw syscalls, as ab does: no goroutine per client, no netpoller
// park/unpark, and per request only socket, epoll_ctl, connect, write,
// read and close. Through net.Dial the generator spent ~70 µs of CPU per
// keep-alive-off request on loopback against ab's ~52 µs; the extra went
// to Go's dial path (getsockopt, getsockname, getpeername, setsockopt),
// goroutine scheduling and the netpoller.

// epollET is EPOLLET as the uint32 the event mask wants.
const epollET = 1 << 31

// clientsPerLoop: one loop keeps up with ab (one thread) at ab's usual
// concurrency; more clients than this get more loops, up to GOMAXPROCS.
const clientsPerLoop = 64

// loopPlan is the resolved address a run's loops connect to.
type loopPlan struct {
	family int
	sa     rawAddr
	loops  int
	req    []byte
}

// planLoop returns how to run cfg on epoll loops, or nil when it must use
// net.Conn clients: https, the open loop (its timers need sub-millisecond
// precision, which epoll_wait lacks), or an address the loop cannot use.
func planLoop(ctx context.Context, cfg Config, tg *target) *loopPlan {
	if tg.tls != nil || cfg.RateRPS > 0 {
		return nil
	}
	host, portStr, err := net.SplitHostPort(tg.addr)
	if err != nil {
		return nil
	}
	port, ok := atoi([]byte(portStr))
	if !ok || port > 65535 {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		// A name: resolve once, as the lab uses addresses anyway, and use
		// the first IPv4 address, else the first (no fallback between
		// addresses). On failure the net.Conn clients report the error
		// per request.
		ips, lerr := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if lerr != nil || len(ips) == 0 {
			return nil
		}
		ip = ips[0]
		for _, a := range ips {
			if a.Unmap().Is4() {
				ip = a
				break
			}
		}
	}
	ip = ip.Unmap()
	p := &loopPlan{req: tg.request, loops: min(runtime.GOMAXPROCS(0), (cfg.Concurrency+clientsPerLoop-1)/clientsPerLoop)}
	switch {
	case ip.Is4():
		p.family, p.sa = syscall.AF_INET, rawAddr4(ip.As4(), port)
	case ip.Is6() && ip.Zone() == "":
		p.family, p.sa = syscall.AF_INET6, rawAddr6(ip.As16(), port)
	default:
		return nil
	}
	return p
}

// runLoops runs the clients on lp.loops epoll loops.
func (g *gen) runLoops(lp *loopPlan, tallies []*tally) error {
	loops := make([]*evLoop, lp.loops)
	defer func() {
		for _, l := range loops {
			if l != nil {
				l.close()
			}
		}
	}()
	for i := range loops {
		var err error
		if loops[i], err = newEvLoop(g, lp); err != nil {
			return err
		}
	}
	for i, t := range tallies {
		loops[i%len(loops)].add(t)
	}
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(l.run)
	}
	wg.Wait()
	return nil
}

// evConn is one client of an evLoop.
type evConn struct {
	id       int32 // index in evLoop.conns, the epoll event's data
	fd       int   // -1: no connection
	t        *tally
	p        *parser
	at       time.Time // when the request in flight was sent
	deadline time.Time
	wrote    int  // request bytes written
	reused   bool // the connection carried an earlier response
	retried  bool
	waitEOF  bool  // response complete, waiting for the server's FIN
	err      error // failure to report from the next step
	// prev and next link the requests in flight in deadline order.
	prev, next *evConn
}

type evLoop struct {
	g      *gen
	lp     *loopPlan
	req    []byte
	epfd   int
	wake   [2]int // pipe written when the run is cancelled
	stop   func() bool
	conns  []*evConn
	ready  []*evConn // clients to (re)start outside event handling
	buf    []byte
	events []syscall.EpollEvent
	// head and tail: requests in flight, oldest first. Every request has
	// the same timeout and deadlines are capped at the run's end, so the
	// head always has the earliest deadline.
	head, tail *evConn
	busy       int
	yielded    time.Time
	dead       bool // epoll failed: start nothing more
}

// yieldEvery is how often the loop calls runtime.Gosched.
const yieldEvery = 5 * time.Millisecond

const wakeID = -1

func newEvLoop(g *gen, lp *loopPlan) (*evLoop, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("load: epoll_create1: %w", err)
	}
	l := &evLoop{g: g, lp: lp, epfd: epfd, wake: [2]int{-1, -1},
		buf: make([]byte, 16<<10), events: make([]syscall.EpollEvent, 128)}
	if err := syscall.Pipe2(l.wake[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		l.close()
		return nil, fmt.Errorf("load: pipe2: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeID}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, l.wake[0], &ev); err != nil {
		l.close()
		return nil, fmt.Errorf("load: epoll_ctl: %w", err)
	}
	w := l.wake[1]
	l.stop = context.AfterFunc(g.runCtx, func() { _, _ = syscall.Write(w, []byte{1}) })
	return l, nil
}

func (l *evLoop) add(t *tally) {
	l.conns = append(l.conns, &evConn{id: int32(len(l.conns)), fd: -1, t: t, p: newParser(l.g.cfg.KeepAlive)})
}

func (l *evLoop) close() {
	if l.stop != nil {
		l.stop()
	}
	for _, c := range l.conns {
		l.closeFd(c)
	}
	for _, fd := range []int{l.epfd, l.wake[0], l.wake[1]} {
		if fd >= 0 {
			syscall.Close(fd)
		}
	}
}

func (l *evLoop) run() {
	l.req = l.lp.req
	for _, c := range l.conns {
		l.begin(c, time.Now())
	}
	l.drain()
	for l.busy > 0 {
		timeout := -1
		if l.head != nil {
			d := time.Until(l.head.deadline)
			timeout = int((d + time.Millisecond - 1) / time.Millisecond)
			timeout = max(timeout, 0)
		}
		// Yield now and then: after 10 ms without, sysmon preempts the
		// goroutine and takes its P at every epoll_wait, then polls every
		// 20 µs. Yielding every round cost more (each wakes another thread).
		if now := time.Now(); now.Sub(l.yielded) > yieldEvery {
			l.yielded = now
			runtime.Gosched()
		}
		n, err := syscall.EpollWait(l.epfd, l.events, timeout)
		if err != nil && err != syscall.EINTR {
			l.dead = true // cannot happen with a valid epfd; stop cleanly
			l.failAll(os.NewSyscallError("epoll_wait", err))
			return
		}
		for _, ev := range l.events[:max(n, 0)] {
			if ev.Fd == wakeID {
				l.failAll(l.g.runCtx.Err())
				continue
			}
			l.step(l.conns[ev.Fd])
		}
		now := time.Now()
		for l.head != nil && !now.Before(l.head.deadline) {
			l.fail(l.head, os.ErrDeadlineExceeded, now)
		}
		l.drain()
	}
}

// drain starts the clients waiting in l.ready. Starting one may finish
// it at once (a refused connection), so this loops rather than recurses.
func (l *evLoop) drain() {
	for len(l.ready) > 0 {
		c := l.ready[len(l.ready)-1]
		l.ready = l.ready[:len(l.ready)-1]
		l.step(c)
	}
}

// begin starts c's next request, if the run has one left.
func (l *evLoop) begin(c *evConn, now time.Time) {
	if l.dead || !l.g.claim(now) {
		l.closeFd(c)
		return
	}
	c.at, c.deadline = now, l.g.deadline(now)
	c.retried = false
	l.link(c)
	l.start(c)
}

// start (re)sends c's request and queues c to make progress.
func (l *evLoop) start(c *evConn) {
	c.p.reset()
	c.wrote, c.waitEOF = 0, false
	c.reused = c.fd >= 0
	if c.fd < 0 {
		c.err = l.open(c) // reported by step: no recursion into begin
	}
	l.ready = append(l.ready, c)
}

func (l *evLoop) open(c *evConn) error {
	fd, err := rawSocket(l.lp.family)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	// Registered once, edge-triggered, for the connection's whole life;
	// close removes it, so there is no EPOLL_CTL_DEL.
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | epollET, Fd: c.id}
	if err := rawEpollAdd(l.epfd, fd, &ev); err != nil {
		rawClose(fd)
		return os.NewSyscallError("epoll_ctl", err)
	}
	if err := rawConnect(fd, l.lp.sa); err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		rawClose(fd)
		return os.NewSyscallError("connect", err)
	}
	c.fd = fd
	return nil
}

// step makes what progress c's socket allows: write the request, read
// the response, wait for the server's FIN. It is called on every event
// and may be called spuriously (edge-triggered epoll).
func (l *evLoop) step(c *evConn) {
	if c.prev == nil && l.head != c {
		return // not in flight (a stale event)
	}
	if c.err != nil {
		err := c.err
		c.err = nil
		l.fail(c, err, time.Now())
		return
	}
	for c.wrote < len(l.req) {
		n, err := rawWrite(c.fd, l.req[c.wrote:])
		switch {
		case err == syscall.EAGAIN: // still connecting, or the buffer is full
			return
		case err == syscall.EINTR:
		case err != nil:
			l.fail(c, os.NewSyscallError("write", err), time.Now())
			return
		default:
			c.wrote += n
			if c.wrote == len(l.req) {
				// The answer is not there yet; its arrival is an event.
				return
			}
		}
	}
	for {
		n, err := rawRead(c.fd, l.buf)
		switch {
		case err == syscall.EAGAIN:
			return
		case err == syscall.EINTR:
			continue
		case err != nil && c.waitEOF:
			l.finish(c) // a reset after a whole response loses nothing
			return
		case err != nil:
			l.fail(c, os.NewSyscallError("read", err), time.Now())
			return
		case n == 0 && c.waitEOF:
			l.finish(c)
			return
		case n == 0:
			if err := c.p.eof(); err != nil {
				l.fail(c, err, time.Now())
			} else {
				l.finish(c)
			}
			return
		case c.waitEOF:
			continue // bytes after the response: ignored, as ab does
		}
		if _, err := c.p.feed(l.buf[:n]); err != nil {
			l.fail(c, err, time.Now())
			return
		}
		if !c.p.done() {
			continue
		}
		switch {
		case c.p.keep:
			l.finish(c)
			return
		case c.p.closes:
			// Let the server close first, as ab does: the server then
			// holds TIME_WAIT and our close is cheap.
			c.waitEOF = true
		default:
			l.finish(c)
			return
		}
	}
}

// finish records c's response and starts its next request.
func (l *evLoop) finish(c *evConn) {
	now := time.Now()
	l.unlink(c)
	if !c.p.keep {
		l.closeFd(c)
	}
	l.g.record(c.t, c.at, now, &c.p.resp, nil)
	l.begin(c, now)
}

// fail ends c's request with err, or retries it once on a new connection
// when a kept-alive connection turned out to be closed by the server.
func (l *evLoop) fail(c *evConn, err error, now time.Time) {
	l.closeFd(c)
	if c.reused && !c.retried && !c.p.got && retryable(err) && now.Before(c.deadline) && l.g.runCtx.Err() == nil {
		c.retried = true
		l.start(c) // same deadline: stays where it is in the list
		return
	}
	l.unlink(c)
	l.g.record(c.t, c.at, now, nil, err)
	l.begin(c, now)
}

// failAll ends every request in flight (the run was cancelled).
func (l *evLoop) failAll(err error) {
	if err == nil {
		err = errors.New("load loop stopped")
	}
	now := time.Now()
	for l.head != nil {
		l.fail(l.head, err, now)
	}
}

func (l *evLoop) closeFd(c *evConn) {
	if c.fd >= 0 {
		rawClose(c.fd) // also leaves the epoll set
		c.fd = -1
	}
}

// link appends c to the in-flight list.
func (l *evLoop) link(c *evConn) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
	l.busy++
}

func (l *evLoop) unlink(c *evConn) {
	if c.prev == nil && l.head != c {
		return // not linked
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
	l.busy--
}
