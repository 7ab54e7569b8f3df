// Package version reports labctl's version and commit, set at link time:
//
//	go build -ldflags "-X github.com/labctl/labctl/internal/version.Version=v0.1.0 -X github.com/labctl/labctl/internal/version.Commit=abc123"
package version

import "runtime/debug"

var (
	Version = "dev"
	Commit  = ""
)

// String returns "VERSION (COMMIT)"; the commit falls back to the VCS
// revision the Go toolchain embedded in the binary.
func String() string {
	return Version + " (" + CommitID() + ")"
}

// CommitID returns the git commit labctl was built from, or "unknown".
func CommitID() string {
	if Commit != "" {
		return Commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	return "unknown"
}
