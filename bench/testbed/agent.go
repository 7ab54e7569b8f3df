package testbed

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/load"
)

// ProbesSchema names the agent's probe output.
const ProbesSchema = "labctl.probes/v1"

// ProbeOutput is what `labctl load-agent probe` prints.
type ProbeOutput struct {
	Schema string        `json:"schema"`
	Probes []fault.Probe `json:"probes"`
}

// Agent is `labctl load-agent` on the client VM: the built-in load
// generator with load.BindFlags's flags (prints a load.Result; -cpuprofile
// FILE profiles it), or,
// with "probe" first, the 50 ms fault prober (prints a ProbeOutput). The
// prober stops at -d, on SIGTERM, or as soon as -stop-file exists, so the
// caller can end it over a second SSH session and still get every probe.
// It returns the process exit status (2 = bad flags or config).
func Agent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "probe" {
		return agentProbe(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("labctl load-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg load.Config
	load.BindFlags(fs, &cfg)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (for tuning)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			defer f.Close()
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(stderr, "labctl load-agent: cpu profile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	res, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "labctl load-agent:", err)
		return 2
	}
	return encode(stdout, stderr, res)
}

func agentProbe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("labctl load-agent probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg fault.ProberConfig
	var stopFile string
	fs.StringVar(&cfg.URL, "url", "", "target URL (required)")
	fs.StringVar(&cfg.Host, "host", "", "Host header override")
	fs.DurationVar(&cfg.Interval, "interval", 50*time.Millisecond, "time between probes")
	fs.DurationVar(&cfg.Timeout, "timeout", time.Second, "per-probe timeout")
	fs.DurationVar(&cfg.MaxDuration, "d", time.Minute, "max duration (≤ 1h)")
	fs.StringVar(&stopFile, "stop-file", "", "stop as soon as this file exists")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "labctl load-agent probe:", err)
		return 2
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if stopFile != "" {
		go watchStopFile(ctx, stopFile, cancel)
	}
	probes, err := fault.RunProber(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, "labctl load-agent probe:", err)
		return 2
	}
	return encode(stdout, stderr, ProbeOutput{Schema: ProbesSchema, Probes: probes})
}

// watchStopFile cancels when path appears (checked every 20 ms).
func watchStopFile(ctx context.Context, path string, cancel func()) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := os.Stat(path); err == nil {
				cancel()
				return
			}
		}
	}
}

func encode(stdout, stderr io.Writer, v any) int {
	if err := json.NewEncoder(stdout).Encode(v); err != nil {
		fmt.Fprintln(stderr, "labctl load-agent: write result:", err)
		return 1
	}
	return 0
}
