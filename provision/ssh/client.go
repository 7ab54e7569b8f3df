package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// Client is one SSH connection to one VM. It implements Runner, is safe
// for concurrent use (one session per command) and, when the connection
// has died, reconnects once before giving up.
type Client struct {
	cfg Config

	mu     sync.Mutex
	conn   *ssh.Client
	closed bool
}

var _ Runner = (*Client)(nil)

func newClient(cfg Config, conn *ssh.Client) *Client {
	return &Client{cfg: cfg, conn: conn}
}

// Host is the VM name.
func (c *Client) Host() string { return c.cfg.Host }

// Config is the configuration the client was dialled with.
func (c *Client) Config() Config { return c.cfg }

// Close closes the connection; later calls fail.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if err := c.conn.Close(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close ssh to %s: %w", c.cfg.Host, err)
	}
	return nil
}

// session opens a session, redialling once when the connection is gone.
// Only session setup is retried, so no command ever runs twice.
func (c *Client) session(ctx context.Context) (*ssh.Session, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, fmt.Errorf("ssh to %s: client closed", c.cfg.Host)
	}
	conn := c.conn
	c.mu.Unlock()
	s, err := conn.NewSession()
	if err == nil {
		return s, nil
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, fmt.Errorf("ssh to %s: client closed", c.cfg.Host)
	}
	if c.conn == conn { // nobody reconnected in the meantime
		conn.Close()
		fresh, derr := dialConn(ctx, &c.cfg)
		if derr != nil {
			return nil, fmt.Errorf("ssh to %s: connection lost (%v); reconnect: %w", c.cfg.Host, err, derr)
		}
		c.conn = fresh
	}
	s, err = c.conn.NewSession()
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: open session: %w", c.cfg.Host, err)
	}
	return s, nil
}

// Run implements Runner: cmd runs under sh -c (as root with Sudo).
func (c *Client) Run(ctx context.Context, cmd string) (Result, error) {
	return c.runInput(ctx, cmd, cmd, nil)
}

// runInput runs cmd with stdin; errors call it name.
func (c *Client) runInput(ctx context.Context, name, cmd string, stdin io.Reader) (Result, error) {
	var stdout, stderr bytes.Buffer
	code, err := c.exec(ctx, commandLine(cmd, c.cfg.Sudo), stdin, &stdout, &stderr)
	res := Result{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: code}
	if err != nil {
		return res, fmt.Errorf("%s: run %q: %w", c.cfg.Host, name, err)
	}
	if code != 0 {
		return res, &CommandError{Host: c.cfg.Host, Cmd: name, ExitCode: code, Stderr: res.Stderr}
	}
	return res, nil
}

// Exec runs cmd like Run but streams its input and output, and returns
// the remote exit code; err is set only when the command could not run
// to completion (connection, cancellation).
func (c *Client) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	code, err := c.exec(ctx, commandLine(cmd, c.cfg.Sudo), stdin, stdout, stderr)
	if err != nil {
		return code, fmt.Errorf("%s: run %q: %w", c.cfg.Host, cmd, err)
	}
	return code, nil
}

// exec runs the literal command line and returns its exit status
// (128+n for a signal, -1 when unknown).
func (c *Client) exec(ctx context.Context, line string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	s, err := c.session(ctx)
	if err != nil {
		return -1, err
	}
	defer s.Close()
	s.Stdin = stdin
	s.Stdout, s.Stderr = serialize(stdout, stderr)
	if err := s.Start(line); err != nil {
		return -1, fmt.Errorf("start: %w", err)
	}
	return waitSession(ctx, s)
}

// cancelGrace is how long a cancelled command gets to exit after SIGTERM
// (time for cleanup traps) before it is sent SIGKILL and the session is
// closed. Under sudo neither signal reaches the root command (sshd sends
// them as the login user); it then only sees EOF/SIGPIPE, as with OpenSSH.
const cancelGrace = time.Second

func waitSession(ctx context.Context, s *ssh.Session) (int, error) {
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// TERM first so shell traps (WriteFile's temp file) can clean up.
		_ = s.Signal(ssh.SIGTERM)
		t := time.NewTimer(cancelGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			_ = s.Signal(ssh.SIGKILL)
			s.Close()
			<-done
		}
		return -1, ctx.Err()
	}
	if err == nil {
		return 0, nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return ee.ExitStatus(), nil
	}
	return -1, err
}

// serialize makes stdout and stderr safe to be the same writer: the
// session copies both concurrently, and e.g. a shared bytes.Buffer loses
// data to two concurrent ReadFrom calls.
func serialize(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if stdout == nil || stderr == nil {
		return stdout, stderr
	}
	mu := &sync.Mutex{}
	return &lockedWriter{mu: mu, w: stdout}, &lockedWriter{mu: mu, w: stderr}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
