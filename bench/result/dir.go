package result

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/internal/version"
)

// File names inside a run directory.
const (
	ResultsJSON = "results.json"
	SamplesCSV  = "samples.csv" // one row per sample
	PointsCSV   = "points.csv"  // one row per point (mean, sd, CI)
	SpecDir     = "spec"        // copies of the lab's source files
	RawDir      = "raw"         // tool outputs, probe timelines
)

// NewID returns a run directory name: <lab>-<experiment>-<UTC time>.
func NewID(lab, experiment string, t time.Time) string {
	return fmt.Sprintf("%s-%s-%s", lab, experiment, t.UTC().Format("20060102T150405Z"))
}

// Create makes the run directory base/id; it fails if it exists, so a run
// never overwrites another.
func Create(base, id string) (string, error) {
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", fmt.Errorf("create results directory %q: %w", base, err)
	}
	dir := filepath.Join(base, id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", fmt.Errorf("create run directory %q: %w", dir, err)
	}
	for _, sub := range []string{SpecDir, RawDir} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			return "", fmt.Errorf("create %q: %w", filepath.Join(dir, sub), err)
		}
	}
	return dir, nil
}

// CopySpec copies the lab's source files into dir/spec and records them
// in run.SpecFiles.
func CopySpec(dir string, run *Run, sources []string) error {
	for i, src := range sources {
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("copy spec %q: %w", src, err)
		}
		name := filepath.Base(src)
		if i > 0 {
			for _, prev := range run.SpecFiles {
				if filepath.Base(prev) == name {
					name = fmt.Sprintf("%d-%s", i, name)
				}
			}
		}
		rel := filepath.Join(SpecDir, name)
		if err := os.WriteFile(filepath.Join(dir, rel), b, 0o644); err != nil {
			return fmt.Errorf("copy spec %q: %w", src, err)
		}
		run.SpecFiles = append(run.SpecFiles, rel)
	}
	return nil
}

// WriteRaw stores a raw tool output under dir/raw and returns its path
// relative to dir (for Sample.Raw).
func WriteRaw(dir, name string, data []byte) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("raw file name %q: must be a plain file name", name)
	}
	rel := filepath.Join(RawDir, name)
	if err := os.WriteFile(filepath.Join(dir, rel), data, 0o644); err != nil {
		return "", fmt.Errorf("write raw %q: %w", rel, err)
	}
	return rel, nil
}

// Write stores run in dir: results.json, samples.csv, points.csv and one
// probes CSV per fault.
func Write(dir string, run *Run) error {
	run.Schema = Schema
	for i := range run.Faults {
		f := &run.Faults[i]
		if f.Probes == nil {
			continue
		}
		f.ProbesFile = filepath.Join(RawDir, fmt.Sprintf("fault-%d-probes.csv", i+1))
		if err := writeFile(filepath.Join(dir, f.ProbesFile), func(w io.Writer) error { return WriteProbesCSV(w, f.Probes) }); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, SamplesCSV), run.writeSamplesCSV); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, PointsCSV), run.writePointsCSV); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, ResultsJSON), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(run)
	})
}

func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}

// Read loads a run directory written by Write, including probe timelines.
func Read(dir string) (*Run, error) {
	path := filepath.Join(dir, ResultsJSON)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read run: %w", err)
	}
	var head struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	if head.Schema != Schema && !slices.Contains(OldSchemas, head.Schema) {
		return nil, fmt.Errorf("read %q: schema %q, this labctl reads %s", path, head.Schema, strings.Join(append([]string{Schema}, OldSchemas...), " and "))
	}
	run := &Run{}
	if err := json.Unmarshal(b, run); err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	for i := range run.Faults {
		f := &run.Faults[i]
		if f.ProbesFile == "" {
			continue
		}
		pf, err := os.Open(filepath.Join(dir, f.ProbesFile))
		if err != nil {
			return nil, fmt.Errorf("read probes of fault %d: %w", i+1, err)
		}
		f.Probes, err = ReadProbesCSV(pf)
		pf.Close()
		if err != nil {
			return nil, fmt.Errorf("read %q: %w", filepath.Join(dir, f.ProbesFile), err)
		}
	}
	if len(run.FaultStats) == 0 && len(run.Faults) > 0 {
		// v1: every fault ran once.
		if run.FaultStats, err = SummarizeFaults(run.Faults, 1); err != nil {
			return nil, fmt.Errorf("read %q: %w", path, err)
		}
	}
	return run, nil
}

var probeHeader = []string{"seq", "at", "latency_ms", "ok", "status", "backend", "err"}

// WriteProbesCSV writes a probe timeline (times RFC 3339 with ns, UTC).
func WriteProbesCSV(w io.Writer, probes []fault.Probe) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(probeHeader); err != nil {
		return err
	}
	for _, p := range probes {
		rec := []string{
			strconv.Itoa(p.Seq), p.At.UTC().Format(time.RFC3339Nano), strconv.FormatFloat(p.LatencyMs, 'f', 3, 64),
			strconv.FormatBool(p.OK), strconv.Itoa(p.Status), p.Backend, p.Err,
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadProbesCSV is the inverse of WriteProbesCSV.
func ReadProbesCSV(r io.Reader) ([]fault.Probe, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(probeHeader)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(probeHeader, ",") {
		return nil, errors.New("missing or unexpected header")
	}
	probes := make([]fault.Probe, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		var p fault.Probe
		var e1, e2, e3, e4, e5 error
		p.Seq, e1 = strconv.Atoi(rec[0])
		p.At, e2 = time.Parse(time.RFC3339Nano, rec[1])
		p.LatencyMs, e3 = strconv.ParseFloat(rec[2], 64)
		p.OK, e4 = strconv.ParseBool(rec[3])
		p.Status, e5 = strconv.Atoi(rec[4])
		if err := errors.Join(e1, e2, e3, e4, e5); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+2, err)
		}
		p.Backend, p.Err = rec[5], rec[6]
		probes = append(probes, p)
	}
	return probes, nil
}

func (run *Run) writeSamplesCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"point", "real_servers", "scheduler", "mode", "persistence", "repeat", "tool",
		"elapsed_sec", "requests", "ok", "errors", "throughput", "ok_per_sec",
		"lat_mean_ms", "lat_p50_ms", "lat_p90_ms", "lat_p99_ms", "lat_p999_ms", "lat_max_ms", "backends"})
	for _, p := range run.Points {
		v := p.Variation
		for _, s := range p.Samples {
			_ = cw.Write([]string{v.Label(), strconv.Itoa(v.RealServers), v.Scheduler, v.Mode, v.Persistence,
				strconv.Itoa(s.Repeat), s.Tool, ff(s.ElapsedSec), i64(s.Requests), i64(s.OK), i64(s.Errors),
				ff(s.Throughput), ff(s.OKPerSec), ff(s.Latency.Mean), ff(s.Latency.P50), ff(s.Latency.P90),
				ff(s.Latency.P99), ff(s.Latency.P999), ff(s.Latency.Max), backends(s.Backends)})
		}
	}
	cw.Flush()
	return cw.Error()
}

func (run *Run) writePointsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"point", "real_servers", "scheduler", "mode", "persistence", "n",
		"throughput_mean", "throughput_sd", "throughput_ci95_low", "throughput_ci95_high", "error_rate_mean"})
	for _, p := range run.Points {
		v, t := p.Variation, p.Throughput
		_ = cw.Write([]string{v.Label(), strconv.Itoa(v.RealServers), v.Scheduler, v.Mode, v.Persistence,
			strconv.Itoa(t.N), ff(t.Mean), ff(t.SD), ff(t.CILow), ff(t.CIHigh), ff(p.ErrorRate.Mean)})
	}
	cw.Flush()
	return cw.Error()
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
func i64(x int64) string  { return strconv.FormatInt(x, 10) }

// backends renders "web-1=10;web-2=12" in name order.
func backends(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, k := range names {
		n := k
		if n == "" {
			n = "?"
		}
		parts[i] = n + "=" + i64(m[k])
	}
	return strings.Join(parts, ";")
}

// LocalProvenance fills what this host can tell: labctl version and
// commit, Go version, hostname, CPU model and count, kernel.
func LocalProvenance() Provenance {
	p := Provenance{
		LabctlVersion: version.Version, LabctlCommit: version.CommitID(),
		GoVersion: runtime.Version(), HostCPUs: runtime.NumCPU(),
	}
	p.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		p.HostKernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				p.HostCPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return p
}
