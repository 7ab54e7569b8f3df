package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Runner runs host commands. The builder and importer go through it so
// tests can record commands and fake their output without root.
type Runner interface {
	// Run runs name with args and returns its stdout. Stderr is copied to
	// the runner's log; on failure the error carries its last lines.
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// CommandError is a host command that failed.
type CommandError struct {
	Cmd    string
	Stderr string // last lines of stderr (and stdout, which apt uses for errors)
	Err    error
}

func (e *CommandError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Cmd, e.Err)
	if e.Stderr != "" {
		msg += "\n" + e.Stderr
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// ExecRunner runs commands with os/exec. Log receives stderr (and, when
// Verbose, stdout) as it is produced; nil discards it.
type ExecRunner struct {
	Log     io.Writer
	Verbose bool
}

// Run implements Runner.
func (r ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	// Own process group, so cancelling also kills what a chroot'ed shell
	// started (apt, dpkg) instead of leaving it writing into staging.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout bytes.Buffer
	tail := &tailBuffer{max: 4096}
	log := r.Log
	if log == nil {
		log = io.Discard
	}
	cmd.Stderr = io.MultiWriter(tail, log)
	if r.Verbose {
		cmd.Stdout = io.MultiWriter(&stdout, tail, log)
	} else {
		cmd.Stdout = io.MultiWriter(&stdout, tail)
	}
	err := cmd.Run()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = ctxErr
		}
		return stdout.Bytes(), &CommandError{Cmd: shellQuote(name, args), Stderr: lastLines(tail.String(), 15), Err: err}
	}
	return stdout.Bytes(), nil
}

// tailBuffer keeps only the last max bytes written to it.
type tailBuffer struct {
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func shellQuote(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"$;&|<>*?") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	s := strings.Join(parts, " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Tool is a host program the builder needs and the Debian package providing it.
type Tool struct {
	Name    string
	Package string
}

// buildTools are needed by `labctl image build`.
var buildTools = []Tool{
	{"debootstrap", "debootstrap"},
	{"mkfs.ext4", "e2fsprogs"},
	{"qemu-img", "qemu-utils"},
	{"chroot", "coreutils"},
	{"mount", "mount"},
	{"umount", "mount"},
	{"apt-cache", "apt"},
}

// importTools are needed by `labctl image import`.
var importTools = []Tool{
	{"qemu-img", "qemu-utils"},
}

// MissingToolsError lists the programs not found and how to get them.
type MissingToolsError struct{ Tools []Tool }

func (e *MissingToolsError) Error() string {
	var names, pkgs []string
	seen := map[string]bool{}
	for _, t := range e.Tools {
		names = append(names, t.Name)
		if !seen[t.Package] {
			seen[t.Package] = true
			pkgs = append(pkgs, t.Package)
		}
	}
	return fmt.Sprintf("missing host tools: %s (install with: apt-get install %s)",
		strings.Join(names, ", "), strings.Join(pkgs, " "))
}

// checkTools reports every tool lookPath cannot find, in one error.
func checkTools(lookPath func(string) (string, error), tools []Tool) error {
	var missing []Tool
	for _, t := range tools {
		if _, err := lookPath(t.Name); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return &MissingToolsError{Tools: missing}
	}
	return nil
}

// ErrNotRoot is returned when a build is attempted without root.
var ErrNotRoot = errors.New("building an image needs root (debootstrap, chroot and mkfs.ext4 -d must own every file): run `sudo labctl image build`")
