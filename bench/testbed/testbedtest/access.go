package testbedtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"github.com/labctl/labctl/bench/testbed"
	"github.com/labctl/labctl/provision/libvirt/fake"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
)

// Hosts returns testbed.Hosts over the fakes; a powered-off VM's commands fail
// like a lost connection.
func (s *Sim) Hosts() testbed.Hosts { return simHosts{s} }

type simHosts struct{ s *Sim }

func (h simHosts) Runner(vm string) (ssh.Runner, error) {
	f, ok := h.s.Fakes[vm]
	if !ok {
		return nil, fmt.Errorf("no VM %q", vm)
	}
	return downRunner{f, h.s}, nil
}

func (h simHosts) Reconnect(ctx context.Context, vm string, timeout time.Duration) error {
	h.s.mu.Lock()
	h.s.reconnects = append(h.s.reconnects, vm)
	h.s.mu.Unlock()
	if h.s.Down(vm) {
		return fmt.Errorf("ssh on %s not ready: powered off", vm)
	}
	return nil
}

type downRunner struct {
	*rolestest.Fake
	s *Sim
}

func (r downRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	if r.s.Down(r.Name) {
		t := time.NewTimer(r.s.DownHang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return ssh.Result{ExitCode: -1}, fmt.Errorf("ssh to %s: connection lost", r.Name)
	}
	return r.Fake.Run(ctx, cmd)
}

// watchLoop is the shape of the bench watcher's streaming command:
// N looks of CMD, each followed by "@@END", S seconds apart.
var watchLoop = regexp.MustCompile(`^i=0; while \[ \$i -lt (\d+) \]; do (.*); echo (@@END) \|\| exit; i=\$\(\(i\+1\)\); sleep ([0-9.]+); done$`)

// Exec implements ssh.Streamer: the watcher's loop runs its look through
// the fake's handlers every period, as the guest would; a VM that goes
// down stops answering, and the call fails like a lost connection. Other
// commands run once.
func (r downRunner) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	m := watchLoop.FindStringSubmatch(cmd)
	if m == nil {
		res, err := r.Run(ctx, cmd)
		stdout.Write(res.Stdout)
		stderr.Write(res.Stderr)
		var ce *ssh.CommandError
		if errors.As(err, &ce) {
			return ce.ExitCode, nil
		}
		return res.ExitCode, err
	}
	n, _ := strconv.Atoi(m[1])
	secs, _ := strconv.ParseFloat(m[4], 64)
	for i := 0; i < n; i++ {
		if r.s.Down(r.Name) {
			_, err := r.Run(ctx, m[2]) // hangs, then fails
			return -1, err
		}
		res, _ := r.Fake.Run(ctx, m[2])
		stdout.Write(res.Stdout)
		fmt.Fprintf(stdout, "\n%s\n", m[3])
		t := time.NewTimer(time.Duration(secs * float64(time.Second)))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return -1, ctx.Err()
		}
	}
	return 0, nil
}

// Power returns testbed.LibvirtPower over HV; the domains' state changes
// drive the simulation (a destroyed VM is down, a director whose VIP link
// is down loses the VIP, as VRRP would).
func (s *Sim) Power() testbed.Power { return &testbed.LibvirtPower{HV: simHV{s.HV, s}} }

type simHV struct {
	*fake.Hypervisor
	s *Sim
}

func (h simHV) vmOf(domain string) string {
	for _, vm := range h.s.Lab.VMs {
		if vm.LibvirtName == domain {
			return vm.Name
		}
	}
	return ""
}

func (h simHV) DestroyDomain(ctx context.Context, lab, name string) error {
	if err := h.Hypervisor.DestroyDomain(ctx, lab, name); err != nil {
		return err
	}
	h.s.PowerOff(h.vmOf(name))
	return nil
}

func (h simHV) StartDomain(ctx context.Context, name string) error {
	if err := h.Hypervisor.StartDomain(ctx, name); err != nil {
		return err
	}
	h.s.PowerOn(h.vmOf(name))
	return nil
}

func (h simHV) SetInterfaceLink(ctx context.Context, lab, name, mac string, up bool) error {
	if err := h.Hypervisor.SetInterfaceLink(ctx, lab, name, mac, up); err != nil {
		return err
	}
	vm := h.vmOf(name)
	for _, d := range h.s.Service.Directors {
		if d.Name == vm {
			h.s.mu.Lock()
			h.s.keepalived[vm] = up
			h.s.mu.Unlock()
		}
	}
	return nil
}
