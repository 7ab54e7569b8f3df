package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// virtlogd rotation: console.log.1 (oldest), .log.0, .log (newest); a line
// is cut where a piece ended.
func TestConsoleTailReadsRotatedPieces(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "lab-web-console.log")
	mustWrite(t, log+".2", "boot of yesterday\n")
	mustWrite(t, log+".1", "line 1\nline 2\n")
	mustWrite(t, log+".0", "line 3\nline 4\r\nline 5 is cu")
	mustWrite(t, log, "t in two\n\x1b[0;1;31m[FAILED]\x1b[0m Failed to start ssh.service\n")
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(log+".2", old, old); err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Minute)

	want := "line 2\nline 3\nline 4\nline 5 is cut in two\n[FAILED] Failed to start ssh.service"
	if got := ConsoleTailSince(log, 5, since); got != want {
		t.Errorf("tail:\n%q\nwant\n%q", got, want)
	}
	// The piece from before this boot is left out, however many lines are
	// asked for; without a start time it is read too.
	if got := ConsoleTailSince(log, 100, since); strings.Contains(got, "yesterday") || !strings.HasPrefix(got, "line 1\n") {
		t.Errorf("tail since boot = %q", got)
	}
	if got := ConsoleTail(log, 100); !strings.HasPrefix(got, "boot of yesterday\nline 1") {
		t.Errorf("whole tail = %q", got)
	}
	// The current piece was just truncated by a restart: the tail is in
	// the backups, not empty.
	mustWrite(t, log, "")
	if got := ConsoleTailSince(log, 2, since); got != "line 4\nline 5 is cu" {
		t.Errorf("tail with an empty current piece = %q", got)
	}
	if got := ConsoleTail(filepath.Join(dir, "missing.log"), 5); got != "" {
		t.Errorf("missing log tail = %q", got)
	}
}

// The follower returns each byte once, also across a rotation that
// renames the piece it was reading.
func TestConsoleFollowerAcrossRotation(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "c.log")
	f := &consoleFollower{path: log, since: time.Now().Add(-time.Minute)}
	if out, ok := f.Next(); ok || len(out) != 0 {
		t.Fatalf("no log yet: %q %v", out, ok)
	}
	mustWrite(t, log, "a\nb\n")
	if out, ok := f.Next(); !ok || string(out) != "a\nb\n" {
		t.Fatalf("first read %q %v", out, ok)
	}
	appendFile(t, log, "c\n")
	if err := os.Rename(log, log+".0"); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, log, "d\n")
	if out, _ := f.Next(); string(out) != "c\nd\n" {
		t.Errorf("after rotation %q, want the rest of the old piece, then the new one", out)
	}
	if out, _ := f.Next(); len(out) != 0 {
		t.Errorf("nothing new, got %q", out)
	}
	// A log labctl may not read is no evidence of a silent console.
	if os.Getuid() != 0 {
		if err := os.Chmod(log, 0); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.Next(); ok {
			t.Error("an unreadable log counts as readable")
		}
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}
