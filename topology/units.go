package topology

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Size units. K, M, G and T are binary like QEMU's "-m 512M"; the SI
// spellings KB/MB/GB/TB are rejected as ambiguous rather than guessed.
var sizeUnits = map[string]uint64{
	"b":   1,
	"k":   1 << 10,
	"kib": 1 << 10,
	"m":   1 << 20,
	"mib": 1 << 20,
	"g":   1 << 30,
	"gib": 1 << 30,
	"t":   1 << 40,
	"tib": 1 << 40,
}

// parseSize parses "512MiB", "2GiB", "100M" or "1.5GiB" into bytes.
func parseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	if num == "" {
		return 0, fmt.Errorf("%q is not a size; write a number and a unit, e.g. \"512MiB\" or \"2GiB\"", s)
	}
	if unit == "" {
		return 0, fmt.Errorf("%q has no unit; write e.g. \"%sMiB\" or \"%sGiB\"", s, num, num)
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		switch strings.ToLower(unit) {
		case "kb", "mb", "gb", "tb":
			bin := strings.ToUpper(unit[:1]) + "iB"
			return 0, fmt.Errorf("unit %q in %q is ambiguous (decimal or binary?); use %q, e.g. \"%s%s\"", unit, s, bin, num, bin)
		}
		return 0, fmt.Errorf("unknown unit %q in %q; use B, KiB, MiB, GiB or TiB (K, M, G, T mean the same)", unit, s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: bad number %q", s, num)
	}
	v := f * float64(mult)
	if v >= math.MaxUint64/2 || v < 0 || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	return uint64(v), nil
}

// parseMemoryMiB parses a memory size that must be a whole number of MiB.
func parseMemoryMiB(s string) (uint64, error) {
	b, err := parseSize(s)
	if err != nil {
		return 0, err
	}
	if b%(1<<20) != 0 {
		return 0, fmt.Errorf("%q is not a whole number of MiB", s)
	}
	return b >> 20, nil
}

// parseSeconds parses a Go duration ("2s", "500ms", "1m30s").
func parseSeconds(s string) (float64, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration; write e.g. \"2s\", \"500ms\" or \"1m\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d.Seconds(), nil
}
