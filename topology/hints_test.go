package topology

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// The missing-image warning gives the command that builds the flavour the
// lab needs.
func TestImageMissingHint(t *testing.T) {
	lab := func(image, bus string) string {
		return `
lab "t" {
  image = "` + image + `"
}

network "net" {
  mode = "nat"
  cidr = "10.1.0.0/24"
}

vm "a" {
  nic "net" {}
  disk "data" {
    size = "1GiB"
    bus  = "` + bus + `"
  }
}
`
	}
	for _, c := range []struct{ image, bus, want string }{
		{"bookworm-cloud", "virtio", "`sudo labctl image build`."},
		{"bookworm-cloud", "sata", "`sudo labctl image build --kernel generic` and set image = \"bookworm-generic\""},
		{"bookworm-generic", "sata", "`sudo labctl image build --kernel generic`."},
		{"deb12", "sata", "`sudo labctl image build --name deb12 --kernel generic`"},
		{"deb12", "virtio", "`labctl image import FILE --name deb12`"},
	} {
		none := func(string) ([]string, []string, bool) { return nil, nil, false }
		_, _, diags := LoadSource(map[string][]byte{"lab.hcl": []byte(lab(c.image, c.bus))}, LoadOptions{ImageCaps: none})
		var warn *hcl.Diagnostic
		for _, d := range diags {
			if d.Severity == hcl.DiagWarning && d.Summary == "Image not found" {
				warn = d
			}
		}
		if diags.HasErrors() || warn == nil {
			t.Fatalf("%s/%s: want only the warning, got %v", c.image, c.bus, diags)
		}
		if !strings.Contains(warn.Detail, c.want) {
			t.Errorf("%s/%s: warning %q lacks %q", c.image, c.bus, warn.Detail, c.want)
		}
	}
}

func TestOneAttrPerLine(t *testing.T) {
	for src, want := range map[string]string{
		`  persistence { timeout = 300  netmask = "255.255.255.0" }`: "  persistence {\n    timeout = 300\n    netmask = \"255.255.255.0\"\n  }",
		`web "s" { servers = [vm.a, vm.b]  docroot = "/x" }`:         "web \"s\" {\n  servers = [vm.a, vm.b]\n  docroot = \"/x\"\n}",
		`vm "a" { memory = "1GiB"  nic "n" {} }`:                     "", // a nested block: no rewrite offered
		`network "n" { mode = "nat" }`:                               "", // one attribute is valid HCL
	} {
		if got := oneAttrPerLine([]byte(src), 1); got != want {
			t.Errorf("oneAttrPerLine(%s) = %q, want %q", src, got, want)
		}
	}
}
