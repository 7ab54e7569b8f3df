package topology

import (
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{
		"512MiB": 512 << 20, "2GiB": 2 << 30, "100M": 100 << 20, "1.5GiB": 3 << 29, "4k": 4 << 10, "10 B": 10, "1TiB": 1 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for in, msg := range map[string]string{
		"512":              `has no unit`,
		"512MB":            `ambiguous`,
		"1XB":              `unknown unit`,
		"MiB":              `not a size`,
		"1.2.3M":           `bad number`,
		"0.5B":             `whole number of bytes`,
		"1e30TiB":          `unknown unit "e30TiB"`,
		"9999999999999TiB": `too large`,
	} {
		if _, err := parseSize(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("parseSize(%q) error = %v, want %q", in, err, msg)
		}
	}
	if _, err := parseMemoryMiB("1.5MiB"); err == nil {
		t.Errorf("1.5MiB accepted as memory")
	}
	if s, err := parseSeconds("1m30s"); err != nil || s != 90 {
		t.Errorf("parseSeconds = %v %v", s, err)
	}
}

func TestCIDRFunctions(t *testing.T) {
	call := func(name string, args ...cty.Value) (string, error) {
		v, err := functions()[name].Call(args)
		if err != nil {
			return "", err
		}
		return v.AsString(), nil
	}
	s, n := cty.StringVal, cty.NumberIntVal
	cases := []struct {
		fn   string
		args []cty.Value
		want string
	}{
		{"cidrhost", []cty.Value{s("10.0.10.0/24"), n(11)}, "10.0.10.11"},
		{"cidrhost", []cty.Value{s("10.0.10.0/24"), n(-2)}, "10.0.10.254"},
		{"cidrsubnet", []cty.Value{s("10.0.0.0/8"), n(16), n(3)}, "10.0.3.0/24"},
		{"cidrsubnet", []cty.Value{s("172.16.0.0/12"), n(4), n(15)}, "172.31.0.0/16"},
		{"cidrnetmask", []cty.Value{s("10.0.0.0/20")}, "255.255.240.0"},
	}
	for _, c := range cases {
		if got, err := call(c.fn, c.args...); err != nil || got != c.want {
			t.Errorf("%s%v = %q, %v; want %q", c.fn, c.args, got, err, c.want)
		}
	}
	for _, c := range [][]cty.Value{{s("10.0.10.0/24"), n(256)}, {s("10.0.10.5/24"), n(1)}, {s("fe80::/64"), n(1)}, {s("x"), n(1)}} {
		if _, err := call("cidrhost", c...); err == nil {
			t.Errorf("cidrhost%v: no error", c)
		}
	}
	if _, err := call("cidrsubnet", s("10.0.0.0/24"), n(9), n(0)); err == nil {
		t.Errorf("cidrsubnet beyond /32: no error")
	}
	if _, err := call("cidrsubnet", s("10.0.0.0/24"), n(2), n(4)); err == nil {
		t.Errorf("cidrsubnet netnum overflow: no error")
	}
}
