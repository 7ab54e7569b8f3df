package app

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/labctl/labctl/bench/lab"
	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/labctl/labctl/verify"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/spf13/cobra"
)

// benchEnv is a lab opened for benchmarking.
type benchEnv struct {
	lab        *topology.Lab
	hosts      lab.Hosts
	power      lab.Power
	provenance func(ctx context.Context, tool string, client *topology.VM) result.Provenance
	close      func()
}

// benchOpener opens the lab at arg; tests pass fakes.
type benchOpener func(ctx context.Context, arg string, f lifecycleFlags) (*benchEnv, error)

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
fail_raid_member, stop_nfs, link_down.`,
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
			b := &lab.Bench{
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

// selectExperiments picks the lab's experiments (or builds the ad-hoc one)
// and applies the flags that were set.
func selectExperiments(l *topology.Lab, names []string, bf benchFlags, changed func(string) bool) ([]*topology.Experiment, error) {
	var exps []*topology.Experiment
	switch {
	case bf.adhoc:
		if len(names) > 0 {
			return nil, fmt.Errorf("--adhoc builds its own experiment: drop the names %v", names)
		}
		e, err := adhocExperiment(l, bf)
		if err != nil {
			return nil, err
		}
		exps = []*topology.Experiment{e}
	case len(names) > 0:
		for _, n := range names {
			i := slices.IndexFunc(l.Experiments, func(e *topology.Experiment) bool { return e.Name == n })
			if i < 0 {
				return nil, fmt.Errorf("lab %s has no experiment %q (it has: %s)", l.Name, n, experimentNames(l))
			}
			exps = append(exps, l.Experiments[i])
		}
	default:
		if len(l.Experiments) == 0 {
			return nil, fmt.Errorf("lab %s declares no experiment: add an experiment block or use --adhoc", l.Name)
		}
		exps = l.Experiments
	}
	out := make([]*topology.Experiment, 0, len(exps))
	for _, e := range exps {
		x, err := override(l, e, bf, changed)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

func experimentNames(l *topology.Lab) string {
	var n []string
	for _, e := range l.Experiments {
		n = append(n, e.Name)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

func adhocExperiment(l *topology.Lab, bf benchFlags) (*topology.Experiment, error) {
	if len(l.LVS) == 0 {
		return nil, fmt.Errorf("lab %s has no LVS service to benchmark", l.Name)
	}
	svc := l.LVS[0]
	if bf.service != "" {
		i := slices.IndexFunc(l.LVS, func(s *topology.LVSService) bool { return s.Name == bf.service })
		if i < 0 {
			return nil, fmt.Errorf("--service %q: lab %s has no such LVS service", bf.service, l.Name)
		}
		svc = l.LVS[i]
	}
	var client *topology.VM
	for _, vm := range l.VMs {
		if (bf.client != "" && vm.Name == bf.client) || (bf.client == "" && slices.Contains(vm.Roles, topology.RoleClient)) {
			client = vm
			break
		}
	}
	if client == nil {
		if bf.client != "" {
			return nil, fmt.Errorf("--client %q: lab %s has no such VM", bf.client, l.Name)
		}
		return nil, fmt.Errorf("lab %s has no VM with the client role: name one with --client", l.Name)
	}
	return &topology.Experiment{Name: "adhoc", Service: svc.Name, Client: client, Tool: "builtin",
		Concurrency: 10, DurationSec: 10, Repeat: 3, RealServers: []int{len(svc.Backends)}, Schedulers: []string{svc.Scheduler}}, nil
}

// override copies e with the flags that were set.
func override(l *topology.Lab, e *topology.Experiment, bf benchFlags, changed func(string) bool) (*topology.Experiment, error) {
	x := *e
	if changed("repeat") {
		if bf.repeat < 1 {
			return nil, fmt.Errorf("--repeat %d: must be ≥ 1", bf.repeat)
		}
		x.Repeat = bf.repeat
	}
	if changed("duration") {
		x.DurationSec = bf.duration.Seconds()
	}
	if changed("requests") {
		x.Requests = bf.requests
	}
	if changed("concurrency") {
		if bf.concurrency < 1 {
			return nil, fmt.Errorf("--concurrency %d: must be ≥ 1", bf.concurrency)
		}
		x.Concurrency = bf.concurrency
	}
	if changed("rate") {
		x.RateRPS = bf.rate
	}
	if changed("tool") {
		x.Tool = bf.tool
	}
	if x.Concurrency < 1 {
		x.Concurrency = 10
	}
	if changed("real-servers") {
		rs, err := lab.ParseInts(bf.realServers)
		if err != nil {
			return nil, fmt.Errorf("--real-servers %w", err)
		}
		x.RealServers = rs
	}
	if changed("scheduler") {
		x.Schedulers = nil
		for _, s := range strings.Split(bf.schedulers, ",") {
			if s = strings.TrimSpace(s); s != "" {
				x.Schedulers = append(x.Schedulers, s)
			}
		}
	}
	if changed("fault") {
		x.Faults = nil
		for _, v := range bf.faults {
			ft, err := lab.ParseFault(v)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(l.VMs, func(vm *topology.VM) bool { return vm.Name == ft.Target }) {
				return nil, fmt.Errorf("--fault %q: lab %s has no VM %q", v, l.Name, ft.Target)
			}
			x.Faults = append(x.Faults, ft)
		}
	}
	if x.Tool == "" {
		x.Tool = "builtin"
	}
	return &x, nil
}

// linkLatest points base/latest at dir (relative, replaced atomically).
func linkLatest(base, dir string) error {
	tmp := filepath.Join(base, ".latest.tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(dir), tmp); err != nil {
		return fmt.Errorf("link %s/latest: %w", base, err)
	}
	if err := os.Rename(tmp, filepath.Join(base, "latest")); err != nil {
		return fmt.Errorf("link %s/latest: %w", base, err)
	}
	return nil
}

func writeBenchSummary(w io.Writer, runs []benchRun) error {
	for _, br := range runs {
		r := br.Run
		fmt.Fprintf(w, "%s  (%s, %s)\n", br.Dir, r.Experiment.Tool, r.Provenance.End.Sub(r.Provenance.Start).Round(time.Second))
		t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
		t.Header("point", "n", "req/s", "95% CI", "errors", "p50 ms", "p99 ms", "backends")
		for _, p := range r.Points {
			p50, p99 := "", ""
			if p.P50 != nil {
				p50 = fmt.Sprintf("%.1f", p.P50.Mean)
			}
			if p.P99 != nil {
				p99 = fmt.Sprintf("%.1f", p.P99.Mean)
			}
			if err := t.Append(p.Variation.Label(), fmt.Sprint(p.Throughput.N), fmt.Sprintf("%.1f", p.Throughput.Mean),
				p.Throughput.Interval("%.1f"), fmt.Sprintf("%.2f%%", 100*p.ErrorRate.Mean), p50, p99, backendsOf(p)); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		for _, line := range strings.Split(r.Notes, "\n") {
			if strings.HasPrefix(line, "fault ") {
				fmt.Fprintln(w, "  "+line)
			}
		}
		if br.Err != "" {
			fmt.Fprintln(w, "  error: "+firstLine(br.Err))
		}
	}
	return nil
}

// backendsOf sums the samples' responses per backend.
func backendsOf(p result.Point) string {
	sum := map[string]int64{}
	for _, s := range p.Samples {
		for k, v := range s.Backends {
			sum[k] += v
		}
	}
	keys := make([]string, 0, len(sum))
	for k := range sum {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, sum[k])
	}
	return strings.Join(parts, " ")
}

// selfExecutable is labctl's own binary, installed on the client VM as the
// load agent. It must be static (make build sets CGO_ENABLED=0) to run on
// any guest.
func selfExecutable() ([]byte, error) {
	p, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find labctl's executable: %w", err)
	}
	if f, err := elf.Open(p); err == nil {
		dynamic := slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
		f.Close()
		if dynamic {
			return nil, fmt.Errorf("%s is dynamically linked and may not run on the client VM: build labctl with CGO_ENABLED=0 (make build)", p)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read labctl's executable: %w", err)
	}
	return b, nil
}

// openBench opens the lab like verify (SSH pool with pinned keys) and
// keeps the libvirt connection for power actions.
func (a *App) openBench(ctx context.Context, arg string, f lifecycleFlags) (*benchEnv, error) {
	lc, err := a.openLab(ctx, arg, f)
	if err != nil {
		return nil, err
	}
	if err := lc.checkHolder(ctx, f.ownerFlags); err != nil {
		lc.hv.Close()
		return nil, err
	}
	st, err := engine.Desired(lc.lab, engine.Options{DomainType: lc.opts.DomainType, Images: func(n string) (*engine.BaseImage, error) {
		return &engine.BaseImage{Name: n}, nil // only names and addresses are needed
	}})
	if err != nil {
		lc.hv.Close()
		return nil, err
	}
	h := &poolHosts{pool: ssh.NewPool(), cfgs: map[string]ssh.Config{}}
	for _, vm := range st.VMs {
		cfg, err := lc.sshConfig(vm, true)
		if err != nil {
			h.pool.Close()
			lc.hv.Close()
			return nil, err
		}
		h.cfgs[vm.Name] = cfg
		h.pool.Add(cfg)
	}
	uri := lc.opts.URI
	env := &benchEnv{
		lab: lc.lab, hosts: h, power: &lab.LibvirtPower{HV: lc.hv, Lab: lc.lab.Name},
		close: func() { h.pool.Close(); lc.hv.Close() },
	}
	env.provenance = func(ctx context.Context, tool string, client *topology.VM) result.Provenance {
		in := lab.ProvenanceInput{HV: lc.hv, Local: isLocalURI(uri), DomainType: lc.opts.DomainType, Tool: tool, Version: version.String()}
		if client != nil {
			in.Image = client.Image
			if r, err := h.Runner(client.Name); err == nil {
				in.Client = r
			}
		}
		if in.Image == "" {
			in.Image = lc.lab.Image
		}
		if img, err := image.DefaultStore().Get(in.Image); err == nil {
			in.ImageDigest = img.Manifest.SHA256
		}
		return lab.Provenance(ctx, in)
	}
	return env, nil
}

// poolHosts is lab.Hosts over an ssh.Pool.
type poolHosts struct {
	pool *ssh.Pool
	cfgs map[string]ssh.Config
}

func (h *poolHosts) Runner(vm string) (ssh.Runner, error) {
	if _, ok := h.cfgs[vm]; !ok {
		return nil, fmt.Errorf("no VM %q in the lab", vm)
	}
	return h.pool.Runner(vm), nil
}

func (h *poolHosts) Reconnect(ctx context.Context, vm string, timeout time.Duration) error {
	cfg, ok := h.cfgs[vm]
	if !ok {
		return fmt.Errorf("no VM %q in the lab", vm)
	}
	h.pool.Add(cfg) // drops the connection to the powered-off VM
	_, err := h.pool.WaitReady(ctx, vm, timeout)
	return err
}

func newLoadAgentCmd(a *App) *cobra.Command {
	return &cobra.Command{
		Use:                "load-agent",
		Short:              "Load generator and prober run by labctl bench on the client VM",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := lab.Agent(cmd.Context(), args, a.IO.Out, a.IO.Err); code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
}
