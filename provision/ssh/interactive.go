package ssh

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// Interactive dials cfg and runs a login shell for `labctl ssh VM`, with a
// PTY when stdin is a terminal. It returns the shell's exit code.
func Interactive(ctx context.Context, cfg Config, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	return c.Shell(ctx, stdin, stdout, stderr)
}

// Exec dials cfg, runs cmd (sh -c; as root with cfg.Sudo) with the given
// streams and returns its exit code, for `labctl ssh VM -- cmd`.
func Exec(ctx context.Context, cfg Config, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	c, err := Dial(ctx, cfg)
	if err != nil {
		return -1, err
	}
	defer c.Close()
	return c.Exec(ctx, cmd, stdin, stdout, stderr)
}

// Shell runs the login user's shell. When stdin is a terminal it is put
// in raw mode and the remote side gets a PTY that follows window resizes.
func (c *Client) Shell(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	s, err := c.session(ctx)
	if err != nil {
		return -1, err
	}
	defer s.Close()
	s.Stdin = stdin
	s.Stdout, s.Stderr = serialize(stdout, stderr)

	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		w, h, err := term.GetSize(fd)
		if err != nil {
			w, h = 80, 24
		}
		termType := os.Getenv("TERM")
		if termType == "" {
			termType = "xterm-256color"
		}
		modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
		if err := s.RequestPty(termType, h, w, modes); err != nil {
			return -1, fmt.Errorf("%s: request pty: %w", c.cfg.Host, err)
		}
		old, err := term.MakeRaw(fd)
		if err != nil {
			return -1, fmt.Errorf("%s: raw terminal: %w", c.cfg.Host, err)
		}
		defer term.Restore(fd, old)

		winch := make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-winch:
					if w, h, err := term.GetSize(fd); err == nil {
						_ = s.WindowChange(h, w)
					}
				}
			}
		}()
	}
	if err := s.Shell(); err != nil {
		return -1, fmt.Errorf("%s: start shell: %w", c.cfg.Host, err)
	}
	code, err := waitSession(ctx, s)
	if err != nil {
		return code, fmt.Errorf("%s: shell: %w", c.cfg.Host, err)
	}
	return code, nil
}
