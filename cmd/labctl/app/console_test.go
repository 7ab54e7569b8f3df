package app

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFollowPrintsAndRestartsAfterTruncation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "console.log")
	if err := os.WriteFile(path, []byte("boot 1\nlogin: "), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := follow(context.Background(), path, &out, false); err != nil {
		t.Fatal(err)
	}
	if out.String() != "boot 1\nlogin: " {
		t.Fatalf("no-follow printed %q", out.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	w := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- follow(ctx, path, w, true) }()
	waitFor(t, w, "login: ")
	// The VM restarts: libvirt truncates the log (append='off').
	if err := os.WriteFile(path, []byte("boot 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, "boot 2\n")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, w *syncBuffer, suffix string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !bytes.HasSuffix(w.Bytes(), []byte(suffix)) {
		if time.Now().After(deadline) {
			t.Fatalf("output %q never ended with %q", w.Bytes(), suffix)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

func TestFollowRemoteNeedsSSH(t *testing.T) {
	err := followRemote(context.Background(), "qemu+tcp://labhost/system", "/var/log/labctl/web-1.log", io.Discard, false)
	if err == nil || !strings.Contains(err.Error(), "qemu+ssh") || !strings.Contains(err.Error(), "/var/log/labctl/web-1.log") {
		t.Errorf("got %v, want a message naming the log and qemu+ssh", err)
	}
}
