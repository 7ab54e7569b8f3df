package ssh

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff of WaitReady: the delay starts at waitMin and doubles up to
// waitMax, each sleep jittered by ±20 %.
const (
	waitMin        = 500 * time.Millisecond
	waitMax        = time.Second // a refused connect is cheap; a late one costs boot time
	maxAuthRetries = 3
)

// WaitReady dials cfg until it succeeds, timeout passes or ctx is done,
// retrying what a booting VM produces (refused, unreachable, timeouts,
// early disconnects). A host key mismatch is returned at once. The final
// error names the VM and the last failure.
func WaitReady(ctx context.Context, cfg Config, timeout time.Duration) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	delay := waitMin
	var last error
	authFails := 0
	for attempt := 1; ; attempt++ {
		conn, err := dialConn(wctx, &cfg)
		if err == nil {
			return newClient(cfg, conn), nil
		}
		if permanent(err) {
			return nil, err
		}
		if authFailed(err) {
			if authFails++; authFails >= maxAuthRetries {
				return nil, err
			}
		}
		// A dial cut short by our own deadline says less than the one before.
		if last == nil || wctx.Err() == nil {
			last = err
		}
		sleep := time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64()))
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-wctx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return nil, fmt.Errorf("wait for ssh on %s (%s): %w (last error: %v)", cfg.Host, cfg.Addr, ctx.Err(), last)
			}
			return nil, &NotReadyError{Host: cfg.Host, Addr: cfg.Addr, Waited: time.Since(start).Round(time.Millisecond), Attempts: attempt, Last: last}
		}
		delay = min(delay*2, waitMax)
	}
}

// NotReadyError is WaitReady giving up after its timeout.
type NotReadyError struct {
	Host     string
	Addr     string
	Waited   time.Duration
	Attempts int
	Last     error
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("ssh on %s (%s) not ready after %s (%d attempts); last error: %v", e.Host, e.Addr, e.Waited, e.Attempts, e.Last)
}

func (e *NotReadyError) Unwrap() error { return e.Last }
