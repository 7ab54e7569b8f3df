package tool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ABOptions are the ab flags labctl uses.
type ABOptions struct {
	URL         string // must include a path, e.g. http://VIP/
	Requests    int    // -n
	Concurrency int    // -c
	KeepAlive   bool   // -k
	TimeoutSec  int    // -s (0 = ab default, 30 s)
	Host        string // -H "Host: …"
}

// ThesisAB is what the source theses ran: ab -n 100000 -c 10 URL.
func ThesisAB(u string) ABOptions { return ABOptions{URL: u, Requests: 100000, Concurrency: 10} }

// Args returns the ab command line.
func (o ABOptions) Args() ([]string, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" || u.Path == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("ab: url %q: need http(s)://host/path", o.URL)
	}
	if o.Requests < 1 || o.Concurrency < 1 || o.Concurrency > o.Requests {
		return nil, fmt.Errorf("ab: need 1 ≤ concurrency (%d) ≤ requests (%d)", o.Concurrency, o.Requests)
	}
	args := []string{"ab", "-n", strconv.Itoa(o.Requests), "-c", strconv.Itoa(o.Concurrency)}
	if o.KeepAlive {
		args = append(args, "-k")
	}
	if o.TimeoutSec > 0 {
		args = append(args, "-s", strconv.Itoa(o.TimeoutSec))
	}
	if o.Host != "" {
		args = append(args, "-H", "Host: "+o.Host)
	}
	return append(args, o.URL), nil
}

// ABReport is ab's report. Times are in milliseconds unless named Sec.
type ABReport struct {
	ServerSoftware   string              `json:"server_software,omitempty"`
	ServerHostname   string              `json:"server_hostname"`
	ServerPort       int                 `json:"server_port"`
	DocumentPath     string              `json:"document_path"`
	DocumentLength   int64               `json:"document_length"`
	Concurrency      int                 `json:"concurrency"`
	TimeTakenSec     float64             `json:"time_taken_sec"`
	Complete         int64               `json:"complete"`
	Failed           int64               `json:"failed"`
	FailedConnect    int64               `json:"failed_connect"`
	FailedReceive    int64               `json:"failed_receive"`
	FailedLength     int64               `json:"failed_length"`
	FailedExceptions int64               `json:"failed_exceptions"`
	Non2xx           int64               `json:"non_2xx"`
	WriteErrors      int64               `json:"write_errors"`
	KeepAlive        int64               `json:"keep_alive_requests"`
	TotalBytes       int64               `json:"total_transferred"`
	HTMLBytes        int64               `json:"html_transferred"`
	RequestsPerSec   float64             `json:"requests_per_sec"`
	TimePerRequest   float64             `json:"time_per_request_ms"`     // mean
	TimePerRequestCC float64             `json:"time_per_request_all_ms"` // mean, across all concurrent requests
	TransferKBps     float64             `json:"transfer_kbytes_per_sec"`
	ConnTimes        map[string]ConnTime `json:"connection_times,omitempty"` // Connect, Processing, Waiting, Total
	Percentiles      []Percentile        `json:"percentiles,omitempty"`
	Unreliable       bool                `json:"unreliable,omitempty"` // ab printed its "NOT reliable" warning
}

// ConnTime is one row of ab's "Connection Times (ms)" table.
type ConnTime struct {
	Min, Mean, SD, Median, Max float64
}

// Percentile is one row of ab's "Percentage of the requests served within a
// certain time" table.
type Percentile struct {
	Pct float64 `json:"pct"`
	Ms  float64 `json:"ms"`
}

// ParseAB parses ab's stdout.
func ParseAB(out []byte) (*ABReport, error) {
	r := &ABReport{}
	seen := map[string]bool{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "Connection Times (ms)"):
			section = "conn"
			continue
		case strings.HasPrefix(line, "Percentage of the requests served"):
			section = "pct"
			continue
		case strings.HasPrefix(line, "ERROR: The median"), strings.HasPrefix(line, "WARNING: The median"),
			strings.Contains(line, "These results are NOT reliable"):
			r.Unreliable = true
			continue
		case trimmed == "":
			continue
		}
		if err := r.parseLine(section, line, trimmed, seen); err != nil {
			return nil, fmt.Errorf("ab report line %d %q: %w", n, trimmed, err)
		}
	}
	for _, k := range []string{"Complete requests", "Failed requests", "Requests per second", "Time taken for tests"} {
		if !seen[k] {
			return nil, fmt.Errorf("ab report: no %q line (did ab finish?)", k)
		}
	}
	return r, nil
}

func (r *ABReport) parseLine(section, line, trimmed string, seen map[string]bool) error {
	switch section {
	case "conn":
		name, rest, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil // the header row "min mean[+/-sd] median max"
		}
		f := strings.Fields(rest)
		if len(f) != 5 {
			return fmt.Errorf("want 5 columns, got %d", len(f))
		}
		var v [5]float64
		for i := range f {
			x, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return err
			}
			v[i] = x
		}
		if r.ConnTimes == nil {
			r.ConnTimes = map[string]ConnTime{}
		}
		r.ConnTimes[name] = ConnTime{Min: v[0], Mean: v[1], SD: v[2], Median: v[3], Max: v[4]}
		return nil
	case "pct":
		f := strings.Fields(trimmed)
		if len(f) < 2 || !strings.HasSuffix(f[0], "%") {
			return fmt.Errorf("want \"NN%% MS\"")
		}
		p, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "%"), 64)
		if err != nil {
			return err
		}
		ms, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return err
		}
		r.Percentiles = append(r.Percentiles, Percentile{Pct: p, Ms: ms})
		return nil
	}
	if strings.HasPrefix(trimmed, "(Connect:") {
		return r.parseFailedDetail(trimmed)
	}
	key, val, ok := strings.Cut(line, ":")
	if !ok || strings.HasPrefix(line, " ") {
		return nil // banner, progress ("Completed 500 requests") and other free text
	}
	val = strings.TrimSpace(val)
	first := ""
	if f := strings.Fields(val); len(f) > 0 {
		first = f[0]
	}
	var err error
	switch key {
	case "Server Software":
		r.ServerSoftware = val
	case "Server Hostname":
		r.ServerHostname = val
	case "Server Port":
		r.ServerPort, err = strconv.Atoi(first)
	case "Document Path":
		r.DocumentPath = val
	case "Document Length":
		r.DocumentLength, err = strconv.ParseInt(first, 10, 64)
	case "Concurrency Level":
		r.Concurrency, err = strconv.Atoi(first)
	case "Time taken for tests":
		r.TimeTakenSec, err = strconv.ParseFloat(first, 64)
	case "Complete requests":
		r.Complete, err = strconv.ParseInt(first, 10, 64)
	case "Failed requests":
		r.Failed, err = strconv.ParseInt(first, 10, 64)
	case "Non-2xx responses":
		r.Non2xx, err = strconv.ParseInt(first, 10, 64)
	case "Write errors":
		r.WriteErrors, err = strconv.ParseInt(first, 10, 64)
	case "Keep-Alive requests":
		r.KeepAlive, err = strconv.ParseInt(first, 10, 64)
	case "Total transferred":
		r.TotalBytes, err = strconv.ParseInt(first, 10, 64)
	case "HTML transferred":
		r.HTMLBytes, err = strconv.ParseInt(first, 10, 64)
	case "Requests per second":
		r.RequestsPerSec, err = strconv.ParseFloat(first, 64)
	case "Time per request":
		var v float64
		if v, err = strconv.ParseFloat(first, 64); err == nil {
			if strings.Contains(val, "across all concurrent requests") {
				r.TimePerRequestCC = v
			} else {
				r.TimePerRequest = v
			}
		}
	case "Transfer rate":
		r.TransferKBps, err = strconv.ParseFloat(first, 64)
	default:
		return nil
	}
	seen[key] = true
	return err
}

// parseFailedDetail reads "(Connect: 0, Receive: 0, Length: 500, Exceptions: 0)".
func (r *ABReport) parseFailedDetail(s string) error {
	s = strings.Trim(s, "()")
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, ":")
		if !ok {
			return fmt.Errorf("bad failure detail %q", part)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return err
		}
		switch strings.TrimSpace(k) {
		case "Connect":
			r.FailedConnect = n
		case "Receive":
			r.FailedReceive = n
		case "Length":
			r.FailedLength = n
		case "Exceptions":
			r.FailedExceptions = n
		}
	}
	return nil
}

// Percentile returns the time within which pct% of requests were served.
func (r *ABReport) Percentile(pct float64) (float64, bool) {
	for _, p := range r.Percentiles {
		if p.Pct == pct {
			return p.Ms, true
		}
	}
	return 0, false
}

// RunAB runs ab through ex and parses its report. The raw output is
// returned even when parsing fails, for the results directory.
func RunAB(ctx context.Context, ex Executor, o ABOptions) (*ABReport, []byte, error) {
	argv, err := o.Args()
	if err != nil {
		return nil, nil, err
	}
	stdout, stderr, runErr := ex.Exec(ctx, argv)
	raw := append(append([]byte{}, stdout...), stderr...)
	rep, perr := ParseAB(stdout)
	if perr != nil {
		if runErr != nil {
			return nil, raw, fmt.Errorf("%w (stderr: %s)", runErr, strings.TrimSpace(string(stderr)))
		}
		return nil, raw, perr
	}
	return rep, raw, nil
}
