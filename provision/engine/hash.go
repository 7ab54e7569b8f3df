package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
)

// hashOf is the spec hash of v: the first 16 hex digits of the SHA-256 of
// its JSON form (encoding/json sorts map keys and keeps struct order, so
// equal values give equal hashes).
func hashOf(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("spec hash: %w", err)
	}
	return sha256Hex(b)[:16], nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dhcpRange is the upper half of the prefix minus the broadcast address,
// leaving the lower half for static addresses.
func dhcpRange(p netip.Prefix) (string, string, error) {
	p = p.Masked()
	if !p.Addr().Is4() || p.Bits() > 29 {
		return "", "", fmt.Errorf("DHCP needs an IPv4 network of /29 or larger, got %s", p)
	}
	base := p.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	size := uint32(1) << (32 - p.Bits())
	start, end := n+size/2, n+size-2
	return u32addr(start).String(), u32addr(end).String(), nil
}

func u32addr(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
