package image

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// chrootEnv is the environment for commands run inside the build chroot.
var chrootEnv = []string{
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	"DEBIAN_FRONTEND=noninteractive",
	"DEBCONF_NONINTERACTIVE_SEEN=true",
	"LC_ALL=C",
	"HOME=/root",
}

// inChroot runs a shell script inside root with a clean environment.
func inChroot(ctx context.Context, r Runner, root, script string) ([]byte, error) {
	args := append([]string{root, "/usr/bin/env", "-i"}, chrootEnv...)
	args = append(args, "/bin/sh", "-ec", script)
	return r.Run(ctx, "chroot", args...)
}

// mountChroot mounts what package scripts expect (/proc, /sys, /dev) and
// the shared .deb cache. Bind mounts only: the image itself is never
// loop-mounted.
func mountChroot(ctx context.Context, r Runner, root, debCache string) error {
	mounts := [][]string{
		{"-t", "proc", "proc", filepath.Join(root, "proc")},
		{"-t", "sysfs", "sysfs", filepath.Join(root, "sys")},
		{"--bind", "/dev", filepath.Join(root, "dev")},
		{"--bind", "/dev/pts", filepath.Join(root, "dev/pts")},
		{"--bind", debCache, filepath.Join(root, "var/cache/apt/archives")},
	}
	for _, m := range mounts {
		target := m[len(m)-1]
		if err := os.MkdirAll(target, 0o755); err != nil {
			return fmt.Errorf("mount %s: %w", target, err)
		}
		if _, err := r.Run(ctx, "mount", m...); err != nil {
			return fmt.Errorf("mount %s: %w", target, err)
		}
	}
	return nil
}

// mountsUnder lists mount points at or below dir, deepest first, from
// /proc/self/mountinfo.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountinfo(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read mounts: %w", err)
	}
	sort.Slice(out, func(a, b int) bool { return len(out[a]) > len(out[b]) })
	return out, nil
}

func unescapeMountinfo(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// unmountAll unmounts everything below dir and checks nothing is left.
// It runs even after the build's context is cancelled, so it gets its own.
func unmountAll(r Runner, dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for attempt := 0; attempt < 3; attempt++ {
		mps, err := mountsUnder(dir)
		if err != nil {
			return err
		}
		if len(mps) == 0 {
			return nil
		}
		for _, mp := range mps {
			if _, err := r.Run(ctx, "umount", mp); err != nil {
				_, _ = r.Run(ctx, "umount", "-l", mp) // busy: detach lazily
			}
		}
	}
	mps, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	if len(mps) > 0 {
		return fmt.Errorf("still mounted under %s: %s", dir, strings.Join(mps, ", "))
	}
	return nil
}
