package load

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Hard bounds: a run always stops by itself.
const (
	MaxAllowedDuration = time.Hour
	MaxAllowedRequests = 50_000_000
	DefaultTimeout     = 5 * time.Second
	DefaultBucket      = time.Second
)

// Config is one load run. Closed loop (RateRPS == 0): Concurrency clients
// each send the next request when the previous one finishes. Open loop
// (RateRPS > 0): requests are due at fixed intervals and latency counts from
// the due time, so a stalled server shows up as latency instead of as fewer
// requests (no coordinated omission); Concurrency caps requests in flight.
type Config struct {
	URL         string        `json:"url"`
	Concurrency int           `json:"concurrency"`
	MaxRequests int64         `json:"max_requests"`       // 0 = MaxAllowedRequests
	MaxDuration time.Duration `json:"max_duration_ns"`    // required, ≤ MaxAllowedDuration
	RateRPS     float64       `json:"rate_rps,omitempty"` // > 0: open loop
	KeepAlive   bool          `json:"keep_alive"`         // reuse connections (HTTP/1.1 keep-alive)
	Timeout     time.Duration `json:"timeout_ns"`         // per request; 0 = DefaultTimeout
	Host        string        `json:"host,omitempty"`     // Host header override
	Bucket      time.Duration `json:"bucket_ns"`          // timeline resolution; 0 = DefaultBucket
	Identify    Identifier    `json:"-"`                  // nil = DefaultIdentifier()
	HeaderName  string        `json:"backend_header"`     // used by Args/flags for the remote binary
	BodyKey     string        `json:"backend_body_key"`   // used by Args/flags for the remote binary
	Label       string        `json:"label,omitempty"`    // free text copied to the result
}

// withDefaults returns c with zero values replaced by defaults.
func (c Config) withDefaults() Config {
	if c.MaxRequests == 0 {
		c.MaxRequests = MaxAllowedRequests
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Bucket == 0 {
		c.Bucket = DefaultBucket
	}
	if c.Identify == nil {
		id := DefaultIdentifier()
		if c.HeaderName != "" || c.BodyKey != "" {
			id = HeaderOrBody{Header: c.HeaderName, BodyKey: c.BodyKey}
		}
		c.Identify = id
	}
	return c
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return errors.New("load config: url is empty")
	case err != nil:
		return fmt.Errorf("load config: url %q: %w", c.URL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("load config: url %q: scheme must be http or https", c.URL)
	case u.Host == "":
		return fmt.Errorf("load config: url %q: no host", c.URL)
	case c.Concurrency < 1 || c.Concurrency > 10000:
		return fmt.Errorf("load config: concurrency %d: must be 1..10000", c.Concurrency)
	case c.MaxRequests < 0 || c.MaxRequests > MaxAllowedRequests:
		return fmt.Errorf("load config: max requests %d: must be 0..%d", c.MaxRequests, MaxAllowedRequests)
	case c.MaxDuration <= 0 || c.MaxDuration > MaxAllowedDuration:
		return fmt.Errorf("load config: max duration %v: must be in (0, %v]", c.MaxDuration, MaxAllowedDuration)
	case c.RateRPS < 0 || c.RateRPS > 1e6:
		return fmt.Errorf("load config: rate %v req/s: must be 0 (closed loop) or up to 1e6", c.RateRPS)
	case c.Timeout < 0 || c.Bucket < 0:
		return errors.New("load config: timeout and bucket must not be negative")
	}
	return nil
}

// Mode is "open" or "closed".
func (c Config) Mode() string {
	if c.RateRPS > 0 {
		return "open"
	}
	return "closed"
}

// Args renders c as command-line flags for labctl load-agent (see BindFlags).
func (c Config) Args() []string {
	args := []string{
		"-url", c.URL,
		"-c", strconv.Itoa(c.Concurrency),
		"-n", strconv.FormatInt(c.MaxRequests, 10),
		"-d", c.MaxDuration.String(),
	}
	if c.RateRPS > 0 {
		args = append(args, "-rate", strconv.FormatFloat(c.RateRPS, 'g', -1, 64))
	}
	if c.KeepAlive {
		args = append(args, "-keepalive")
	}
	if c.Timeout > 0 {
		args = append(args, "-timeout", c.Timeout.String())
	}
	if c.Host != "" {
		args = append(args, "-host", c.Host)
	}
	if c.Bucket > 0 {
		args = append(args, "-bucket", c.Bucket.String())
	}
	if c.HeaderName != "" {
		args = append(args, "-backend-header", c.HeaderName)
	}
	if c.BodyKey != "" {
		args = append(args, "-backend-key", c.BodyKey)
	}
	if c.Label != "" {
		args = append(args, "-label", c.Label)
	}
	return args
}

// BindFlags registers labctl load-agent's flags on fs, filling c when fs is parsed.
func BindFlags(fs *flag.FlagSet, c *Config) {
	def := DefaultIdentifier()
	fs.StringVar(&c.URL, "url", "", "target URL (required)")
	fs.IntVar(&c.Concurrency, "c", 10, "concurrent clients (closed loop) or max in flight (open loop)")
	fs.Int64Var(&c.MaxRequests, "n", 0, "max requests (0 = "+strconv.Itoa(MaxAllowedRequests)+")")
	fs.DurationVar(&c.MaxDuration, "d", 10*time.Second, "max duration")
	fs.Float64Var(&c.RateRPS, "rate", 0, "open loop arrival rate in req/s (0 = closed loop)")
	fs.BoolVar(&c.KeepAlive, "keepalive", false, "reuse connections")
	fs.DurationVar(&c.Timeout, "timeout", DefaultTimeout, "per-request timeout")
	fs.StringVar(&c.Host, "host", "", "Host header override")
	fs.DurationVar(&c.Bucket, "bucket", DefaultBucket, "timeline bucket width")
	fs.StringVar(&c.HeaderName, "backend-header", def.Header, "response header naming the backend")
	fs.StringVar(&c.BodyKey, "backend-key", def.BodyKey, `body line "KEY: NAME" naming the backend`)
	fs.StringVar(&c.Label, "label", "", "free text copied to the result")
}
