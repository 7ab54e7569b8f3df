package roles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/labctl/labctl/topology"
)

// Checking a file's content costs one SSH round trip, and under TCG a round
// trip (session, sudo, sh) costs a noticeable fraction of a second. So a
// VM's stage starts with one command that hashes every file the stage may
// read, and the steps compare against those hashes; only files that differ
// (and need their old content for a rollback) are read one by one.

// Answers of the hash command besides a sha256.
const (
	sumMissing = "missing" // the path does not exist
	sumUnknown = "unknown" // exists but can't be hashed (a directory): read it as before
)

// stagePaths lists what the stage of role r on vm reads: its rendered
// files and the pending markers its steps look at.
func stagePaths(r *role, lab *topology.Lab, vm *topology.VM) []string {
	var out []string
	if files, err := r.files(lab, vm); err == nil {
		for _, f := range files {
			if f.path != fstabBlock { // a block in fstab, not a file
				out = append(out, f.path)
			}
		}
	}
	if u := r.name.Unit(); u != "" {
		out = append(out, pendingDir+"/"+u)
	}
	switch r.name {
	case topology.RoleRAID:
		out = append(out, pendingDir+"/"+initramfsMark)
	case topology.RoleWeb:
		out = append(out, apacheDropin) // removed when the site leaves NFS
	}
	return out
}

// sumsCmd prints one line per path, in order: the file's sha256 (as
// `sha256sum` prints it for stdin), sumMissing or sumUnknown.
func sumsCmd(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = shq(p)
	}
	return "for p in " + strings.Join(q, " ") + `; do if [ ! -e "$p" ]; then echo ` + sumMissing +
		`; else sha256sum < "$p" 2>/dev/null || echo ` + sumUnknown + `; fi; done`
}

// prefetch hashes paths in one round trip. Any failure only leaves the
// cache empty: the steps then read the files themselves and report it.
func (h *host) prefetch(ctx context.Context, paths []string) {
	h.sums = nil
	if len(paths) == 0 {
		return
	}
	out, err := h.run(ctx, sumsCmd(paths))
	if err != nil {
		return
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(paths) {
		return
	}
	h.sums = map[string]string{}
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] != sumUnknown {
			h.sums[paths[i]] = f[0]
		}
	}
}

// cachedSum returns the prefetched hash of p once: a second look goes to
// the guest, so a step never trusts a hash taken before its own changes.
func (h *host) cachedSum(p string) (string, bool) {
	s, ok := h.sums[p]
	delete(h.sums, p)
	return s, ok
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// exists reports whether p exists on the guest.
func (h *host) exists(ctx context.Context, p string) (bool, error) {
	if s, ok := h.cachedSum(p); ok {
		return s != sumMissing, nil
	}
	_, ok, err := h.read(ctx, p)
	return ok, err
}

// matches reports whether f holds its wanted content on the guest.
func (h *host) matches(ctx context.Context, f file) (bool, error) {
	if s, ok := h.cachedSum(f.path); ok {
		return s == sum(f.data), nil
	}
	cur, ok, err := h.read(ctx, f.path)
	return ok && string(cur) == string(f.data), err
}

// tests runs independent predicates (see test) in one round trip: each
// prints its exit status on a line of its own.
func (h *host) tests(ctx context.Context, cmds ...string) ([]bool, error) {
	parts := make([]string, len(cmds))
	for i, c := range cmds {
		parts[i] = "{ " + c + "; } >/dev/null 2>&1; echo $?"
	}
	out, err := h.run(ctx, strings.Join(parts, "; "))
	if err != nil {
		return nil, err
	}
	lines := strings.Fields(out)
	if len(lines) != len(cmds) {
		return nil, fmt.Errorf("%d checks printed %q", len(cmds), out)
	}
	res := make([]bool, len(cmds))
	for i, l := range lines {
		res[i] = l == "0"
	}
	return res, nil
}
