// Package result is the on-disk form of a bench run: one directory with
// results.json (schema labctl.bench/v2), CSV files, the exact lab spec and
// the raw samples, written once and read back by reports.
package result

import (
	"fmt"
	"time"

	"github.com/labctl/labctl/bench/load"
	"github.com/labctl/labctl/bench/stats"
	"github.com/labctl/labctl/topology"
)

// Schema names this format. A change that old readers cannot ignore gets
// a new version; Read also accepts the versions in OldSchemas.
//
// v2: a fault may be repeated: Faults holds one entry per repetition
// (Index, Repeat) and FaultStats summarises each fault's repetitions.
const Schema = "labctl.bench/v2"

// OldSchemas are the earlier versions Read still reads. v1 runs have one
// entry per fault and no FaultStats (Read computes them).
var OldSchemas = []string{"labctl.bench/v1"}

// Run is one experiment run: results.json.
type Run struct {
	Schema     string        `json:"schema"`
	ID         string        `json:"id"` // directory name
	Lab        string        `json:"lab"`
	Experiment Experiment    `json:"experiment"`
	Provenance Provenance    `json:"provenance"`
	Points     []Point       `json:"points"`
	Faults     []FaultResult `json:"faults,omitempty"` // one per repetition of each fault
	FaultStats []FaultStats  `json:"fault_stats,omitempty"`
	SpecFiles  []string      `json:"spec_files,omitempty"` // copies, relative to the run directory
	Notes      string        `json:"notes,omitempty"`
}

// Experiment is the experiment as run (topology.Experiment without
// pointers and source ranges).
type Experiment struct {
	Name        string           `json:"name"`
	Service     string           `json:"service"`
	Client      string           `json:"client,omitempty"` // VM the load ran on; "" = host
	Tool        string           `json:"tool"`             // builtin | ab | siege
	Concurrency int              `json:"concurrency"`
	Requests    int              `json:"requests,omitempty"`
	DurationSec float64          `json:"duration_sec,omitempty"`
	RateRPS     float64          `json:"rate_rps,omitempty"`
	KeepAlive   bool             `json:"keep_alive"`
	Repeat      int              `json:"repeat"`
	RealServers []int            `json:"real_servers,omitempty"`
	Schedulers  []string         `json:"schedulers,omitempty"`
	Faults      []topology.Fault `json:"faults,omitempty"`
	URL         string           `json:"url,omitempty"`
}

// FromTopology copies the experiment declared in the lab.
func FromTopology(e *topology.Experiment) Experiment {
	x := Experiment{
		Name: e.Name, Service: e.Service, Tool: string(e.Tool), Concurrency: e.Concurrency,
		Requests: e.Requests, DurationSec: e.DurationSec, RateRPS: e.RateRPS, Repeat: e.Repeat,
		RealServers: append([]int(nil), e.RealServers...),
		Faults:      append([]topology.Fault(nil), e.Faults...),
	}
	for _, s := range e.Schedulers {
		x.Schedulers = append(x.Schedulers, string(s))
	}
	if e.Client != nil {
		x.Client = e.Client.Name
	}
	return x
}

// Provenance says where and with what a run was measured. Fields that need
// the lab (image, libvirt, QEMU, accel) are filled by the caller.
type Provenance struct {
	LabctlVersion  string    `json:"labctl_version"`
	LabctlCommit   string    `json:"labctl_commit"`
	GoVersion      string    `json:"go_version"`
	Image          string    `json:"image,omitempty"`
	ImageDigest    string    `json:"image_digest,omitempty"` // sha256 from the image manifest
	LibvirtVersion string    `json:"libvirt_version,omitempty"`
	QEMUVersion    string    `json:"qemu_version,omitempty"`
	Accel          string    `json:"accel,omitempty"` // kvm | tcg
	Hostname       string    `json:"hostname,omitempty"`
	HostCPU        string    `json:"host_cpu,omitempty"`
	HostCPUs       int       `json:"host_cpus,omitempty"`
	HostKernel     string    `json:"host_kernel,omitempty"`
	ToolVersion    string    `json:"tool_version,omitempty"` // e.g. "ApacheBench 2.3"
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
}

// Variation is one point of the experiment's parameter space.
type Variation struct {
	RealServers int    `json:"real_servers"`
	Scheduler   string `json:"scheduler,omitempty"`
	Mode        string `json:"mode,omitempty"`        // LVS forwarding: nat | dr | tun
	Persistence string `json:"persistence,omitempty"` // "" = none, else e.g. "300s"
}

// Label is a short stable name, e.g. "rs=2 rr nat".
func (v Variation) Label() string {
	s := fmt.Sprintf("rs=%d", v.RealServers)
	for _, p := range []string{v.Scheduler, v.Mode} {
		if p != "" {
			s += " " + p
		}
	}
	if v.Persistence != "" {
		s += " persist=" + v.Persistence
	}
	return s
}

// Point is one variation measured Repeat times.
type Point struct {
	Variation Variation `json:"variation"`
	Samples   []Sample  `json:"samples"`
	// Summaries over the samples (mean, sd, 95% CI).
	Throughput stats.Summary  `json:"throughput"` // Sample.Throughput, req/s
	ErrorRate  stats.Summary  `json:"error_rate"` // errors / requests
	P50        *stats.Summary `json:"p50_ms,omitempty"`
	P99        *stats.Summary `json:"p99_ms,omitempty"`
	// Histogram merges the samples' latency histograms (builtin tool).
	Histogram string `json:"histogram,omitempty"`
}

// Sample is one repetition of one point.
type Sample struct {
	Repeat     int       `json:"repeat"`
	Tool       string    `json:"tool"`
	Start      time.Time `json:"start"`
	ElapsedSec float64   `json:"elapsed_sec"`
	Requests   int64     `json:"requests"`
	OK         int64     `json:"ok"`
	Errors     int64     `json:"errors"`
	// Throughput is the tool's headline rate: ab "Requests per second",
	// siege "Transaction rate", builtin requests finished per second.
	Throughput float64          `json:"throughput"`
	OKPerSec   float64          `json:"ok_per_sec"`
	Latency    load.Latency     `json:"latency"` // what the tool reports (siege: mean and max only)
	Backends   map[string]int64 `json:"backends,omitempty"`
	Histogram  string           `json:"histogram,omitempty"` // builtin: HDR, V2 compressed base64 (µs)
	Timeline   []load.Bucket    `json:"timeline,omitempty"`
	BucketSec  float64          `json:"bucket_sec,omitempty"`
	Raw        string           `json:"raw,omitempty"`  // raw tool output, relative to the run directory
	Note       string           `json:"note,omitempty"` // e.g. siege aborted early
}
