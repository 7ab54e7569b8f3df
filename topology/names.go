package topology

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

func sum(parts ...string) [32]byte {
	h := sha256.New()
	for i, p := range parts {
		if i > 0 {
			h.Write([]byte{'/'})
		}
		h.Write([]byte(p))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// bridgeName derives a ≤15-character Linux bridge name for a lab network.
func bridgeName(lab, net string) string {
	s := sum(lab, net)
	return "lc" + hex.EncodeToString(s[:5])
}

// derivedMAC is 52:54:00 (QEMU's OUI) plus 3 bytes of a hash; attempt > 0
// re-hashes after a collision.
func derivedMAC(lab, vm, net string, attempt int) string {
	parts := []string{lab, vm, net}
	if attempt > 0 {
		parts = append(parts, fmt.Sprint(attempt))
	}
	s := sum(parts...)
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", s[0], s[1], s[2])
}

// routerID is a stable VRRP id in 1..254 (the internal instance uses +1).
func routerID(lab, service string, attempt int) int {
	parts := []string{lab, service}
	if attempt > 0 {
		parts = append(parts, fmt.Sprint(attempt))
	}
	s := sum(parts...)
	return int(binary.BigEndian.Uint16(s[:2])%254) + 1
}

// diskSerial is "lc-<vm>-<disk>", shortened with a hash beyond 20 characters
// (the virtio serial limit) so serials stay unique.
func diskSerial(vm, disk string) string {
	s := "lc-" + vm + "-" + disk
	if len(s) <= 20 {
		return s
	}
	h := sum(vm, disk)
	return s[:11] + "-" + hex.EncodeToString(h[:4])
}

// diskLetters names the n-th disk of a prefix like Linux does: a … z, aa …
func diskLetters(n int) string {
	s := ""
	for n >= 0 {
		s = string(rune('a'+n%26)) + s
		n = n/26 - 1
	}
	return s
}
