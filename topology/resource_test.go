package topology

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// The bound for one lab: validate returns within 2 s and 200 MB.
// The tests fail only on a gross excess (the machine is shared and noisy);
// the evaluation budget in limits.go is what keeps a load far below it.
const (
	loadTimeBound  = 2 * time.Second
	loadAllocBound = 200 << 20
)

// measureLoad loads the sources once and returns its wall time and the
// bytes it allocated (cumulative, so an upper bound of its peak heap).
func measureLoad(srcs map[string][]byte) (time.Duration, uint64, *Lab, map[string]*hcl.File, hcl.Diagnostics) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	lab, files, diags := LoadSource(srcs, LoadOptions{})
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.TotalAlloc - before.TotalAlloc, lab, files, diags
}

func TestCorpusLoadsWithinBounds(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.hcl")
	labs, _ := filepath.Glob("../labs/*/*.hcl")
	for _, f := range append(files, labs...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, alloc, _, _, _ := measureLoad(map[string][]byte{"lab.hcl": src})
		// Time gets a 5x margin for a loaded host; allocation is exact.
		if d > 5*loadTimeBound || alloc > loadAllocBound {
			t.Errorf("%s: load took %v and allocated %d MiB; bound %v and %d MiB", f, d, alloc>>20, loadTimeBound, loadAllocBound>>20)
		}
	}
}

// The budget stops evaluation long before memory runs out: a nested for
// of 10^9 elements fails after a few MiB of values.
func TestEvaluationBudgetTriggers(t *testing.T) {
	src := []byte("lab \"t\" {}\nlocals {\n  x = [for i in range(1000) : [for j in range(1000) : [for k in range(1000) : k]]]\n}\n")
	_, _, diags := LoadSource(map[string][]byte{"lab.hcl": src}, LoadOptions{})
	if len(diags) != 1 || diags[0].Summary != "Evaluation limit exceeded" || diags[0].Subject == nil {
		t.Fatalf("want one positioned \"Evaluation limit exceeded\", got %v", diags)
	}
	// The innermost collection runs the budget out.
	line := strings.Split(string(src), "\n")[2]
	if s, col := diags[0].Subject.Start, strings.LastIndex(line, "range(")+1; s.Line != 3 || s.Column != col {
		t.Errorf("error at %d:%d, want 3:%d (the innermost collection)", s.Line, s.Column, col)
	}
	_, alloc, _, _, _ := measureLoad(map[string][]byte{"lab.hcl": src})
	if alloc > loadAllocBound/2 {
		t.Errorf("allocated %d MiB before the budget stopped it", alloc>>20)
	}
}
