package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// Dial connects to cfg.Addr once, verifies the pinned host key and logs in
// with cfg.Signer. A wrong host key gives a *HostKeyError.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	conn, err := dialConn(ctx, &cfg)
	if err != nil {
		return nil, err
	}
	return newClient(cfg, conn), nil
}

func dialConn(ctx context.Context, cfg *Config) (*ssh.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	nc, err := dial(dctx, "tcp", cfg.Addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh to %s (%s): %w", cfg.Host, cfg.Addr, ctx.Err())
		}
		return nil, &UnreachableError{Host: cfg.Host, Addr: cfg.Addr, Err: err}
	}
	// The handshake has no ctx: bound it with a deadline, and on cancel
	// move the deadline into the past so it stops at once. A conn without
	// deadlines (an SSH channel through the libvirt host) is closed instead.
	deadlines := true
	if dl, ok := dctx.Deadline(); ok {
		deadlines = nc.SetDeadline(dl) == nil
	}
	stop := context.AfterFunc(dctx, func() {
		if deadlines {
			_ = nc.SetDeadline(time.Unix(1, 0))
		} else {
			_ = nc.Close()
		}
	})
	c, chans, reqs, err := ssh.NewClientConn(nc, cfg.Addr, &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(cfg.Signer)},
		HostKeyCallback:   pinned(cfg.Host, cfg.Addr, cfg.HostKey),
		HostKeyAlgorithms: hostKeyAlgorithms(cfg.HostKey),
		Timeout:           cfg.timeout(),
	})
	stopped := stop()
	if err != nil {
		nc.Close()
		var hk *HostKeyError
		if errors.As(err, &hk) {
			return nil, hk
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh to %s (%s): %w", cfg.Host, cfg.Addr, ctx.Err())
		}
		var ne net.Error // the conn deadline may fire just before dctx's timer
		if dctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
			return nil, &UnreachableError{Host: cfg.Host, Addr: cfg.Addr, Err: fmt.Errorf("SSH handshake timed out after %s", cfg.timeout())}
		}
		return nil, fmt.Errorf("ssh to %s (%s): %w", cfg.Host, cfg.Addr, err)
	}
	if !stopped { // cancelled right after the handshake: the deadline is poisoned
		c.Close()
		return nil, fmt.Errorf("ssh to %s (%s): %w", cfg.Host, cfg.Addr, dctx.Err())
	}
	if deadlines {
		_ = nc.SetDeadline(time.Time{})
	}
	client := ssh.NewClient(c, chans, reqs)
	if every := cfg.keepAlive(); every > 0 {
		go KeepAlive(client, every)
	}
	return client, nil
}

// UnreachableError is a VM that does not answer on its SSH port: stopped,
// paused, still booting or cut off from the host.
type UnreachableError struct {
	Host string
	Addr string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("VM %s is unreachable over SSH at %s: %v (is it running? see `labctl status`, `labctl console %s`)",
		e.Host, e.Addr, e.Err, e.Host)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// KeepAlive closes conn when the server stops answering, so a peer that
// vanished does not leave callers hanging on a dead TCP connection. It
// returns when the connection closes.
func KeepAlive(conn *ssh.Client, every time.Duration) {
	done := make(chan struct{})
	go func() {
		_ = conn.Wait()
		close(done)
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := conn.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		timer := time.NewTimer(every)
		select {
		case err := <-reply:
			timer.Stop()
			if err != nil {
				conn.Close()
				return
			}
		case <-timer.C:
			conn.Close()
			return
		case <-done:
			timer.Stop()
			return
		}
	}
}

// permanent reports dial errors that retrying cannot fix.
func permanent(err error) bool {
	var hk *HostKeyError
	return errors.As(err, &hk) || strings.Contains(err.Error(), "no common algorithm for host key")
}

// authFailed reports a rejected login. It can be transient for a moment
// while cloud-init creates the user, so WaitReady retries it a few times.
func authFailed(err error) bool {
	return strings.Contains(err.Error(), "unable to authenticate")
}
