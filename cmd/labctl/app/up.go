package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/keys"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// EnvURI overrides the libvirt URI of every lab (the --connect flag wins).
const EnvURI = "LABCTL_URI"

// lifecycleFlags are shared by up, down, status, ssh, console, provision,
// verify and bench.
type lifecycleFlags struct {
	labFlags
	ownerFlags
	uri    string
	output string
}

func (f *lifecycleFlags) register(cmd *cobra.Command, output bool) {
	f.labFlags.register(cmd)
	cmd.Flags().StringVarP(&f.uri, "connect", "c", "", "libvirt URI (default: the lab's uri, $"+EnvURI+", qemu:///system)")
	cmd.Flags().StringVar(&f.ownerFlags.owner, "owner", "", "run OWNER's own copy of the lab (objects named <lab>-<owner>); default: you, under the lab's own names")
	cmd.Flags().BoolVar(&f.force, "force", false, "as root: change or remove a lab another owner holds")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		f.instance = f.ownerFlags.owner
		return f.checkForce()
	}
	if output {
		cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	}
}

func (f *lifecycleFlags) json() (bool, error) {
	switch f.output {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	}
	return false, fmt.Errorf("--output %q: want text or json", f.output)
}

// labURI picks the libvirt URI: flag, environment, lab file, default.
func labURI(flag string, lab *topology.Lab) string {
	for _, u := range []string{flag, os.Getenv(EnvURI), lab.URI} {
		if u != "" {
			return u
		}
	}
	return libvirt.DefaultURI
}

// isLocalURI reports whether uri names a libvirt daemon on this machine,
// so local files (/dev/kvm, console logs) describe the hypervisor host.
func isLocalURI(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Host == "" || u.Hostname() == "localhost")
}

// accelProbe asks libvirt for its domain types only when needed.
func accelProbe(ctx context.Context, hv libvirt.Hypervisor, uri string) provision.AccelProbe {
	return provision.AccelProbe{Local: isLocalURI(uri), Host: uri, DomainTypes: func() ([]string, error) {
		c, err := hv.Capabilities(ctx)
		return c.DomainTypes, err
	}}
}

// lifecycle is what up, down, status and ssh share for one lab.
type lifecycle struct {
	lab  *topology.Lab
	hv   libvirt.Hypervisor
	keys *keys.Store
	opts provision.Options
	dial guestDialFunc // how guest SSH connects (nil: directly from this machine)
}

// openLab loads the lab, connects to libvirt and resolves the accelerator.
// The lab is read twice: first for its name and URI, then with the subnets
// in use on the host, so a derived management subnet avoids them (and an
// existing lab keeps its own).
func (a *App) openLab(ctx context.Context, arg string, f lifecycleFlags) (*lifecycle, error) {
	owner, err := f.ownerFlags.resolve()
	if err != nil {
		return nil, err
	}
	f.instance = f.ownerFlags.owner
	lab, err := a.loadWith(arg, f.labFlags, topology.LoadOptions{}, true)
	if err != nil {
		return nil, err
	}
	uri := labURI(f.uri, lab)
	hv, err := libvirt.Dial(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("%w\n(is libvirtd running? try `labctl doctor`)", err)
	}
	avoid, keep, err := subnetsInUse(ctx, hv, lab.Name, isLocalURI(uri))
	if err == nil {
		lab, err = a.loadWith(arg, f.labFlags, topology.LoadOptions{AvoidCIDRs: avoid, ManagementCIDR: keep}, a.Quiet)
	}
	if err != nil {
		hv.Close()
		return nil, err
	}
	lc := &lifecycle{lab: lab, hv: hv}
	if lc.dial, err = guestDialer(uri, hv); err != nil {
		hv.Close()
		return nil, err
	}
	domType, reason, err := provision.ResolveAccel(lab.Accel, libvirt.HostInfo{}, accelProbe(ctx, hv, uri))
	if err != nil {
		hv.Close()
		return nil, fmt.Errorf("lab %q: %w", lab.Name, err)
	}
	if lc.keys, err = keys.Open(keys.DefaultDir(lab.Name)); err != nil {
		hv.Close()
		return nil, err
	}
	lc.opts = provision.Options{
		URI:         uri,
		DomainType:  domType,
		AccelReason: reason,
		Version:     version.String(),
		Images:      storeImage,
		Seed:        provision.Seeder(lab, lc.keys),
		Owner:       owner,
	}
	if isLocalURI(uri) {
		lc.opts.ListDir = listDir
	}
	return lc, nil
}

// storeImage resolves a base image from labctl's image store.
func storeImage(name string) (*provision.BaseImage, error) {
	img, err := image.DefaultStore().Get(name)
	if err != nil {
		var nf *image.NotFoundError
		if errors.As(err, &nf) {
			return nil, fmt.Errorf("%w: %v (build it with `labctl image build %s`)", provision.ErrImageMissing, err, name)
		}
		return nil, err
	}
	bi, err := provision.LocalImage(name, img.DiskPath(), img.KernelPath(), img.InitrdPath(), img.Manifest.Cmdline, img.Manifest.SHA256)
	if err != nil {
		return nil, err
	}
	return bi, nil
}

// sshConfig says how to reach vm of state s with the lab's pinned keys.
func (lc *lifecycle) sshConfig(vm *provision.VMSpec, sudo bool) (ssh.Config, error) {
	signer, _, err := lc.keys.UserKey()
	if err != nil {
		return ssh.Config{}, err
	}
	hk, err := lc.keys.HostPublicKey(vm.Name)
	if err != nil {
		return ssh.Config{}, fmt.Errorf("VM %s: %w (was the lab brought up with `labctl up`?)", vm.Name, err)
	}
	if vm.Address == "" {
		return ssh.Config{}, fmt.Errorf("VM %s has no static address to reach it on", vm.Name)
	}
	// TCG guests on a busy host can take well over ssh's default 10 s to
	// finish a handshake.
	return ssh.Config{Host: vm.Name, Addr: net.JoinHostPort(vm.Address, "22"), User: lc.lab.SSHUser,
		Signer: signer, HostKey: hk, Sudo: sudo, Timeout: 45 * time.Second, DialContext: lc.dial}, nil
}

func newUpCmd(a *App) *cobra.Command {
	var f lifecycleFlags
	var yes, noConfigure, reconfigure bool
	var timeout time.Duration
	var parallel, bootParallel int
	var bootSlice time.Duration
	cmd := &cobra.Command{
		Use:   "up [DIR|FILE]",
		Short: "Create or converge the lab's networks, disks and VMs, and wait for SSH",
		Long: `up makes libvirt match the lab file: it creates missing networks, volumes,
cloud-init seeds and VMs (in parallel), starts them and waits until each VM
answers SSH with its pinned host key, then configures the guests (roles).
Guests boot in waves sized to the host (--boot-parallel); a boot that makes
no progress is restarted once, then up fails showing its console.

Run again on an unchanged lab, up does nothing and says so. After a change to
the lab file it shows what differs (by spec hash per object) and recreates
only that, asking first unless --yes.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := f.json()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			start := time.Now()
			lc, err := a.openLab(ctx, argOr(args), f)
			if err != nil {
				return err
			}
			defer lc.hv.Close()
			a.infof("lab %s on %s, accel %s: %s", lc.lab.Name, lc.opts.URI, accelName(lc.opts.DomainType), lc.opts.AccelReason)

			pool := ssh.NewPool()
			defer pool.Close()
			prog := a.newProgress(asJSON)
			opts := provision.UpOptions{Options: lc.opts, Force: f.force, Parallel: parallel, Progress: prog,
				BootParallel: bootParallel, BootSlice: bootSlice, BootTimeout: timeout}
			opts.WaitSSH = func(ctx context.Context, vm *provision.VMSpec) error {
				cfg, err := lc.sshConfig(vm, true)
				if err != nil {
					return err
				}
				if err := waitBooted(ctx, cfg, timeout); err != nil {
					return err
				}
				pool.Add(cfg)
				return nil
			}
			if !yes {
				opts.Confirm = func(c *provision.Changes) (bool, error) {
					prog.Pause()
					defer prog.Resume()
					return a.confirm(c)
				}
			}
			// Any change may give a VM a fresh disk: until the roles have run
			// again, none counts as configured (an up cut short, or run with
			// --no-configure, is then finished by the next up).
			opts.BeforeChange = func(*provision.Changes) error {
				applied, err := roles.LoadApplied(lc.keys.Dir())
				if err != nil {
					return err
				}
				return applied.Forget(nil)
			}
			if !noConfigure {
				opts.Configure = func(ctx context.Context, s *provision.State) error {
					return a.configure(ctx, lc, s, pool, nil)
				}
			}
			res, err := provision.Up(ctx, lc.hv, lc.lab, opts)
			prog.Stop()
			if err != nil {
				if res != nil && asJSON {
					_ = writeJSON(a.IO.Out, res)
				}
				return err
			}
			// libvirt had nothing to do: run the roles only where the lab
			// file changed them since they last ran without error (a full
			// run costs minutes under TCG), or everywhere with --reconfigure.
			if res.NoOp && !noConfigure {
				only, err := a.staleRoles(lc, reconfigure)
				if err != nil {
					return err
				}
				if len(only) > 0 {
					if !reconfigure {
						a.infof("roles of %s changed since they last ran (or did not finish): configuring them", strings.Join(only, ", "))
					}
					if err := a.configure(ctx, lc, res.State, pool, only); err != nil {
						return err
					}
					res.Reconfigured = only
				}
			}
			if asJSON {
				return writeJSON(a.IO.Out, res)
			}
			if res.NoOp {
				if len(res.Reconfigured) > 0 {
					fmt.Fprintf(a.IO.Out, "lab %s is up to date: %d VMs, roles re-applied on %d (%.1fs)\n", lc.lab.Name, len(res.VMs), len(res.Reconfigured), time.Since(start).Seconds())
					return nil
				}
				fmt.Fprintf(a.IO.Out, "lab %s is up to date: %d VMs, nothing to do (%.1fs)\n", lc.lab.Name, len(res.VMs), res.Seconds)
				return nil
			}
			fmt.Fprintf(a.IO.Out, "lab %s is up: %d VMs in %.1fs\n", lc.lab.Name, len(res.VMs), res.Seconds)
			for _, vm := range res.VMs {
				if vm.BootSeconds > 0 && vm.Restarts > 0 {
					fmt.Fprintf(a.IO.Out, "  %-16s %-9s boot-to-SSH %5.1fs (restarted %d× after a stuck boot)\n", vm.Name, vm.Action, vm.BootSeconds, vm.Restarts)
				} else if vm.BootSeconds > 0 {
					fmt.Fprintf(a.IO.Out, "  %-16s %-9s boot-to-SSH %5.1fs\n", vm.Name, vm.Action, vm.BootSeconds)
				} else {
					fmt.Fprintf(a.IO.Out, "  %-16s %s\n", vm.Name, vm.Action)
				}
			}
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "recreate changed objects without asking")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long each VM may take to answer SSH, restarts included")
	cmd.Flags().IntVar(&parallel, "parallel", 4, "concurrent libvirt operations")
	cmd.Flags().IntVar(&bootParallel, "boot-parallel", 0, "guests booting at once (0 = from the host's CPUs: 1 per CPU under TCG, 2×CPUs+2 under KVM)")
	cmd.Flags().DurationVar(&bootSlice, "boot-slice", 0, "admit the next guest after this long even if none answered SSH yet (0 = 2m under TCG, 30s under KVM)")
	cmd.Flags().BoolVar(&noConfigure, "no-configure", false, "do not configure guests (roles) after boot")
	cmd.Flags().BoolVar(&reconfigure, "reconfigure", false, "configure every guest even when neither libvirt nor the roles changed")
	return cmd
}

// bootDone succeeds once cloud-init has done what labctl needs (or the
// image has none). labctl's trimmed images do it all in the init stage,
// which ends before sshd starts, so only that stage's errors are checked;
// other images may still restart sshd in their later stages, so for them
// it waits until cloud-init has finished.
const bootDone = `command -v cloud-init >/dev/null 2>&1 || exit 0
if [ -f ` + image.InitStageOnlyMarker + ` ]; then
	if grep -q '"errors": \[$' /run/cloud-init/status.json; then cat /run/cloud-init/status.json >&2; exit 1; fi
	exit 0
fi
cloud-init status --wait >/dev/null 2>&1; test -f /var/lib/cloud/instance/boot-finished`

// waitBooted waits until the VM answers SSH with its pinned host key and
// cloud-init is done, redialling when sshd restarts under us.
func waitBooted(ctx context.Context, cfg ssh.Config, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	cfg.Sudo = false // bootDone reads world-readable files; sudo costs a second under TCG
	for {
		c, err := ssh.WaitReady(ctx, cfg, time.Until(deadline))
		if err != nil {
			return err
		}
		_, err = c.Run(ctx, bootDone)
		c.Close()
		var ce *ssh.CommandError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ce):
			return fmt.Errorf("%s: cloud-init failed or did not finish (see `labctl console %s`): %w", cfg.Host, cfg.Host, err)
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("%s: wait for cloud-init: %w", cfg.Host, err)
		}
		select { // the connection dropped: sshd restarted
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// configure runs the guest roles once every VM answers SSH.
// staleRoles lists the VMs whose roles must run on a no-op up: those
// whose role configuration differs from the last run without error (all
// VMs with roles when every is set; nil = all).
func (a *App) staleRoles(lc *lifecycle, every bool) ([]string, error) {
	applied, err := roles.LoadApplied(lc.keys.Dir())
	if err != nil {
		return nil, err
	}
	stale, err := applied.Stale(lc.lab)
	if err != nil || !every {
		return stale, err
	}
	var all []string
	for _, vm := range lc.lab.VMs {
		if len(vm.Roles) > 0 {
			all = append(all, vm.Name)
		}
	}
	return all, nil
}

// configure runs the roles of the VMs in only (nil = all) and records
// what it applied, so that the next no-op up knows what changed.
func (a *App) configure(ctx context.Context, lc *lifecycle, s *provision.State, pool *ssh.Pool, only []string) error {
	for _, vm := range s.VMs {
		cfg, err := lc.sshConfig(vm, true)
		if err != nil {
			return err
		}
		pool.Add(cfg)
	}
	var out io.Writer
	if !a.Quiet {
		out = a.IO.Err
	}
	applied, err := roles.LoadApplied(lc.keys.Dir())
	if err != nil {
		return err
	}
	if err := applied.Forget(only); err != nil {
		return err
	}
	if _, err := roles.Apply(ctx, lc.lab, func(vm string) (ssh.Runner, error) { return pool.Runner(vm), nil },
		roles.Options{Out: out, Only: only}); err != nil {
		return err
	}
	return applied.Record(lc.lab, only)
}

// confirm shows the pending changes and asks whether to apply them.
func (a *App) confirm(c *provision.Changes) (bool, error) {
	if a.Quiet { // otherwise up has just listed them
		fmt.Fprintln(a.IO.Err, "up will change the lab:")
		_ = c.Write(a.IO.Err)
	}
	f, ok := a.IO.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false, errors.New("up would delete or replace existing objects (listed above) and stdin is not a terminal to ask: re-run with --yes to apply")
	}
	fmt.Fprint(a.IO.Err, "Apply these changes? [y/N] ")
	line, err := bufio.NewReader(a.IO.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	ans := strings.ToLower(strings.TrimSpace(line))
	return ans == "y" || ans == "yes", nil
}

func argOr(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

func accelName(domainType string) string {
	if domainType == "kvm" {
		return "KVM"
	}
	return "TCG"
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// infof prints a progress line on stderr unless -q.
func (a *App) infof(format string, args ...any) {
	if !a.Quiet {
		fmt.Fprintf(a.IO.Err, format+"\n", args...)
	}
}

// --- live progress ---

// progress renders provision.Progress: one mpb line per VM with phase and
// elapsed time on a terminal, plain lines otherwise, nothing with -q.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	quiet  bool
	start  time.Time
	p      *mpb.Progress
	bars   map[string]*mpb.Bar
	phases map[string]provision.Phase
	since  map[string]time.Time
	paused bool
}

func (a *App) newProgress(asJSON bool) *progress {
	pr := &progress{w: a.IO.Err, quiet: a.Quiet, start: time.Now(), bars: map[string]*mpb.Bar{},
		phases: map[string]provision.Phase{}, since: map[string]time.Time{}}
	if f, ok := a.IO.Err.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !a.Quiet && !asJSON {
		pr.p = mpb.New(mpb.WithOutput(a.IO.Err), mpb.WithRefreshRate(250*time.Millisecond))
	}
	return pr
}

func (p *progress) VM(vm string, phase provision.Phase, err error) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	now := time.Now()
	p.phases[vm] = phase
	if p.p == nil {
		line := fmt.Sprintf("%-16s %-11s %6.1fs", vm, phase, now.Sub(p.start).Seconds())
		if err != nil {
			line += "  " + firstLine(err.Error())
		}
		fmt.Fprintln(p.w, line)
		p.mu.Unlock()
		return
	}
	bar, ok := p.bars[vm]
	if !ok {
		bar = p.p.New(1, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			p.mu.Lock()
			defer p.mu.Unlock()
			end := p.since[vm]
			if end.IsZero() {
				end = time.Now()
			}
			return fmt.Sprintf("%-16s %-11s %6.1fs", vm, p.phases[vm], end.Sub(p.start).Seconds())
		})))
		p.bars[vm] = bar
	}
	final := phase == provision.PhaseReady || phase == provision.PhaseUpToDate || phase == provision.PhaseFailed || phase == provision.PhaseDone
	if final {
		p.since[vm] = now // freezes the elapsed time shown
	}
	p.mu.Unlock()
	if final {
		bar.SetCurrent(1)
	}
}

func (p *progress) Info(msg string) {
	if p.quiet {
		return
	}
	if p.p != nil {
		fmt.Fprintln(p.p, msg) // mpb prints it above the bars
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, msg)
}

// Pause and Resume bracket a prompt; bars are finished first so the
// question is not overwritten.
func (p *progress) Pause()  { p.Stop() }
func (p *progress) Resume() {}

// Stop completes every bar and waits for the last render.
func (p *progress) Stop() {
	p.mu.Lock()
	mp := p.p
	p.p = nil
	bars := p.bars
	p.bars = map[string]*mpb.Bar{}
	p.mu.Unlock()
	if mp == nil {
		return
	}
	for _, b := range bars {
		b.SetCurrent(1)
	}
	mp.Wait()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
