package testbed

import (
	"slices"
	"testing"
)

// Looks arrive in pieces of any size; each is handed on once whole.
func TestLookWriterSplitsLooks(t *testing.T) {
	var got []string
	w := &lookWriter{look: func(out string) { got = append(got, out) }}
	for _, p := range []string{"a\n@@\nb\n@@E", "ND\nc\n", "@@END\n@@END\nd"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if want := []string{"a\n@@\nb\n", "c\n", ""}; !slices.Equal(got, want) {
		t.Errorf("looks %q, want %q", got, want)
	}
}
