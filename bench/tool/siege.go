package tool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/ssh"
)

// SiegeOptions are the siege flags labctl uses.
type SiegeOptions struct {
	URL         string
	Concurrency int           // -c
	Duration    time.Duration // -t, whole seconds
	Benchmark   bool          // -b: no delay between requests
	JSON        bool          // -j: report as JSON on stdout
	NoParser    bool          // --no-parser: do not fetch the page's resources
	RCFile      string        // -R: siegerc to use instead of ~/.siege/siege.conf
	Host        string        // -H "Host: …"
}

// ThesisSiege is what the source theses ran: siege -c 10 -t20S -b URL.
func ThesisSiege(u string) SiegeOptions {
	return SiegeOptions{URL: u, Concurrency: 10, Duration: 20 * time.Second, Benchmark: true}
}

// Args returns the siege command line.
func (o SiegeOptions) Args() ([]string, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("siege: url %q: need http(s)://host/…", o.URL)
	}
	if o.Concurrency < 1 {
		return nil, fmt.Errorf("siege: concurrency %d: must be ≥ 1", o.Concurrency)
	}
	secs := int(o.Duration / time.Second)
	if secs < 1 || o.Duration%time.Second != 0 {
		return nil, fmt.Errorf("siege: duration %v: must be whole seconds ≥ 1", o.Duration)
	}
	args := []string{"siege"}
	if o.RCFile != "" {
		args = append(args, "-R", o.RCFile)
	}
	args = append(args, "-c", strconv.Itoa(o.Concurrency), "-t"+strconv.Itoa(secs)+"S")
	if o.Benchmark {
		args = append(args, "-b")
	}
	if o.JSON {
		args = append(args, "-j")
	}
	if o.NoParser {
		args = append(args, "--no-parser")
	}
	if o.Host != "" {
		args = append(args, "-H", "Host: "+o.Host)
	}
	return append(args, o.URL), nil
}

// SiegeReport is siege's final report, from the text or the JSON form.
type SiegeReport struct {
	Transactions    int64   `json:"transactions"`
	AvailabilityPct float64 `json:"availability"`
	ElapsedSec      float64 `json:"elapsed_time"`
	DataMB          float64 `json:"data_transferred"`
	ResponseTimeSec float64 `json:"response_time"` // mean
	TransactionRate float64 `json:"transaction_rate"`
	ThroughputMBps  float64 `json:"throughput"`
	Concurrency     float64 `json:"concurrency"`
	Successful      int64   `json:"successful_transactions"`
	Failed          int64   `json:"failed_transactions"`
	LongestSec      float64 `json:"longest_transaction"`
	ShortestSec     float64 `json:"shortest_transaction"`
	// Aborted is set when siege gave up early (e.g. "siege aborted due to
	// excessive socket failure"); the figures then cover a shorter run.
	Aborted string `json:"aborted,omitempty"`
	// Retried: the first run ended without a usable report (siege hung)
	// and this report is from the second.
	Retried bool `json:"retried,omitempty"`
}

var siegeKeys = map[string]string{
	"Transactions": "transactions", "Availability": "availability", "Elapsed time": "elapsed_time",
	"Data transferred": "data_transferred", "Response time": "response_time",
	"Transaction rate": "transaction_rate", "Throughput": "throughput", "Concurrency": "concurrency",
	"Successful transactions": "successful_transactions", "Failed transactions": "failed_transactions",
	"Longest transaction": "longest_transaction", "Shortest transaction": "shortest_transaction",
}

// ParseSiege parses siege's combined stdout and stderr, in either report
// form (text, siege's default, or JSON with -j / json_output = true).
func ParseSiege(out []byte) (*SiegeReport, error) {
	r := &SiegeReport{}
	if i := bytes.Index(out, []byte("siege aborted")); i >= 0 {
		end := bytes.Index(out[i:], []byte("\n"))
		if end < 0 {
			end = len(out) - i
		}
		r.Aborted = strings.TrimSpace(string(out[i : i+end]))
	}
	if start := bytes.IndexByte(out, '{'); start >= 0 {
		if end := bytes.LastIndexByte(out, '}'); end > start {
			if err := json.Unmarshal(out[start:end+1], r); err != nil {
				return nil, fmt.Errorf("siege JSON report: %w", err)
			}
			return r, nil
		}
	}
	fields := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		k, v, ok := strings.Cut(sc.Text(), ":")
		name, known := siegeKeys[strings.TrimSpace(k)]
		if !ok || !known {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			return nil, fmt.Errorf("siege report line %d: %q has no value", n, sc.Text())
		}
		x, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return nil, fmt.Errorf("siege report line %d %q: %w", n, sc.Text(), err)
		}
		fields[name] = x
	}
	for _, k := range []string{"transactions", "transaction_rate", "failed_transactions", "elapsed_time"} {
		if _, ok := fields[k]; !ok {
			return nil, fmt.Errorf("siege report: no %q line (did siege finish?)", k)
		}
	}
	// Reuse the JSON field names so both forms fill the struct the same way.
	b, _ := json.Marshal(fields)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("siege report: %w", err)
	}
	return r, nil
}

// RunSiege runs siege through ex and parses its report (siege prints the
// text report on stderr and the JSON one on stdout).
//
// siege sometimes hangs at the end of a timed run instead of exiting
// (JoeDog/siege#4, #66; seen here once in ~50 runs): each run is bounded on
// the machine it runs on by `timeout` (SIGINT, which makes siege stop and
// print its report, then SIGKILL), and a run that ends without a report
// is tried once more, noted in the report's Retried.
func RunSiege(ctx context.Context, ex Executor, o SiegeOptions) (*SiegeReport, []byte, error) {
	argv, err := o.Args()
	if err != nil {
		return nil, nil, err
	}
	limit := strconv.Itoa(int(o.Duration/time.Second) + siegeGraceSec)
	argv = append([]string{"timeout", "-s", "INT", "-k", "10", limit}, argv...)
	for attempt := 1; ; attempt++ {
		stdout, stderr, runErr := ex.Exec(ctx, argv)
		raw := append(append([]byte{}, stdout...), stderr...)
		rep, perr := ParseSiege(raw)
		hung := timedOut(runErr)
		if perr == nil && rep.ElapsedSec > float64(o.Duration/time.Second)+siegeGraceSec/2 {
			// Stopped by timeout's SIGINT after hanging: the rate would
			// count the hang.
			perr, hung = fmt.Errorf("siege ran %.0fs for -t%dS (it hung and was stopped)", rep.ElapsedSec, o.Duration/time.Second), true
		}
		if perr == nil {
			rep.Retried = attempt > 1
			return rep, raw, nil
		}
		if runErr != nil {
			perr = fmt.Errorf("%w: %v", runErr, perr)
		}
		if !hung || attempt == 2 || ctx.Err() != nil {
			return nil, raw, perr
		}
	}
}

// timedOut reports whether err is `timeout` giving up on its command:
// exit 124 (after SIGINT) or 137 (SIGKILL), locally or over SSH.
func timedOut(err error) bool {
	var ce *ssh.CommandError
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ce):
		return ce.ExitCode == 124 || ce.ExitCode == 137
	case errors.As(err, &ee):
		return ee.ExitCode() == 124 || ee.ExitCode() == 137
	}
	return false
}

// siegeGraceSec is how long past its -t a siege run may take to finish
// its last requests and print the report.
const siegeGraceSec = 30
