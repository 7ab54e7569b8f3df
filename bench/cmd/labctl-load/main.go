// Command labctl-load is labctl's built-in HTTP load generator as a small
// static binary, copied to the lab's client VM and run over SSH. It prints
// one load.Result as JSON on stdout.
//
//	CGO_ENABLED=0 go build -trimpath -o labctl-load ./bench/cmd/labctl-load
//	labctl-load -url http://VIP/ -c 10 -n 100000 -d 60s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/labctl/labctl/bench/load"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("labctl-load", flag.ContinueOnError)
	var cfg load.Config
	load.BindFlags(fs, &cfg)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (for tuning)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "labctl-load:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "labctl-load: cpu profile:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := load.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "labctl-load:", err)
		return 2
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "labctl-load: write result:", err)
		return 1
	}
	return 0
}
