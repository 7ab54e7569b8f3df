package testbed

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/bench/result"
	"github.com/labctl/labctl/topology"
	"golang.org/x/sync/errgroup"
)

// Variations applies experiment variations to a running LVS service and
// undoes them with Restore.
//
// Active real servers: the first N backends stay up; Apache is stopped on
// the others, so keepalived's own health check removes them and keeps
// them out (setting weight 0 with ipvsadm would be undone by the checker
// on its next state change). Apply then waits until the active director's
// IPVS table shows exactly the expected pool.
//
// Scheduler: `ipvsadm -E` on every director that has the service
// (keepalived does not rewrite a virtual service's scheduler until it
// reloads; ldirectord not until its file changes).
type Variations struct {
	Service *topology.LVSService
	Hosts   Hosts
	// Timeout bounds the wait for the pool (default 2 min: the health
	// check needs interval × retries to drop a server).
	Timeout  time.Duration
	Progress func(format string, args ...any)

	mu        sync.Mutex
	stopped   map[string]bool    // backends whose Apache these Variations stopped
	checked   bool               // active backends were started once (left over from an aborted run?)
	scheduler topology.Scheduler // scheduler set by these Variations ("" = untouched)
}

func (c *Variations) progress(format string, args ...any) {
	if c.Progress != nil {
		c.Progress(format, args...)
	}
}

// Apply puts v in force and waits until the pool shows it.
func (c *Variations) Apply(ctx context.Context, v result.Variation) error {
	s := c.Service
	if v.Mode != "" && v.Mode != string(s.Mode) {
		return fmt.Errorf("LVS %s runs %s: switching to %s needs another lab variant", s.Name, s.Mode, v.Mode)
	}
	if v.RealServers < 1 || v.RealServers > len(s.Backends) {
		return fmt.Errorf("LVS %s: %d real servers asked, %d declared", s.Name, v.RealServers, len(s.Backends))
	}
	sched := topology.Scheduler(v.Scheduler)
	if sched == "" {
		sched = s.Scheduler
	}
	if err := c.setBackends(ctx, v.RealServers); err != nil {
		return err
	}
	if err := c.setScheduler(ctx, sched); err != nil {
		return err
	}
	want := make([]string, 0, v.RealServers)
	for _, b := range s.Backends[:v.RealServers] {
		want = append(want, b.VM.Name)
	}
	slices.Sort(want)
	return c.waitPool(ctx, want, sched)
}

// setBackends starts Apache on the first n backends and stops it on the rest.
func (c *Variations) setBackends(ctx context.Context, n int) error {
	c.mu.Lock()
	if c.stopped == nil {
		c.stopped = map[string]bool{}
	}
	if !c.checked {
		// An aborted earlier run may have left Apache stopped: start the
		// active ones once (a no-op when running).
		for _, b := range c.Service.Backends[:n] {
			c.stopped[b.VM.Name] = true
		}
		c.checked = true
	}
	c.mu.Unlock()
	web := topology.RoleWeb.Unit()
	var g errgroup.Group
	for i, b := range c.Service.Backends {
		name := b.VM.Name
		c.mu.Lock()
		stopped := c.stopped[name]
		c.mu.Unlock()
		switch {
		case i >= n && !stopped:
			g.Go(func() error {
				c.progress("stop %s on %s", web, name)
				if _, err := run(ctx, c.Hosts, name, "systemctl stop "+web); err != nil {
					return fmt.Errorf("deactivate real server %s: %w", name, err)
				}
				c.mu.Lock()
				c.stopped[name] = true
				c.mu.Unlock()
				return nil
			})
		case i < n && stopped:
			g.Go(func() error {
				c.progress("start %s on %s", web, name)
				if _, err := run(ctx, c.Hosts, name, "systemctl start "+web); err != nil {
					return fmt.Errorf("activate real server %s: %w", name, err)
				}
				c.mu.Lock()
				delete(c.stopped, name)
				c.mu.Unlock()
				return nil
			})
		}
	}
	return g.Wait()
}

// editCmd is the ipvsadm command that sets the service's scheduler while
// keeping its persistence.
// With the Pacemaker stack only the active director has the service
// (ldirectord runs there alone), so the others are left alone; a failover
// brings the declared scheduler back.
func editCmd(s *topology.LVSService, sched topology.Scheduler) string {
	flag := "-t"
	if strings.EqualFold(s.Protocol, "udp") {
		flag = "-u"
	}
	svc := fmt.Sprintf("%s %s", flag, netip.AddrPortFrom(s.VIP, uint16(s.Port)))
	cmd := fmt.Sprintf("ipvsadm -E %s -s %s", svc, sched)
	if p := s.Persistence; p != nil {
		cmd += fmt.Sprintf(" -p %d", p.TimeoutSec)
		if p.Netmask != "" {
			cmd += " -M " + p.Netmask
		}
	}
	if s.Stack == topology.StackPacemaker {
		cmd = "if ipvsadm -Ln " + svc + " >/dev/null 2>&1; then " + cmd + "; fi"
	}
	return cmd
}

func (c *Variations) setScheduler(ctx context.Context, sched topology.Scheduler) error {
	c.mu.Lock()
	cur := c.scheduler
	c.mu.Unlock()
	if cur == sched || (cur == "" && sched == c.Service.Scheduler) {
		return nil
	}
	c.progress("scheduler %s on %d directors", sched, len(c.Service.Directors))
	var g errgroup.Group
	for _, d := range c.Service.Directors {
		g.Go(func() error {
			if _, err := run(ctx, c.Hosts, d.Name, editCmd(c.Service, sched)); err != nil {
				return fmt.Errorf("set scheduler %s on %s: %w", sched, d.Name, err)
			}
			return nil
		})
	}
	err := g.Wait()
	c.mu.Lock()
	c.scheduler = sched
	c.mu.Unlock()
	return err
}

// waitPool waits until the VIP holder's table has exactly want (by VM
// name, weight > 0) and the scheduler sched.
func (c *Variations) waitPool(ctx context.Context, want []string, sched topology.Scheduler) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	obs := &Observer{Hosts: c.Hosts, Service: c.Service}
	var last ClusterState
	err := waitSaying(ctx, c.Progress, "the IPVS pool "+strings.Join(want, ","), timeout, func(ctx context.Context) error {
		return poll(ctx, 500*time.Millisecond, timeout, "wait for the IPVS pool", func(ctx context.Context) (bool, error) {
			last = obs.Snapshot(ctx)
			return last.Holder != "" && !strings.Contains(last.Holder, ",") && slices.Equal(last.Pool, want) && last.Scheduler == string(sched), nil
		})
	})
	if err != nil {
		return fmt.Errorf("LVS %s: want pool %v (%s), holder %q has %v (%s): %w", c.Service.Name, want, sched, last.Holder, last.Pool, last.Scheduler, err)
	}
	c.progress("pool %s: %s (%s)", last.Holder, strings.Join(want, ","), sched)
	return nil
}

// Restore starts every real server these Variations stopped and puts the
// declared scheduler back, then waits for the full pool.
func (c *Variations) Restore(ctx context.Context) error {
	c.mu.Lock()
	touched := len(c.stopped) > 0 || c.scheduler != ""
	c.mu.Unlock()
	if !touched {
		return nil
	}
	if err := c.setBackends(ctx, len(c.Service.Backends)); err != nil {
		return err
	}
	if err := c.setScheduler(ctx, c.Service.Scheduler); err != nil {
		return err
	}
	want := make([]string, 0, len(c.Service.Backends))
	for _, b := range c.Service.Backends {
		want = append(want, b.VM.Name)
	}
	slices.Sort(want)
	err := c.waitPool(ctx, want, c.Service.Scheduler)
	c.mu.Lock()
	c.scheduler = ""
	c.mu.Unlock()
	return err
}
