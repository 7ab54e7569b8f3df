package tool

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/labctl/labctl/provision/ssh"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The fixtures are real ab 2.3 and siege 4.0.7 outputs against a Go server
// on 127.0.0.1 (bench/scripts/fastserver; -fail-every 10 for "failures").

func TestParseAB(t *testing.T) {
	r, err := ParseAB(fixture(t, "ab-c10-n20000.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := &ABReport{
		ServerHostname: "127.0.0.1", ServerPort: 45767, DocumentPath: "/", DocumentLength: 48,
		Concurrency: 10, TimeTakenSec: 1.869, Complete: 20000, TotalBytes: 3340000, HTMLBytes: 960000,
		RequestsPerSec: 10698.91, TimePerRequest: 0.935, TimePerRequestCC: 0.093,
		ConnTimes:   r.ConnTimes,
		Percentiles: r.Percentiles,
		Unreliable:  r.Unreliable,
	}
	want.TransferKBps = r.TransferKBps
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := r.ConnTimes["Total"]; got.Max != 15 || got.Median != 1 || got.SD != 0.5 {
		t.Errorf("Total row = %+v", got)
	}
	if len(r.ConnTimes) != 4 || len(r.Percentiles) != 9 {
		t.Errorf("conn rows %d, percentiles %d", len(r.ConnTimes), len(r.Percentiles))
	}
	for pct, ms := range map[float64]float64{50: 1, 99: 3, 100: 15} {
		if got, ok := r.Percentile(pct); !ok || got != ms {
			t.Errorf("p%v = %v,%v want %v", pct, got, ok, ms)
		}
	}
}

func TestParseABFailuresAndKeepAlive(t *testing.T) {
	r, err := ParseAB(fixture(t, "ab-failures-c10-n5000.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Complete != 5000 || r.Failed != 500 || r.FailedLength != 500 || r.FailedConnect != 0 || r.Non2xx != 500 || r.RequestsPerSec != 10041.53 {
		t.Errorf("failures: %+v", r)
	}
	k, err := ParseAB(fixture(t, "ab-keepalive-c10-n20000.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if k.KeepAlive != 20000 || k.RequestsPerSec != 33052.93 || k.Failed != 0 {
		t.Errorf("keep-alive: %+v", k)
	}
}

func TestParseABUnreliableWarning(t *testing.T) {
	r, err := ParseAB(fixture(t, "ab-unreliable-c10-n20000.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Unreliable || r.RequestsPerSec != 13030.19 || len(r.ConnTimes) != 4 || len(r.Percentiles) != 9 {
		t.Errorf("got %+v", r)
	}
}

func TestParseABErrors(t *testing.T) {
	if _, err := ParseAB([]byte("apr_socket_recv: Connection refused (111)\n")); err == nil {
		t.Error("aborted ab: want error")
	}
	bad := "Complete requests: many\n"
	if _, err := ParseAB([]byte(bad)); err == nil {
		t.Error("bad number: want error")
	}
}

func TestParseSiege(t *testing.T) {
	cases := []struct {
		file string
		want SiegeReport
	}{
		{"siege-text-c10-t3s.txt", SiegeReport{Transactions: 33172, AvailabilityPct: 100, ElapsedSec: 2.98, DataMB: 1.52,
			TransactionRate: 11131.54, ThroughputMBps: 0.51, Concurrency: 9.67, Successful: 33172, LongestSec: 0.01}},
		{"siege-json-c10-t3s.txt", SiegeReport{Transactions: 33700, AvailabilityPct: 100, ElapsedSec: 2.73, DataMB: 1.54,
			TransactionRate: 12344.32, ThroughputMBps: 0.57, Concurrency: 9.70, Successful: 33700, LongestSec: 0.04}},
		{"siege-text-failures-c10-t3s.txt", SiegeReport{Transactions: 9226, AvailabilityPct: 90, ElapsedSec: 1.17, DataMB: 0.43,
			TransactionRate: 7885.47, ThroughputMBps: 0.37, Concurrency: 9.72, Successful: 9226, Failed: 1025, LongestSec: 0.01,
			Aborted: "siege aborted due to excessive socket failure; you"}},
		{"siege-json-failures-c10-t3s.txt", SiegeReport{Transactions: 9224, AvailabilityPct: 90.01, ElapsedSec: 0.93, DataMB: 0.43,
			TransactionRate: 9918.28, ThroughputMBps: 0.47, Concurrency: 9.34, Successful: 9224, Failed: 1024, LongestSec: 0.01}},
	}
	for _, c := range cases {
		got, err := ParseSiege(fixture(t, c.file))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if d := cmp.Diff(&c.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.file, d)
		}
	}
	if _, err := ParseSiege([]byte("** SIEGE 4.0.7\n[error] socket: unable to connect\n")); err == nil {
		t.Error("no report: want error")
	}
}

func TestArgs(t *testing.T) {
	ab, err := ThesisAB("http://192.0.2.10/").Args()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"ab", "-n", "100000", "-c", "10", "http://192.0.2.10/"}, ab); d != "" {
		t.Errorf("ab (-want +got):\n%s", d)
	}
	sg, err := ThesisSiege("http://192.0.2.10/").Args()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"siege", "-c", "10", "-t20S", "-b", "http://192.0.2.10/"}, sg); d != "" {
		t.Errorf("siege (-want +got):\n%s", d)
	}
	full, _ := SiegeOptions{URL: "http://h/", Concurrency: 5, Duration: time.Minute, JSON: true, NoParser: true, RCFile: "/tmp/rc", Host: "www"}.Args()
	if d := cmp.Diff([]string{"siege", "-R", "/tmp/rc", "-c", "5", "-t60S", "-j", "--no-parser", "-H", "Host: www", "http://h/"}, full); d != "" {
		t.Errorf("siege full (-want +got):\n%s", d)
	}
	for _, o := range []ABOptions{{URL: "http://h"}, {URL: "http://h/", Requests: 5, Concurrency: 10}, {URL: "ftp://h/", Requests: 1, Concurrency: 1}} {
		if _, err := o.Args(); err == nil {
			t.Errorf("ab %+v: want error", o)
		}
	}
	for _, o := range []SiegeOptions{{URL: "http://h/", Concurrency: 1, Duration: 1500 * time.Millisecond}, {URL: "http://h/", Duration: time.Second}} {
		if _, err := o.Args(); err == nil {
			t.Errorf("siege %+v: want error", o)
		}
	}
	if got := ShellJoin([]string{"ab", "-H", "Host: it's", "http://h/x?a=1&b=2"}); got != `ab -H 'Host: it'\''s' 'http://h/x?a=1&b=2'` {
		t.Errorf("ShellJoin = %s", got)
	}
}

// TestRunRealTools runs the installed ab and siege against a loopback server.
func TestRunRealTools(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "backend: web-1")
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := exec.LookPath("ab"); err != nil {
		t.Skip("ab not installed")
	}
	r, raw, err := RunAB(ctx, Local{}, ABOptions{URL: srv.URL + "/", Requests: 300, Concurrency: 3})
	if err != nil {
		t.Fatalf("ab: %v\n%s", err, raw)
	}
	if r.Complete != 300 || r.Failed != 0 || r.RequestsPerSec <= 0 || r.Concurrency != 3 {
		t.Errorf("ab: %+v", r)
	}
	if _, err := exec.LookPath("siege"); err != nil {
		t.Skip("siege not installed")
	}
	s, raw, err := RunSiege(ctx, Local{}, SiegeOptions{URL: srv.URL + "/", Concurrency: 2, Duration: time.Second, Benchmark: true, JSON: true})
	if err != nil {
		t.Fatalf("siege: %v\n%s", err, raw)
	}
	// siege sometimes reports elapsed 0 (and so rate 0) for a 1 s run.
	if s.Transactions <= 0 || s.Failed != 0 || s.AvailabilityPct != 100 {
		t.Errorf("siege: %+v", s)
	}
}

// scripted answers each Exec with the next of its outputs.
type scripted struct {
	outs  [][]byte
	argvs [][]string
}

func (s *scripted) Exec(_ context.Context, argv []string) ([]byte, []byte, error) {
	s.argvs = append(s.argvs, argv)
	out := s.outs[0]
	s.outs = s.outs[1:]
	if out == nil { // killed by timeout
		return nil, []byte("Terminated\n"), &ssh.CommandError{Host: "client", Cmd: strings.Join(argv, " "), ExitCode: 137}
	}
	return out, nil, nil
}

// A siege run that hangs (killed by timeout, no report) is run once more;
// the run is bounded on the machine siege runs on.
func TestRunSiegeRetriesAHungRun(t *testing.T) {
	o := SiegeOptions{URL: "http://192.0.2.1/", Concurrency: 10, Duration: 3 * time.Second, Benchmark: true, JSON: true}
	ex := &scripted{outs: [][]byte{nil, fixture(t, "siege-json-c10-t3s.txt")}}
	r, _, err := RunSiege(context.Background(), ex, o)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Retried || r.Transactions == 0 || len(ex.argvs) != 2 {
		t.Errorf("retried %v, %d transactions, %d runs", r.Retried, r.Transactions, len(ex.argvs))
	}
	if got := ex.argvs[0][:6]; !cmp.Equal(got, []string{"timeout", "-s", "INT", "-k", "10", "33"}) {
		t.Errorf("siege not bounded by timeout: %v", ex.argvs[0])
	}
	// Two hung runs: an error, no third try.
	ex = &scripted{outs: [][]byte{nil, nil, nil}}
	if _, _, err := RunSiege(context.Background(), ex, o); err == nil || len(ex.argvs) != 2 {
		t.Errorf("two hung runs: err %v after %d runs", err, len(ex.argvs))
	}
	// A run that fails for another reason (no siege) is not retried.
	ex = &scripted{outs: [][]byte{[]byte("sh: 1: siege: not found\n"), nil}}
	if _, _, err := RunSiege(context.Background(), ex, o); err == nil || len(ex.argvs) != 1 {
		t.Errorf("siege missing: err %v after %d runs", err, len(ex.argvs))
	}
}
