package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/verify"
	"github.com/spf13/cobra"
)

func newBenchCmd(a *App) *cobra.Command { return benchCmd(a, a.openBench, selfExecutable) }

// benchFlags are labctl bench's overrides of the lab's experiments.
type benchFlags struct {
	results     string
	repeat      int
	duration    time.Duration
	requests    int
	concurrency int
	rate        float64
	tool        string
	realServers string
	schedulers  string
	faults      []string
	faultHold   time.Duration
	faultAfter  time.Duration
	faultUntil  time.Duration
	settle      time.Duration
	adhoc       bool
	service     string
	client      string
	verify      bool
	probeEvery  time.Duration
	probeWait   time.Duration
}

func benchCmd(a *App, open benchOpener, agent func() ([]byte, error)) *cobra.Command {
	var f lifecycleFlags
	var bf benchFlags
	cmd := &cobra.Command{
		Use:   "bench [DIR|FILE] [EXPERIMENT...]",
		Short: "Run the lab's experiments: load from the client VM, cluster variations, real faults",
		Long: `bench runs the experiment blocks of a running lab (all, or the named ones),
or with --adhoc one experiment built from the flags. For each experiment it
puts every variation in force (active real servers: Apache is stopped on the
others until the health check drops them; scheduler: ipvsadm -E on the
directors), measures it --repeat times from the experiment's client VM
(builtin generator: labctl copies itself there and runs "labctl load-agent";
or ab / siege), then injects each fault for real, --repeat times too, while
a 50 ms prober on the client VM and a watcher on the directors record the
outage, the VIP move, the pool change and the recovery; each repetition
waits until the cluster is as before. Per fault: outage and MTTR (mean and
95% CI) and availability over the repetitions. Everything is undone
afterwards.

Each experiment writes one run directory, RESULTS/<lab>-<experiment>-<UTC
time>, and RESULTS/latest points to the last one: labctl report
results/latest summarises it. Flags override the lab's values.

Fault kinds (--fault KIND:VM): destroy_director (the director holding the
VIP), kill_keepalived (SIGKILL on the VIP holder), stop_web, destroy_vm,
fail_raid_member, stop_nfs, link_down; with stack = "pacemaker":
kill_ldirectord, standby_director, stop_corosync (on the VIP holder).`,
		Example: `  labctl bench labs/lvs-nat-ha scaling_ab --repeat 2 --requests 500
  labctl bench labs/lvs-nat-ha --adhoc --real-servers 1,2 --scheduler rr,wlc --duration 5s
  labctl bench labs/lvs-nat-ha master_failover --fault-hold 20s
  labctl report results/latest`,
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			labArg, names := splitBenchArgs(args)
			ctx := cmd.Context()
			f, err := a.oneCopy(ctx, labArg, f)
			if err != nil {
				return err
			}
			env, err := open(ctx, labArg, f)
			if err != nil {
				return err
			}
			defer env.close()
			exps, err := selectExperiments(env.lab, names, bf, cmd.Flags().Changed)
			if err != nil {
				return err
			}
			var progress io.Writer
			if !a.Quiet {
				progress = a.IO.Err
			}
			b := &testbed.Bench{
				Lab: env.lab, Hosts: env.hosts, Power: env.power, ResultsDir: bf.results,
				Agent: agent, Provenance: env.provenance, Settle: bf.settle,
				FaultHold: bf.faultHold, FaultAfter: bf.faultAfter, FaultRecover: bf.faultUntil, Progress: progress,
				ProbeInterval: bf.probeEvery, ProbeTimeout: bf.probeWait,
			}
			if bf.verify {
				b.Verify = func(ctx context.Context) (verify.Result, error) {
					return verify.Run(ctx, env.lab, env.hosts.Runner, verify.Options{Requests: 12, Timeout: 3 * time.Second})
				}
			}
			var done []benchRun
			var errs []error
			for _, e := range exps {
				dir, run, err := b.Run(ctx, e)
				if dir != "" {
					if lerr := linkLatest(bf.results, dir); lerr != nil {
						errs = append(errs, lerr)
					}
				}
				if run != nil {
					done = append(done, benchRun{Dir: dir, Run: run, Err: errString(err)})
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("experiment %s: %w", e.Name, err))
					if ctx.Err() != nil {
						break
					}
				}
			}
			if asJSON {
				if err := writeJSON(a.IO.Out, done); err != nil {
					return err
				}
			} else if err := writeBenchSummary(a.IO.Out, done); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
	f.register(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&bf.results, "results", "results", "base directory of the run directories")
	fl.IntVar(&bf.repeat, "repeat", 0, "samples per point and repetitions per fault (default: the experiment's)")
	fl.DurationVar(&bf.duration, "duration", 0, "duration of each sample (builtin, siege)")
	fl.IntVar(&bf.requests, "requests", 0, "requests per sample (ab; builtin stops at whichever bound comes first)")
	fl.IntVar(&bf.concurrency, "concurrency", 0, "concurrent clients")
	fl.Float64Var(&bf.rate, "rate", 0, "open-loop arrival rate in req/s (builtin)")
	fl.StringVar(&bf.tool, "tool", "", "load tool: builtin, ab or siege")
	fl.StringVar(&bf.realServers, "real-servers", "", "active real servers per point, e.g. 1,2,3")
	fl.StringVar(&bf.schedulers, "scheduler", "", "IPVS schedulers to compare, e.g. rr,wlc")
	fl.StringArrayVar(&bf.faults, "fault", nil, "fault KIND:VM (repeatable; replaces the experiment's faults)")
	fl.DurationVar(&bf.faultHold, "fault-hold", 10*time.Second, "how long each fault stays before it is reverted")
	fl.DurationVar(&bf.faultAfter, "fault-after", 5*time.Second, "observation after each revert")
	fl.DurationVar(&bf.faultUntil, "fault-recover", time.Minute, "longest observation after a revert while the cluster is not as before the fault")
	fl.DurationVar(&bf.settle, "settle", time.Second, "pause after a variation is in force")
	fl.BoolVar(&bf.adhoc, "adhoc", false, "run one experiment built from the flags instead of the lab's")
	fl.StringVar(&bf.service, "service", "", "LVS service of the ad-hoc experiment (default: the first)")
	fl.StringVar(&bf.client, "client", "", "client VM of the ad-hoc experiment (default: the first VM with the client role)")
	fl.DurationVar(&bf.probeEvery, "probe-interval", 50*time.Millisecond, "time between fault probes")
	fl.DurationVar(&bf.probeWait, "probe-timeout", time.Second, "timeout of one fault probe")
	fl.BoolVar(&bf.verify, "verify", true, "run labctl verify's checks before and after each fault")
	return cmd
}

// benchRun is one experiment's outcome in -o json.
type benchRun struct {
	Dir string      `json:"dir"`
	Run *result.Run `json:"run"`
	Err string      `json:"error,omitempty"`
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// splitBenchArgs: the first argument is the lab when it names an existing
// file or directory; the rest are experiment names.
func splitBenchArgs(args []string) (string, []string) {
	if len(args) == 0 {
		return "", nil
	}
	if _, err := os.Stat(args[0]); err == nil {
		return args[0], args[1:]
	}
	return "", args
}

func newLoadAgentCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:                "load-agent",
		Short:              "Load generator and prober run by labctl bench on the client VM",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := testbed.Agent(cmd.Context(), args, a.IO.Out, a.IO.Err); code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
}
