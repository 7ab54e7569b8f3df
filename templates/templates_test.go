package templates

import (
	"slices"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	b, err := Render("fstab.tmpl", map[string]any{"Mounts": []map[string]any{
		{"Source": "/dev/md/data", "Target": "/srv/raid", "FSType": "ext4", "Options": []string{"defaults", "nofail"}, "Pass": 2}}})
	if err != nil || string(b) != "/dev/md/data /srv/raid ext4 defaults,nofail 0 2\n" {
		t.Fatalf("%q, %v", b, err)
	}
	if _, err := Render("fstab.tmpl", map[string]any{}); err == nil || !strings.Contains(err.Error(), "Mounts") {
		t.Errorf("missing key: err = %v", err)
	}
	if _, err := Render("nope.tmpl", nil); err == nil || !strings.Contains(err.Error(), `"nope.tmpl" does not exist`) {
		t.Errorf("unknown template: err = %v", err)
	}
	names, err := Names()
	if err != nil || !slices.Contains(names, "keepalived.conf.tmpl") || !slices.Contains(names, "apache-site.conf.tmpl") {
		t.Errorf("Names() = %q, %v", names, err)
	}
}
