package keys

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// RemoveDir deletes the state directory of lab (keys, records). The name
// must be a plain lab name: a path such as "../.." would otherwise make
// this remove a directory far above the state directory.
func RemoveDir(lab string) error {
	if !validName.MatchString(lab) || strings.Contains(lab, "..") {
		return fmt.Errorf("remove state of lab %q: not a lab name", lab)
	}
	if err := os.RemoveAll(DefaultDir(lab)); err != nil {
		return fmt.Errorf("remove state of lab %q: %w", lab, err)
	}
	return nil
}
