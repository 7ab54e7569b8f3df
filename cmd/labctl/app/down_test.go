package app

import (
	"strings"
	"testing"
)

// A bare --name is checked before libvirt is dialled: it names the state
// directory down deletes and prefixes the libvirt objects it removes.
func TestDownRefusesABadName(t *testing.T) {
	for _, name := range []string{"../..", "..", "Default", "a/b", "-x"} {
		code, _, errs := run(t, "down", "--connect", "test:///nonexistent", "--name="+name)
		if code == 0 || !strings.Contains(errs, "lab name") {
			t.Errorf("down --name=%s: exit %d, %q", name, code, errs)
		}
	}
}
