package testbed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/ssh"
)

// Hosts reaches the lab's VMs.
type Hosts interface {
	// Runner returns vm's runner (root via sudo).
	Runner(vm string) (ssh.Runner, error)
	// Reconnect forgets vm's connection (its VM was powered off) and waits
	// up to timeout until it answers SSH again.
	Reconnect(ctx context.Context, vm string, timeout time.Duration) error
}

// run executes cmd on vm and returns its trimmed stdout.
func run(ctx context.Context, h Hosts, vm, cmd string) (string, error) {
	r, err := h.Runner(vm)
	if err != nil {
		return "", err
	}
	res, err := r.Run(ctx, cmd)
	if err != nil {
		return string(res.Stdout), err
	}
	return strings.TrimSpace(string(res.Stdout)), nil
}

// runTimeout is run bounded by d, returning even when the SSH call itself
// does not notice ctx (a session on a connection to a VM that just lost
// power blocks until the keep-alive gives up). The abandoned call finishes
// in the background.
func runTimeout(ctx context.Context, h Hosts, vm, cmd string, d time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	type res struct {
		out string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		defer cancel()
		out, err := run(ctx, h, vm, cmd)
		ch <- res{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %q: %w", vm, cmd, ctx.Err())
	}
}

// isExit reports whether err is a command that ran and exited non-zero.
func isExit(err error) bool {
	var ce *ssh.CommandError
	return errors.As(err, &ce)
}

// poll calls f every interval until it returns true, an error, or timeout.
func poll(ctx context.Context, interval, timeout time.Duration, what string, f func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		ok, err := f(ctx)
		if ok && err == nil {
			return nil
		}
		if err != nil {
			last = err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if last != nil {
				return fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), last)
			}
			return fmt.Errorf("%s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}
