package app

import (
	"context"
	"fmt"
	"io"
	"os"
)

// ExitInterrupted is the exit code after a second interrupt (128 + SIGINT).
const ExitInterrupted = 130

// CancelOnSignal returns a context that the first signal on sigs cancels,
// so the running command stops cleanly; a second signal calls exit at once,
// as Terraform does, for a command that is stuck. Call stop when done.
func CancelOnSignal(parent context.Context, sigs <-chan os.Signal, errw io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(errw, "\n%s received: stopping cleanly (send it again to exit at once)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(errw, "\n%s received again: exiting now\n", s)
			exit(ExitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel() }
}
