package app

import (
	"fmt"
	"strings"
	"unicode"
)

// escapeControl makes text from a lab file safe to print on a terminal:
// control characters (ESC sequences, carriage returns, …) and bidirectional
// overrides are shown as \x1b or \u202e instead of acting on the terminal.
// Newlines and tabs stay, since diagnostics are laid out with them.
func escapeControl(s string) string {
	if strings.IndexFunc(s, needsEscape) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !needsEscape(r):
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	if r == '\n' || r == '\t' {
		return false
	}
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == unicode.ReplacementChar
}
