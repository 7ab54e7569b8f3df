package roles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// host is one VM being configured. Its steps run sequentially in one
// goroutine, so it needs no locking.
type host struct {
	r   ssh.Runner
	vm  *topology.VM
	lab *topology.Lab
	st  *vmState // shared by the VM's stages; nil = nothing shared
	// sums holds the stage's prefetched file hashes (see prefetch).
	sums map[string]string
	// secret is Options.Secret (nil: none).
	secret func(name string, size int) ([]byte, error)
	// slot is the VM's --parallel slot (nil: none); see slot.idle.
	slot *slot
}

// vmState is what one Apply learns about a VM and reuses in its later
// stages (stages of one VM never run at the same time).
type vmState struct {
	installed map[string]bool // packages dpkg reports installed; nil = not asked yet
}

// file is a rendered configuration file.
type file struct {
	path string
	data []byte
	mode fs.FileMode
}

// pendingDir holds markers for services whose config changed but which
// were not yet reloaded, so a run that fails in between still reloads
// them on the next run.
const pendingDir = "/var/lib/labctl/pending"

// run executes cmd and returns its stdout.
func (h *host) run(ctx context.Context, cmd string) (string, error) {
	res, err := h.r.Run(ctx, cmd)
	return string(res.Stdout), err
}

// test runs cmd as a predicate: exit 0 is true, a non-zero exit is false,
// anything else (connection loss, cancellation) is an error.
func (h *host) test(ctx context.Context, cmd string) (bool, error) {
	_, err := h.r.Run(ctx, cmd)
	if err == nil {
		return true, nil
	}
	var ce *ssh.CommandError
	if errors.As(err, &ce) {
		return false, nil
	}
	return false, err
}

// read returns a file's content, or nil and false when it does not exist.
func (h *host) read(ctx context.Context, p string) ([]byte, bool, error) {
	b, err := h.r.ReadFile(ctx, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", p, err)
	}
	return b, true, nil
}

// write replaces p (WriteFile makes its directory). The stage's hash cache
// then knows p's content, so a later look at p costs no round trip.
func (h *host) write(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	delete(h.sums, p)
	if err := h.r.WriteFile(ctx, p, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if h.sums != nil {
		h.sums[p] = sum(data)
	}
	return nil
}

// ensureFiles makes the files hold their wanted content. When any changed
// and validate is non-nil, validate runs with the new files in place; if it
// fails every file is put back as it was (or removed when it was new), so a
// service never gets activated on a config its own tool rejected.
func (h *host) ensureFiles(ctx context.Context, files []file, validate func(ctx context.Context) error) (bool, error) {
	return h.ensureUnitFiles(ctx, "", files, validate)
}

// ensureUnitFiles is ensureFiles for the config of a service: unit is
// marked pending before the first file changes, so that a run cut off
// between the write and the reload still reloads it on the next run (the
// files would then already match and say "unchanged").
func (h *host) ensureUnitFiles(ctx context.Context, unit string, files []file, validate func(ctx context.Context) error) (bool, error) {
	type old struct {
		f      file
		data   []byte
		exists bool
	}
	var changed []old
	for _, f := range files {
		if s, ok := h.cachedSum(f.path); ok {
			if s == sum(f.data) {
				continue
			}
			if s == sumMissing || validate == nil {
				// The old content is needed only to roll back a rejected config.
				changed = append(changed, old{f: f, exists: s != sumMissing})
				continue
			}
		}
		cur, ok, err := h.read(ctx, f.path)
		if err != nil {
			return false, err
		}
		if ok && bytes.Equal(cur, f.data) {
			continue
		}
		changed = append(changed, old{f: f, data: cur, exists: ok})
	}
	if len(changed) == 0 {
		return false, nil
	}
	if unit != "" {
		if err := h.markPending(ctx, unit); err != nil {
			return false, err
		}
	}
	for _, c := range changed {
		if err := h.write(ctx, c.f.path, c.f.data, c.f.mode); err != nil {
			return true, err
		}
	}
	if validate == nil {
		return true, nil
	}
	verr := validate(ctx)
	if verr == nil {
		return true, nil
	}
	// Restore with a fresh context: the old config must come back even
	// when the run is being cancelled.
	rctx := context.WithoutCancel(ctx)
	var rerr []error
	for _, c := range changed {
		if c.exists {
			rerr = append(rerr, h.r.WriteFile(rctx, c.f.path, c.data, c.f.mode))
		} else {
			_, err := h.run(rctx, "rm -f "+shq(c.f.path))
			rerr = append(rerr, err)
		}
	}
	if err := errors.Join(rerr...); err != nil {
		return true, fmt.Errorf("validate new config: %w (and restoring the old files failed: %v)", verr, err)
	}
	return false, fmt.Errorf("validate new config (old files restored): %w", verr)
}

// ensureBlock keeps the lines between "# BEGIN labctl <id>" and
// "# END labctl <id>" in p equal to body, leaving the rest of the file
// alone. An empty body removes the block.
func (h *host) ensureBlock(ctx context.Context, p, id string, body []byte) (bool, error) {
	cur, _, err := h.read(ctx, p)
	if err != nil {
		return false, err
	}
	next := replaceBlock(cur, id, body)
	if bytes.Equal(cur, next) {
		return false, nil
	}
	return true, h.write(ctx, p, next, 0o644)
}

func replaceBlock(cur []byte, id string, body []byte) []byte {
	begin, end := "# BEGIN labctl "+id, "# END labctl "+id
	var block string
	if len(body) > 0 {
		b := string(body)
		if !strings.HasSuffix(b, "\n") {
			b += "\n"
		}
		block = begin + "\n" + b + end + "\n"
	}
	lines := strings.SplitAfter(string(cur), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var out strings.Builder
	in, placed := false, false
	for _, l := range lines {
		if !strings.HasSuffix(l, "\n") {
			l += "\n"
		}
		t := strings.TrimSuffix(l, "\n")
		switch {
		case t == begin && !placed:
			// Replace in place, so several blocks in one file keep their order.
			in, placed = true, true
			out.WriteString(block)
		case t == begin:
			in = true // a duplicate block: drop it
		case in && t == end:
			in = false
		case !in:
			out.WriteString(l)
		}
	}
	if !placed {
		out.WriteString(block)
	}
	return []byte(out.String())
}

var pendingData = []byte("config changed\n")

// markPending records that unit must be reloaded or restarted; a marker
// this stage already wrote is not written again.
func (h *host) markPending(ctx context.Context, unit string) error {
	p := pendingDir + "/" + unit
	if h.sums[p] == sum(pendingData) {
		return nil
	}
	return h.write(ctx, p, pendingData, 0o644)
}

// systemctlEnable enables unit without what `systemctl enable` also does
// by default and labctl's units do not need: syncing a SysV init script's
// rc.d links (update-rc.d, Perl: 15 s of a TCG guest for apache2) and a
// daemon-reload (reloadIfNeeded does one only when a unit file changed).
func systemctlEnable(unit string) string {
	return "SYSTEMCTL_SKIP_SYSV=1 systemctl enable --quiet --no-reload " + shq(unit)
}

// isEnabled is the predicate that matches systemctlEnable.
func isEnabled(unit string) string {
	return "SYSTEMCTL_SKIP_SYSV=1 systemctl is-enabled --quiet " + shq(unit)
}

// needsReload is true when systemd's loaded copy of unit is older than its
// files on disk (unit file, drop-ins, or the fstab it was generated from):
// the only case a daemon-reload is for.
func needsReload(unit string) string {
	return `[ "$(systemctl show -P NeedDaemonReload ` + shq(unit) + `)" = yes ]`
}

// ensureService enables and starts unit. If it already runs and its config
// changed (a pending marker exists), it is reloaded or restarted (action
// "reload" or "restart"); otherwise it is left alone. It costs one round
// trip to look and at most one to act.
func (h *host) ensureService(ctx context.Context, unit, action string) (bool, error) {
	mark := pendingDir + "/" + unit
	st, err := h.tests(ctx, "test -e "+shq(mark), needsReload(unit), isEnabled(unit), "systemctl is-active --quiet "+shq(unit))
	if err != nil {
		return false, err
	}
	pending, reload, enabled, active := st[0], st[1], st[2], st[3]
	var cmds []string
	if reload {
		cmds = append(cmds, "systemctl daemon-reload")
	}
	if !enabled {
		cmds = append(cmds, systemctlEnable(unit))
	}
	switch {
	case !active:
		cmds = append(cmds, "systemctl start "+shq(unit))
	case pending:
		cmds = append(cmds, "systemctl "+action+" "+shq(unit))
	}
	if pending {
		cmds = append(cmds, "rm -f "+shq(mark))
	}
	if len(cmds) == 0 {
		return false, nil
	}
	// One command: each part runs only when the one before it worked, so
	// a failed start keeps its pending marker for the next run.
	if _, err := h.run(ctx, strings.Join(cmds, " && ")); err != nil {
		return !enabled || !active, err
	}
	delete(h.sums, mark)
	return !enabled || !active || pending, nil
}

// shq quotes s for sh.
func shq(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
