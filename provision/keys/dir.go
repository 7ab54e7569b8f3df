package keys

import (
	"os"
	"path/filepath"
)

// EnvStateDir overrides the base state directory; the lab's directory is
// $LABCTL_STATE_DIR/<lab>.
const EnvStateDir = "LABCTL_STATE_DIR"

// DefaultDir returns the state directory of lab: $LABCTL_STATE_DIR/<lab>
// when set, /var/lib/labctl/state/<lab> for root, and
// $XDG_STATE_HOME/labctl/<lab> (default ~/.local/state/labctl/<lab>) for
// other users.
func DefaultDir(lab string) string {
	home, _ := os.UserHomeDir()
	return defaultDir(lab, os.Getenv, os.Geteuid(), home)
}

func defaultDir(lab string, getenv func(string) string, euid int, home string) string {
	if base := getenv(EnvStateDir); base != "" {
		return filepath.Join(base, lab)
	}
	if euid == 0 {
		return filepath.Join("/var/lib/labctl/state", lab)
	}
	if xdg := getenv("XDG_STATE_HOME"); xdg != "" && filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "labctl", lab)
	}
	return filepath.Join(home, ".local", "state", "labctl", lab)
}
