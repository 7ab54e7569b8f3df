package roles

import (
	"context"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/topology"
)

// count returns how many commands of g start with prefix.
func count(g *guest, prefix string) int {
	n := 0
	for _, c := range g.Commands() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// One dpkg-query per VM answers the packages steps of all its roles; a
// package missing for a later role still fails that role's step.
func TestPackagesAskedOncePerVM(t *testing.T) {
	lab := rolestest.ThesisLab(topology.LVSNAT)
	gs := guests(lab)
	gs["web-1"].Missing = []string{"php-cli"}
	rep, err := Apply(context.Background(), lab, hostsOf(gs), Options{})
	if err == nil || !strings.Contains(err.Error(), "web-1: role web: step packages: packages not installed: php-cli (") {
		t.Fatalf("err = %v", err)
	}
	for _, s := range rep.Steps {
		if s.VM == "web-1" && s.Role == topology.RoleNFSClient && s.Step == "packages" && s.Status != StatusUnchanged {
			t.Errorf("nfs_client packages of web-1: %s", s.Status)
		}
	}
	for _, vm := range []string{"storage", "web-1", "web-2"} {
		if n := count(gs[vm], "dpkg-query "); n != 1 {
			t.Errorf("%s: %d dpkg-query calls, want 1", vm, n)
		}
	}
	if c := gs["web-2"].Commands(); !strings.Contains(c[0], " apache2 ") || !strings.Contains(c[0], " nfs-common ") || !strings.Contains(c[0], " procps") {
		t.Errorf("web-2's first command does not ask for every role's packages: %q", c[0])
	}
}
