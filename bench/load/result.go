package load

import (
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// ResultSchema versions the JSON labctl load-agent prints.
const ResultSchema = "labctl.load/v1"

// Histogram geometry: microseconds from 1 µs to 10 min, 3 significant digits.
const (
	histLowest  = 1
	histHighest = int64(10 * time.Minute / time.Microsecond)
	histSigFigs = 3
)

// NewHistogram returns an empty latency histogram in microseconds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histSigFigs)
}

// Result is what one load run measured.
type Result struct {
	Schema      string    `json:"schema"`
	Label       string    `json:"label,omitempty"`
	Mode        string    `json:"mode"` // closed | open
	URL         string    `json:"url"`
	Concurrency int       `json:"concurrency"`
	RateRPS     float64   `json:"rate_rps,omitempty"`
	KeepAlive   bool      `json:"keep_alive"`
	Start       time.Time `json:"start"`
	ElapsedSec  float64   `json:"elapsed_sec"`
	StopReason  string    `json:"stop_reason"` // max_requests | max_duration | canceled
	// Requests finished with a response or a transport error.
	Requests int64 `json:"requests"`
	OK       int64 `json:"ok"`     // status < 400
	Errors   int64 `json:"errors"` // status ≥ 400 or transport error
	// Incomplete were in flight when the run ended; Unsent (open loop) were
	// due before the end but never sent because every client was busy.
	Incomplete int64            `json:"incomplete"`
	Unsent     int64            `json:"unsent,omitempty"`
	Status     map[int]int64    `json:"status"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Backends   map[string]int64 `json:"backends"` // "" = response did not name a backend
	Bytes      int64            `json:"bytes"`
	RPS        float64          `json:"rps"`        // Requests / elapsed, comparable to ab's "Requests per second"
	OKPerSec   float64          `json:"ok_per_sec"` // OK / elapsed
	Latency    Latency          `json:"latency"`
	// Histogram is the HDR latency histogram (µs), V2 compressed, base64.
	Histogram string   `json:"histogram"`
	BucketSec float64  `json:"bucket_sec"`
	Timeline  []Bucket `json:"timeline"` // by time the request was due
}

// Latency summarises the histogram in milliseconds.
type Latency struct {
	Count  int64   `json:"count"`
	Min    float64 `json:"min_ms"`
	Mean   float64 `json:"mean_ms"`
	StdDev float64 `json:"stddev_ms"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
	Max    float64 `json:"max_ms"`
}

// Bucket counts requests due in one timeline interval.
type Bucket struct {
	OK     int64 `json:"ok"`
	Errors int64 `json:"errors"`
}

// SummarizeHistogram computes Latency from a µs histogram.
func SummarizeHistogram(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Latency{
		Count:  h.TotalCount(),
		Min:    ms(h.Min()),
		Mean:   h.Mean() / 1000,
		StdDev: h.StdDev() / 1000,
		P50:    ms(h.ValueAtQuantile(50)),
		P90:    ms(h.ValueAtQuantile(90)),
		P99:    ms(h.ValueAtQuantile(99)),
		P999:   ms(h.ValueAtQuantile(99.9)),
		Max:    ms(h.Max()),
	}
}

// EncodeHistogram returns h in the compact V2 compressed base64 form.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHistogram is the inverse of EncodeHistogram.
func DecodeHistogram(s string) (*hdrhistogram.Histogram, error) {
	if s == "" {
		return NewHistogram(), nil
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// Hist decodes the result's latency histogram.
func (r *Result) Hist() (*hdrhistogram.Histogram, error) { return DecodeHistogram(r.Histogram) }
