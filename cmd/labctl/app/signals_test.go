package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the signal goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFirstSignalCancelsSecondExits(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	exited := make(chan int, 1)
	var errw lockedBuffer
	ctx, stop := CancelOnSignal(context.Background(), sigs, &errw, func(code int) { exited <- code })
	defer stop()

	sigs <- os.Interrupt
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("first signal did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("first signal exited with %d; it must only cancel", code)
	case <-time.After(50 * time.Millisecond):
	}
	sigs <- syscall.SIGTERM
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("second signal: exit code %d, want 130", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second signal did not exit")
	}
	if out := errw.String(); !strings.Contains(out, "stopping cleanly") || !strings.Contains(out, "exiting now") {
		t.Errorf("stderr %q: want both notices", out)
	}
}

func TestStopEndsSignalWatcher(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	before := runtime.NumGoroutine()
	_, stop := CancelOnSignal(context.Background(), sigs, &lockedBuffer{}, func(int) { t.Error("exit called") })
	stop()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after stop, %d before", n, before)
	}
	sigs <- os.Interrupt // nobody listens any more: exit must not be called
	time.Sleep(20 * time.Millisecond)
}

func TestDiagnosticsEscapeControlCharacters(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lab.hcl")
	// An ESC sequence (clear screen) and a bidi override in a lab value.
	src := "lab \"t\" {}\n\nnetwork \"n\" {\n  mode = \"\x1b[2J\u202eevil\"\n  cidr = \"10.1.0.0/24\"\n}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := run(t, "validate", path)
	if code == 0 {
		t.Fatal("validate accepted an invalid mode")
	}
	if strings.ContainsAny(errs, "\x1b\u202e") {
		t.Errorf("stderr contains raw control characters: %q", errs)
	}
	if !strings.Contains(errs, `\x1b[2J`) || !strings.Contains(errs, `\u202e`) {
		t.Errorf("stderr does not show the escaped characters: %q", errs)
	}
}

func TestEscapeControlKeepsLayout(t *testing.T) {
	in := "a\tb\nc\rd\x07é"
	if got, want := escapeControl(in), "a\tb\nc\\x0dd\\x07é"; got != want {
		t.Errorf("escapeControl(%q) = %q, want %q", in, got, want)
	}
}
