package provision

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"sync"
	"time"

	"github.com/labctl/labctl/image"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/ssh"
)

// Guests is how a Session reaches booted VMs: over SSH, or fakes in tests.
type Guests interface {
	// WaitBooted returns once the VM answers at cfg with its pinned host
	// key and cloud-init is done.
	WaitBooted(ctx context.Context, cfg ssh.Config, timeout time.Duration) error
	// Transport returns a new, empty set of connections.
	Transport() Transport
}

// Transport carries the commands of a Hosts: an ssh.Pool, or fakes.
type Transport interface {
	// Add sets how to reach cfg.Host, dropping an older connection.
	Add(cfg ssh.Config)
	// Runner runs commands on vm, connecting on first use.
	Runner(vm string) ssh.Runner
	// Ready (re)connects to vm, waiting up to timeout for it to answer.
	Ready(ctx context.Context, vm string, timeout time.Duration) error
	Close() error
}

// Hosts reaches a lab's VMs by name: what roles, verify and bench run
// their commands through.
type Hosts struct {
	lab   string
	t     Transport
	trace io.Writer // nil = no command trace
	// ready, when set, blocks until a VM answers SSH: commands wait for
	// it, so roles can start before every VM has booted.
	ready func(ctx context.Context, vm string) error
	mu    sync.Mutex
	cfgs  map[string]ssh.Config
}

func (s *Session) newHosts() *Hosts {
	return &Hosts{lab: s.Lab.Name, t: s.guests.Transport(), trace: s.Trace, cfgs: map[string]ssh.Config{}}
}

func (h *Hosts) add(cfg ssh.Config) {
	h.mu.Lock()
	h.cfgs[cfg.Host] = cfg
	h.mu.Unlock()
	h.t.Add(cfg)
}

func (h *Hosts) config(vm string) (ssh.Config, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cfg, ok := h.cfgs[vm]
	if !ok {
		return cfg, fmt.Errorf("lab %s has no VM %q", h.lab, vm)
	}
	return cfg, nil
}

// Runner returns the Runner of vm (a roles.Hosts and verify's hosts).
func (h *Hosts) Runner(vm string) (ssh.Runner, error) {
	if _, err := h.config(vm); err != nil {
		return nil, err
	}
	r := h.t.Runner(vm)
	if h.ready != nil {
		r = readyRunner{Runner: r, ready: h.ready}
	}
	if h.trace != nil {
		r = tracingRunner{Runner: r, mu: &h.mu, out: h.trace}
	}
	return r, nil
}

// readyRunner waits until its VM has booted before each command (at once
// after the first).
type readyRunner struct {
	ssh.Runner
	ready func(ctx context.Context, vm string) error
}

func (r readyRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	if err := r.ready(ctx, r.Host()); err != nil {
		return ssh.Result{}, err
	}
	return r.Runner.Run(ctx, cmd)
}

// Exec implements ssh.Streamer when the runner underneath does.
func (r readyRunner) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if err := r.ready(ctx, r.Host()); err != nil {
		return -1, err
	}
	return ssh.Stream(ctx, r.Runner, cmd, stdin, stdout, stderr)
}

func (r readyRunner) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	if err := r.ready(ctx, r.Host()); err != nil {
		return err
	}
	return r.Runner.WriteFile(ctx, p, data, mode)
}

func (r readyRunner) ReadFile(ctx context.Context, p string) ([]byte, error) {
	if err := r.ready(ctx, r.Host()); err != nil {
		return nil, err
	}
	return r.Runner.ReadFile(ctx, p)
}

// Reconnect drops the connection to vm (powered off, rebooted) and waits
// up to timeout for it to answer again.
func (h *Hosts) Reconnect(ctx context.Context, vm string, timeout time.Duration) error {
	cfg, err := h.config(vm)
	if err != nil {
		return err
	}
	h.t.Add(cfg)
	return h.t.Ready(ctx, vm, timeout)
}

// Close closes every connection.
func (h *Hosts) Close() error { return h.t.Close() }

// Machines is the lab's desired state with only names and addresses
// filled in: what reaching the VMs needs, without the image store.
func (s *Session) Machines() (*engine.State, error) {
	return engine.Desired(s.Lab, engine.Options{DomainType: s.Opts.DomainType, Images: func(n string) (*engine.BaseImage, error) {
		return &engine.BaseImage{Name: n}, nil
	}})
}

// Hosts reaches every VM of the lab as root (sudo), after checking that
// the lab is not another owner's.
func (s *Session) Hosts(ctx context.Context) (*Hosts, error) {
	if err := s.CheckHolder(ctx); err != nil {
		return nil, err
	}
	st, err := s.Machines()
	if err != nil {
		return nil, err
	}
	h := s.newHosts()
	for _, vm := range st.VMs {
		cfg, err := s.SSHConfig(vm, true)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.add(cfg)
	}
	return h, nil
}

// SSHConfig says how to reach vm with the lab's pinned keys.
func (s *Session) SSHConfig(vm *engine.VMSpec, sudo bool) (ssh.Config, error) {
	signer, _, err := s.Keys.UserKey()
	if err != nil {
		return ssh.Config{}, err
	}
	hk, err := s.Keys.HostPublicKey(vm.Name)
	if err != nil {
		return ssh.Config{}, fmt.Errorf("VM %s: %w (was the lab brought up with `labctl up`?)", vm.Name, err)
	}
	if vm.Address == "" {
		return ssh.Config{}, fmt.Errorf("VM %s has no static address to reach it on", vm.Name)
	}
	// TCG guests on a busy host can take well over ssh's default 10 s to
	// finish a handshake.
	return ssh.Config{Host: vm.Name, Addr: net.JoinHostPort(vm.Address, "22"), User: s.Lab.SSHUser,
		Signer: signer, HostKey: hk, Sudo: sudo, Timeout: 45 * time.Second, DialContext: s.dial}, nil
}

// sshGuests reaches the VMs over SSH.
type sshGuests struct{}

func (sshGuests) Transport() Transport { return sshPool{ssh.NewPool()} }

type sshPool struct{ *ssh.Pool }

func (p sshPool) Ready(ctx context.Context, vm string, timeout time.Duration) error {
	_, err := p.WaitReady(ctx, vm, timeout)
	return err
}

// bootDone succeeds once cloud-init has done what labctl needs (or the
// image has none). A guest booted with image.NoCloudInit ran labctl's
// first-boot script instead, which ends before sshd starts: its marker is
// all there is to check. labctl's trimmed images do it all in the init stage,
// which ends before sshd starts, so only that stage's errors are checked;
// other images may still restart sshd in their later stages, so for them
// it waits until cloud-init has finished.
const bootDone = `if grep -qw ` + image.NoCloudInit + ` /proc/cmdline; then
	test -f /run/labctl/booted && exit 0
	cat /run/labctl/failed >&2 2>/dev/null || echo "labctl first boot did not finish (journalctl -u labctl-firstboot)" >&2
	exit 1
fi
command -v cloud-init >/dev/null 2>&1 || exit 0
if [ -f ` + image.InitStageOnlyMarker + ` ]; then
	if grep -q '"errors": \[$' /run/cloud-init/status.json; then cat /run/cloud-init/status.json >&2; exit 1; fi
	exit 0
fi
cloud-init status --wait >/dev/null 2>&1; test -f /var/lib/cloud/instance/boot-finished`

// WaitBooted waits until the VM answers SSH with its pinned host key and
// its first boot (cloud-init or labctl's) is done, redialling when sshd
// restarts under us.
func (sshGuests) WaitBooted(ctx context.Context, cfg ssh.Config, timeout time.Duration) error {
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
			return fmt.Errorf("%s: first boot (cloud-init or labctl-firstboot) failed or did not finish (see `labctl console %s`): %w", cfg.Host, cfg.Host, err)
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(deadline):
			return fmt.Errorf("%s: wait for the first boot to finish: %w", cfg.Host, err)
		}
		select { // the connection dropped: sshd restarted
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
