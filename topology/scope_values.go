package topology

import (
	"math/big"
	"net/netip"
	"slices"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Typed reads of one attribute: strings, numbers, lists, enums, addresses,
// sizes and durations.

func (s scope) str(name, def string) string {
	v, ok := s.val(name, cty.String)
	if !ok {
		return def
	}
	return v.AsString()
}

func (s scope) boolean(name string, def bool) bool {
	v, ok := s.val(name, cty.Bool)
	if !ok {
		return def
	}
	return v.True()
}

// integer reads a whole number within [min, max].
func (s scope) integer(name string, def, min, max int) int {
	v, ok := s.val(name, cty.Number)
	if !ok {
		return def
	}
	i, ok := s.toInt(name, v, min, max)
	if !ok {
		return def
	}
	return i
}

func (s scope) toInt(name string, v cty.Value, min, max int) (int, bool) {
	bf := v.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact {
		s.l.errorf(s.rng(name), "Invalid value", "%s must be a whole number, got %s.", name, bf.Text('g', 10))
		return 0, false
	}
	if i < int64(min) || i > int64(max) {
		s.l.errorf(s.rng(name), "Invalid value", "%s must be between %d and %d, got %d.", name, min, max, i)
		return 0, false
	}
	return int(i), true
}

func (s scope) number(name string, def, min, max float64) float64 {
	v, ok := s.val(name, cty.Number)
	if !ok {
		return def
	}
	f, _ := v.AsBigFloat().Float64()
	if f < min || f > max {
		s.l.errorf(s.rng(name), "Invalid value", "%s must be between %g and %g, got %g.", name, min, max, f)
		return def
	}
	return f
}

func (s scope) strList(name string) ([]string, bool) {
	v, ok := s.val(name, cty.List(cty.String))
	if !ok {
		return nil, false
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		out = append(out, e.AsString())
	}
	return out, true
}

func (s scope) intList(name string, min, max int) ([]int, bool) {
	v, ok := s.val(name, cty.List(cty.Number))
	if !ok {
		return nil, false
	}
	var out []int
	for _, e := range v.AsValueSlice() {
		i, ok := s.toInt(name, e, min, max)
		if !ok {
			return nil, false
		}
		out = append(out, i)
	}
	return out, true
}

// enum reads a string that must be one of allowed (def when absent or invalid).
func enum[T ~string](s scope, name string, def T, allowed []T) T {
	v := T(s.str(name, string(def)))
	if v == def || slices.Contains(allowed, v) {
		return v
	}
	s.l.errorf(s.rng(name), "Invalid value", "%s = %q is not one of %s.%s", name, v, quoteList(allowed), didYouMean(string(v), allowed))
	return def
}

func (s scope) addr(name string) (netip.Addr, bool) {
	if !s.has(name) {
		return netip.Addr{}, false
	}
	v := s.str(name, "")
	if v == "" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(v)
	if err != nil || !a.Is4() {
		hint := ""
		if strings.Contains(v, "/") {
			hint = " Write the address without a prefix length; the network sets it."
		}
		s.l.errorf(s.rng(name), "Invalid IP address", "%s = %q is not an IPv4 address.%s", name, v, hint)
		return netip.Addr{}, false
	}
	return a, true
}

func (s scope) cidr(name string) (netip.Prefix, bool) {
	if !s.has(name) {
		return netip.Prefix{}, false
	}
	v := s.str(name, "")
	if v == "" && s.failed(name) {
		return netip.Prefix{}, false // reported where it failed
	}
	p, err := parseCIDR(v)
	if err != nil {
		s.l.errorf(s.rng(name), "Invalid CIDR", "%s: %s.", name, err)
		return netip.Prefix{}, false
	}
	return p, true
}

// size reads a size with units in bytes.
func (s scope) size(name string) (uint64, bool) {
	v, ok := s.val(name, cty.DynamicPseudoType)
	if !ok {
		return 0, false
	}
	if v.Type() == cty.Number {
		n := v.AsBigFloat().Text('f', -1)
		s.l.errorf(s.rng(name), "Missing unit", "%s needs a unit: write %q or %q.", name, n+"MiB", n+"GiB")
		return 0, false
	}
	if v.Type() != cty.String {
		s.l.errorf(s.rng(name), "Incorrect attribute value type", "%s must be a string such as \"512MiB\".", name)
		return 0, false
	}
	b, err := parseSize(v.AsString())
	if err != nil {
		s.l.errorf(s.rng(name), "Invalid size", "%s: %s.", name, err)
		return 0, false
	}
	return b, true
}

// seconds reads a duration ("2s") or a number of seconds.
func (s scope) seconds(name string, def float64) float64 {
	v, ok := s.val(name, cty.DynamicPseudoType)
	if !ok {
		return def
	}
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if f < 0 {
			s.l.errorf(s.rng(name), "Invalid duration", "%s must not be negative.", name)
			return def
		}
		return f
	case cty.String:
		f, err := parseSeconds(v.AsString())
		if err != nil {
			s.l.errorf(s.rng(name), "Invalid duration", "%s: %s.", name, err)
			return def
		}
		return f
	}
	s.l.errorf(s.rng(name), "Incorrect attribute value type", "%s must be a duration such as \"2s\".", name)
	return def
}
