package roles

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/labctl/labctl/provision/roles/rolestest"
)

// TestStepWritesMatchApply runs every role on simulated guests and checks
// that the files a VM got are exactly the files its planned steps say
// they write (what `labctl plan` shows).
func TestStepWritesMatchApply(t *testing.T) {
	for name, lab := range rolestest.Variants() {
		t.Run(name, func(t *testing.T) {
			gs := guests(lab)
			if _, err := Apply(context.Background(), lab, hostsOf(gs), Options{}); err != nil {
				t.Fatal(err)
			}
			planned := map[string][]string{}
			for _, s := range Steps(lab, false) {
				for _, w := range s.Writes {
					if w == fstabBlock {
						w = fstab
					}
					if !strings.HasPrefix(w, "/dev/") && !isDir(gs[s.VM].Fake, w) {
						planned[s.VM] = append(planned[s.VM], w)
					}
				}
			}
			for vm, g := range gs {
				var wrote []string
				for _, p := range g.Writes {
					// Scratch files: markers and configs checked before use.
					if !strings.HasPrefix(p, pendingDir+"/") && !strings.HasSuffix(p, ".labctl-new") {
						wrote = append(wrote, p)
					}
				}
				slices.Sort(wrote)
				want := slices.Clone(planned[vm])
				slices.Sort(want)
				if !slices.Equal(slices.Compact(wrote), slices.Compact(want)) {
					t.Errorf("%s: wrote %q, plan says %q", vm, slices.Compact(wrote), slices.Compact(want))
				}
			}
		})
	}
}

// isDir reports whether p is a directory the steps made (an export or a
// mount point), not a file.
func isDir(f *rolestest.Fake, p string) bool {
	_, file := f.Files[p]
	return f.Exists(p) && !file
}
