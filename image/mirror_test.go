package image

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHostMirrors(t *testing.T) {
	tests := []struct {
		root, suite string
		want        Mirrors
	}{
		{"testdata/hostroot-deb822", "bookworm", Mirrors{Main: "http://deb.debian.org/debian", Security: "http://security.example/debian-security"}},
		{"testdata/hostroot-oneline", "bookworm", Mirrors{Main: "http://mirror.example/debian", Security: "http://mirror.example/debian-security"}},
		// Another suite: reuse the host's Debian mirror, no security source known.
		{"testdata/hostroot-oneline", "trixie", Mirrors{Main: "http://mirror.example/debian"}},
		{"testdata/does-not-exist", "bookworm", Mirrors{Main: DefaultMirror}},
	}
	for _, tt := range tests {
		t.Run(tt.root+"/"+tt.suite, func(t *testing.T) {
			got := HostMirrors(os.DirFS(tt.root), tt.suite)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestHostHasSuite(t *testing.T) {
	fsys := os.DirFS("testdata/hostroot-deb822")
	if !hostHasSuite(fsys, "bookworm") || hostHasSuite(fsys, "trixie") {
		t.Error("hostHasSuite: want bookworm listed and trixie not")
	}
}
