package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// virtlogd writes a domain's serial console to <domain>-console.log and,
// when the file reaches max_size (2 MiB by default), renames it to .log.0
// (.log.0 to .log.1, …, keeping max_backups, default 3). A boot that loops
// on failures fills several pieces, so both the tail and the stage must be
// read across them. maxPieces bounds how many backups are looked for.
const maxPieces = 16

// consolePieces returns the pieces of the console log at path, oldest
// first (path.N … path.0, path), that were written at or after since: a
// piece last written before since is from an earlier boot (the domain's
// start truncates path, not the backups). Missing files are skipped.
func consolePieces(path string, since time.Time) []piece {
	var out []piece
	for i := maxPieces - 1; i >= -1; i-- {
		p := path
		if i >= 0 {
			p = fmt.Sprintf("%s.%d", path, i)
		}
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if i >= 0 && fi.ModTime().Before(since) {
			continue
		}
		out = append(out, piece{path: p, info: fi})
	}
	return out
}

type piece struct {
	path string
	info os.FileInfo
	off  int64 // bytes already read (consoleFollower)
}

// ConsoleTail returns the last n lines of a serial console log, reading
// the rotated pieces too, or "" when it cannot be read (e.g. libvirt runs
// on another host).
func ConsoleTail(path string, n int) string {
	return ConsoleTailSince(path, n, time.Time{})
}

// ConsoleTailSince is ConsoleTail over the pieces written since a boot
// started (see consolePieces).
func ConsoleTailSince(path string, n int, since time.Time) string {
	pieces := consolePieces(path, since)
	var lines []string
	// Newest piece first, until n lines are known; a line cut by the
	// rotation is joined with its start in the older piece.
	for i := len(pieces) - 1; i >= 0 && len(lines) <= n; i-- {
		b, err := os.ReadFile(pieces[i].path)
		if err != nil || len(b) == 0 {
			continue
		}
		s := cleanConsole(string(b))
		if len(lines) > 0 && !strings.HasSuffix(s, "\n") {
			nl := strings.LastIndexByte(s, '\n')
			lines[0] = s[nl+1:] + lines[0]
			s = s[:nl+1]
		}
		part := strings.Split(strings.TrimRight(s, "\n"), "\n")
		if s == "" {
			part = nil
		}
		lines = append(part, lines...)
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// cleanConsole drops carriage returns (and with them systemd's spinner
// redraws: only the last state of a redrawn line stays) and ANSI colour
// codes, which serial consoles carry.
func cleanConsole(s string) string {
	s = ansiEscape.ReplaceAllString(s, "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimRight(l, "\r")
		if j := strings.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// consoleFollower reads what a booting VM's console log gained since the
// last call, across rotations: a piece keeps its identity (inode) when
// virtlogd renames it, so the offset read so far follows it. One follows
// one boot attempt (a start truncates the log).
type consoleFollower struct {
	path  string
	since time.Time
	seen  []piece
}

// Next returns the bytes written since the previous call, oldest first,
// and whether the log can be read here at all.
func (f *consoleFollower) Next() ([]byte, bool) {
	pieces := consolePieces(f.path, f.since)
	if len(pieces) == 0 {
		return nil, false
	}
	// A log labctl may not read (not root, and not in libvirt's log
	// group) tells nothing: a silent console must not look stuck.
	fh, err := os.Open(pieces[len(pieces)-1].path)
	if err != nil {
		return nil, false
	}
	fh.Close()
	var out []byte
	for i := range pieces {
		p := &pieces[i]
		for _, s := range f.seen {
			if os.SameFile(s.info, p.info) {
				p.off = s.off
			}
		}
		if p.info.Size() < p.off { // truncated under us: read it again
			p.off = 0
		}
		if p.info.Size() == p.off {
			continue
		}
		if b, err := readFrom(p.path, p.off, p.info.Size()); err == nil {
			out = append(out, b...)
			p.off += int64(len(b))
		}
	}
	f.seen = pieces
	return out, true
}

func readFrom(path string, off, end int64) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	b := make([]byte, end-off)
	n, err := fh.ReadAt(b, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b[:n], nil
}
