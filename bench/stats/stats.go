// Package stats summarises repeated measurements: mean, sample standard
// deviation and a Student-t confidence interval for the mean.
package stats

import (
	"errors"
	"fmt"
	"math"

	mstats "github.com/montanaflynn/stats"
	"gonum.org/v1/gonum/stat/distuv"
)

// Summary describes R repetitions of one measurement.
type Summary struct {
	N      int     `json:"n"`
	Mean   float64 `json:"mean"`
	SD     float64 `json:"sd"` // sample standard deviation (n-1); 0 when N == 1
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Level  float64 `json:"level"`   // confidence level of the interval, e.g. 0.95
	CILow  float64 `json:"ci_low"`  // Mean - HalfWidth
	CIHigh float64 `json:"ci_high"` // Mean + HalfWidth
	// HalfWidth is t(1-(1-Level)/2, N-1)·SD/√N; 0 when N == 1 (no interval
	// can be computed from a single value).
	HalfWidth float64 `json:"half_width"`
}

// ErrNoData is returned for an empty sample.
var ErrNoData = errors.New("no data")

// Summarize computes a Summary of xs with a two-sided confidence interval at
// level (0 < level < 1; 0 means 0.95).
func Summarize(xs []float64, level float64) (Summary, error) {
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return Summary{}, fmt.Errorf("confidence level %v: must be in (0,1)", level)
	}
	if len(xs) == 0 {
		return Summary{}, ErrNoData
	}
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Summary{}, fmt.Errorf("value %d is %v", i, x)
		}
	}
	data := mstats.Float64Data(xs)
	s := Summary{N: len(xs), Level: level}
	var err error
	if s.Mean, err = mstats.Mean(data); err != nil {
		return Summary{}, fmt.Errorf("mean: %w", err)
	}
	s.Min, _ = mstats.Min(data)
	s.Max, _ = mstats.Max(data)
	s.CILow, s.CIHigh = s.Mean, s.Mean
	if s.N < 2 {
		return s, nil
	}
	if s.SD, err = mstats.StandardDeviationSample(data); err != nil {
		return Summary{}, fmt.Errorf("standard deviation: %w", err)
	}
	t, err := TQuantile(1-(1-level)/2, float64(s.N-1))
	if err != nil {
		return Summary{}, err
	}
	s.HalfWidth = t * s.SD / math.Sqrt(float64(s.N))
	s.CILow, s.CIHigh = s.Mean-s.HalfWidth, s.Mean+s.HalfWidth
	return s, nil
}

// TQuantile returns the p-quantile of Student's t distribution with df
// degrees of freedom, e.g. TQuantile(0.975, 1) = 12.706.
func TQuantile(p, df float64) (float64, error) {
	if !(p > 0 && p < 1) {
		return 0, fmt.Errorf("t quantile: probability %v must be in (0,1)", p)
	}
	if !(df > 0) || math.IsInf(df, 0) {
		return 0, fmt.Errorf("t quantile: degrees of freedom %v must be positive and finite", df)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p), nil
}

// Interval renders the interval as "± half-width" with format (e.g.
// "%.2f"), or says that there is none: one value gives no interval, and
// a table must not show an empty cell as if it were an exact mean.
func (s Summary) Interval(format string) string {
	if s.N < 2 {
		return fmt.Sprintf("n = %d, no interval", s.N)
	}
	return "± " + fmt.Sprintf(format, s.HalfWidth)
}
