package stats

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTQuantileKnownValues(t *testing.T) {
	// Two-sided 95% critical values from standard t tables.
	cases := []struct {
		p, df, want float64
	}{
		{0.975, 1, 12.706},
		{0.975, 2, 4.303},
		{0.975, 4, 2.776},
		{0.975, 9, 2.262},
		{0.975, 29, 2.045},
		{0.995, 9, 3.250},
		{0.95, 9, 1.833},
		{0.975, 1e6, 1.960},
	}
	for _, c := range cases {
		got, err := TQuantile(c.p, c.df)
		if err != nil {
			t.Fatalf("TQuantile(%v,%v): %v", c.p, c.df, err)
		}
		if !near(got, c.want, 0.0006) {
			t.Errorf("TQuantile(%v,%v) = %.5f, want %.3f", c.p, c.df, got, c.want)
		}
	}
}

func TestTQuantileBadInput(t *testing.T) {
	for _, c := range [][2]float64{{0, 3}, {1, 3}, {0.5, 0}, {0.5, -1}, {math.NaN(), 2}, {0.5, math.Inf(1)}} {
		if _, err := TQuantile(c[0], c[1]); err == nil {
			t.Errorf("TQuantile(%v,%v): want error", c[0], c[1])
		}
	}
}

func TestSummarizeByHand(t *testing.T) {
	// 2,4,4,4,5,5,7,9: mean 5, sum of squares 32, sample variance 32/7,
	// sd = 2.13809, t(0.975,7) = 2.36462, half width = 2.36462·2.13809/√8 = 1.78750.
	s, err := Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 8 || s.Mean != 5 || s.Min != 2 || s.Max != 9 {
		t.Fatalf("got %+v", s)
	}
	if !near(s.SD, 2.13809, 1e-5) {
		t.Errorf("sd = %v", s.SD)
	}
	if !near(s.HalfWidth, 1.78750, 1e-4) || !near(s.CILow, 3.21250, 1e-4) || !near(s.CIHigh, 6.78750, 1e-4) {
		t.Errorf("ci = %v ± %v [%v, %v]", s.Mean, s.HalfWidth, s.CILow, s.CIHigh)
	}
}

func TestSummarizeThesisLikeSample(t *testing.T) {
	// Three repetitions: mean 5500, sd 100, t(0.975,2) = 4.30265,
	// half width = 4.30265·100/√3 = 248.414.
	s, err := Summarize([]float64{5400, 5500, 5600}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Level != 0.95 || s.Mean != 5500 || !near(s.SD, 100, 1e-9) || !near(s.HalfWidth, 248.414, 1e-3) {
		t.Errorf("got %+v", s)
	}
}

func TestSummarizeSingleValue(t *testing.T) {
	s, err := Summarize([]float64{42}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	if s.Mean != 42 || s.SD != 0 || s.HalfWidth != 0 || s.CILow != 42 || s.CIHigh != 42 {
		t.Errorf("got %+v", s)
	}
}

func TestSummarizeBadInput(t *testing.T) {
	if _, err := Summarize(nil, 0.95); err != ErrNoData {
		t.Errorf("empty: err = %v", err)
	}
	if _, err := Summarize([]float64{1, 2}, 1.5); err == nil {
		t.Error("level 1.5: want error")
	}
	if _, err := Summarize([]float64{1, math.NaN()}, 0.95); err == nil {
		t.Error("NaN: want error")
	}
}

func TestInterval(t *testing.T) {
	one, _ := Summarize([]float64{2.5}, 0.95)
	three, _ := Summarize([]float64{2.1, 2.6, 3.1}, 0.95)
	if got := one.Interval("%.2f"); got != "n = 1, no interval" {
		t.Errorf("n = 1: %q", got)
	}
	if got := three.Interval("%.2f"); got != "± 1.24" {
		t.Errorf("n = 3: %q", got)
	}
}
