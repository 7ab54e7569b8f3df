// Package rolestest provides test doubles for code that configures VMs
// through ssh.Runner: a fake Runner with an in-memory filesystem and
// scripted commands, and hand-built labs.
package rolestest

import (
	"context"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/labctl/labctl/provision/ssh"
)

// Handler answers one command; m holds the pattern's submatches.
type Handler func(f *Fake, m []string) ssh.Result

type handler struct {
	re *regexp.Regexp
	fn Handler
}

// Fake is an ssh.Runner for one VM. Commands are matched against handlers
// (the last registered wins); a command without a handler fails with exit
// 127, so tests notice every command they did not expect. Files written
// with WriteFile can be read back with ReadFile, and a few shell basics
// (test, mkdir, rm, ln, systemctl, sysctl) are simulated.
type Fake struct {
	Name string

	mu      sync.Mutex
	Files   map[string][]byte
	Modes   map[string]fs.FileMode
	Paths   map[string]bool   // directories, devices and links that exist
	Units   map[string]*Unit  // systemd units by name
	Sysctl  map[string]string // live kernel parameters
	Missing []string          // packages dpkg-query reports as not installed
	Cmds    []string          // every command run, in order (each part of a && chain)
	Writes  []string          // every path written, in order
	Trips   int               // SSH round trips: every Run, WriteFile and ReadFile
	// UnitsStale says a unit file, drop-in or fstab was written since the
	// last daemon-reload (what systemd reports as NeedDaemonReload).
	UnitsStale bool
	Reloads    int // daemon-reloads run
	handlers   []handler
}

// Unit is the simulated state of a systemd unit.
type Unit struct {
	Enabled, Active bool
	Starts          int // start, restart and reload calls
}

// New returns a Fake with the shell basics installed.
func New(name string) *Fake {
	f := &Fake{Name: name, Files: map[string][]byte{}, Modes: map[string]fs.FileMode{}, Paths: map[string]bool{},
		Units: map[string]*Unit{}, Sysctl: map[string]string{}}
	f.basics()
	return f
}

// Host implements ssh.Runner.
func (f *Fake) Host() string { return f.Name }

// Handle registers fn for commands matching the anchored regexp pattern.
func (f *Fake) Handle(pattern string, fn Handler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.handlers = append(f.handlers, handler{re: regexp.MustCompile("^(?:" + pattern + ")$"), fn: fn})
}

// Reply makes commands matching pattern print stdout and exit 0.
func (f *Fake) Reply(pattern, stdout string) {
	f.Handle(pattern, func(*Fake, []string) ssh.Result { return ssh.Result{Stdout: []byte(stdout)} })
}

// Fail makes commands matching pattern exit with code and stderr.
func (f *Fake) Fail(pattern string, code int, stderr string) {
	f.Handle(pattern, func(*Fake, []string) ssh.Result { return ssh.Result{ExitCode: code, Stderr: []byte(stderr)} })
}

// Run implements ssh.Runner.
func (f *Fake) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	if err := ctx.Err(); err != nil {
		return ssh.Result{}, err
	}
	f.mu.Lock()
	f.Trips++
	// A chain (a && b) is one round trip but several commands.
	f.Cmds = append(f.Cmds, strings.Split(cmd, " && ")...)
	f.mu.Unlock()
	res := f.dispatch(cmd)
	if res.ExitCode != 0 {
		return res, &ssh.CommandError{Host: f.Name, Cmd: cmd, ExitCode: res.ExitCode, Stderr: res.Stderr}
	}
	return res, nil
}

// dispatch answers cmd by its handler.
func (f *Fake) dispatch(cmd string) ssh.Result {
	f.mu.Lock()
	var fn Handler
	var m []string
	for i := len(f.handlers) - 1; i >= 0; i-- {
		if m = f.handlers[i].re.FindStringSubmatch(cmd); m != nil {
			fn = f.handlers[i].fn
			break
		}
	}
	f.mu.Unlock()
	if fn == nil {
		return ssh.Result{ExitCode: 127, Stderr: []byte("fake: no handler for command: " + cmd + "\n")}
	}
	return fn(f, m) // handlers lock as needed through Fake's methods
}

// WriteFile implements ssh.Runner.
func (f *Fake) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Trips++
	f.Files[p] = slices.Clone(data)
	f.Modes[p] = mode
	f.Writes = append(f.Writes, p)
	if strings.HasPrefix(p, "/etc/systemd/") || p == "/etc/fstab" {
		f.UnitsStale = true
	}
	return nil
}

// ReadFile implements ssh.Runner.
func (f *Fake) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Trips++
	b, ok := f.Files[p]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	return slices.Clone(b), nil
}

// Exists reports whether p is a file, directory, device or link.
func (f *Fake) Exists(p string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.Files[p]; ok {
		return true
	}
	if f.Paths[p] {
		return true
	}
	for q := range f.Files {
		if strings.HasPrefix(q, p+"/") {
			return true
		}
	}
	return false
}

// SetPath marks p as existing (or not).
func (f *Fake) SetPath(p string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		f.Paths[p] = true
	} else {
		delete(f.Paths, p)
		delete(f.Files, p)
	}
}

// Unit returns the named unit, creating it (disabled, inactive).
func (f *Fake) Unit(name string) *Unit {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.Units[name]
	if u == nil {
		u = &Unit{}
		f.Units[name] = u
	}
	return u
}

// Commands returns the commands run so far.
func (f *Fake) Commands() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Cmds)
}

// RoundTrips returns how many SSH round trips the commands, reads and
// writes so far would have cost.
func (f *Fake) RoundTrips() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Trips
}

// ResetCommands forgets the commands, writes and round trips so far.
func (f *Fake) ResetCommands() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Cmds = nil
	f.Writes = nil
	f.Trips = 0
}
