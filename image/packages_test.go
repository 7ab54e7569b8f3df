package image

import (
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/labctl/labctl/provision/roles"
)

func TestPackagesIsUnionOfBaseRolesKernelAndExtra(t *testing.T) {
	extra := []string{"tcpdump", "curl"} // curl is also a role package: no duplicate
	got, err := Packages(KernelCloud, extra)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"linux-image-cloud-amd64": true}
	for _, list := range [][]string{basePackages, roles.Packages(), extra} {
		for _, p := range list {
			want[p] = true
		}
	}
	var wantList []string
	for p := range want {
		wantList = append(wantList, p)
	}
	sort.Strings(wantList)
	if diff := cmp.Diff(wantList, got); diff != "" {
		t.Errorf("Packages() mismatch (-want +got):\n%s", diff)
	}
	for _, must := range []string{"cloud-init", "python3-cffi-backend", "openssh-server", "systemd"} {
		if !want[must] {
			t.Errorf("base set lacks %s", must)
		}
	}
	if len(roles.Packages()) == 0 {
		t.Fatal("roles.Packages() is empty: the test would prove nothing")
	}
}

func TestPackagesGenericKernel(t *testing.T) {
	got, err := Packages(KernelGeneric, nil)
	if err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, p := range got {
		has[p] = true
	}
	if !has["linux-image-amd64"] || has["linux-image-cloud-amd64"] {
		t.Errorf("generic flavour must install linux-image-amd64 only, got %v", got)
	}
}

func TestPackagesRejectsBadInput(t *testing.T) {
	_, err := Packages("xen", nil)
	if want := `unknown kernel flavour "xen": use "cloud" or "generic"`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	_, err = Packages(KernelCloud, []string{"ok-pkg", "Bad;rm -rf"})
	if err == nil || err.Error() != `invalid package name "Bad;rm -rf"` {
		t.Errorf("got %v, want invalid package name error", err)
	}
}
