package testbed

import (
	"context"
	"sync"
	"time"
)

// stillEvery is how often a long wait says that it is still waiting.
var stillEvery = 15 * time.Second

// waitSaying runs wait and, every stillEvery until it returns, says what
// it waits for and its bound, so no wait of a bench run is silent (a
// destroyed director rebooting on a busy host takes minutes). say nil
// only runs wait.
func waitSaying(ctx context.Context, say func(format string, args ...any), what string, bound time.Duration, wait func(ctx context.Context) error) error {
	if say == nil {
		return wait(ctx)
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(stillEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				say("still waiting for %s (%s of up to %s)", what, time.Since(start).Round(time.Second), bound)
			}
		}
	})
	err := wait(ctx)
	close(done)
	wg.Wait()
	return err
}
