// Package ssh runs commands and writes files on lab VMs over SSH
// (golang.org/x/crypto/ssh) with pinned host keys.
package ssh

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Runner executes commands on one host. The SSH client implements it; tests
// use fakes. Roles and verify depend only on this interface.
type Runner interface {
	// Host is the VM name, used in errors and log prefixes.
	Host() string
	// Run executes cmd with sh -c semantics. A non-zero exit status is
	// returned as *CommandError (with Result filled in as well).
	Run(ctx context.Context, cmd string) (Result, error)
	// WriteFile atomically replaces path (temp file + rename) with data and mode.
	WriteFile(ctx context.Context, path string, data []byte, mode fs.FileMode) error
	// ReadFile returns the file's content; a missing file is fs.ErrNotExist.
	ReadFile(ctx context.Context, path string) ([]byte, error)
}

// Streamer is a Runner that also streams a long-running command's output
// as it comes (the SSH client does; wrappers pass it on).
type Streamer interface {
	// Exec runs cmd like Run but streams stdout and stderr, and returns
	// the exit code; err only when the command could not run to the end.
	Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
}

// ErrNoStream is Stream's error when the runner underneath cannot stream.
var ErrNoStream = errors.New("runner cannot stream command output")

// Stream runs cmd on r with Exec when r is a Streamer, else returns
// ErrNoStream.
func Stream(ctx context.Context, r Runner, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	s, ok := r.(Streamer)
	if !ok {
		return -1, ErrNoStream
	}
	return s.Exec(ctx, cmd, stdin, stdout, stderr)
}

// Result is what a command printed and how it exited.
type Result struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
}

// CommandError reports a command that ran but failed: which VM, which
// command, its exit code and the tail of its stderr.
type CommandError struct {
	Host     string
	Cmd      string
	ExitCode int
	Stderr   []byte
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s: command %q exited %d: %s", e.Host, e.Cmd, e.ExitCode, Tail(e.Stderr, 10))
}

// Tail returns at most the last n lines of b.
func Tail(b []byte, n int) string {
	end := len(b)
	for end > 0 && (b[end-1] == '\n' || b[end-1] == ' ') {
		end--
	}
	start := end
	for lines := 0; start > 0; start-- {
		if b[start-1] == '\n' {
			lines++
			if lines == n {
				break
			}
		}
	}
	return string(b[start:end])
}
