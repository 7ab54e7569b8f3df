package testbed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/guestout"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Faults of the Pacemaker stack. Pacemaker itself recovers from them
// (restart in place, or move the group after migration-threshold
// failures); a revert undoes what labctl did and waits until the group
// runs again somewhere.

// resourcesBound bounds the wait for the group after a revert: a move
// under TCG stops and starts three resources, each through a resource
// agent (shell scripts) on a busy vCPU.
const resourcesBound = 5 * time.Minute

// ldirectordPID is the pid file of the ldirectord daemon the Pacemaker
// stack runs (ldirectord names it after its configuration file,
// /etc/ha.d/ldirectord.cf).
const ldirectordPID = "/run/ldirectord.ldirectord.cf.pid"

func (in *Injector) injectPacemaker(ctx context.Context, kind topology.FaultKind, vm *topology.VM) error {
	switch kind {
	case topology.KillLdirectord:
		// kill -9 of the daemon's pid, as in the thesis' Prueba 4:
		// Pacemaker's monitor finds a stale pid file and counts a failure.
		// Not pkill: the resource agent runs short-lived "ldirectord
		// status/start/stop" processes of the same name, and killing one of
		// those fails an operation instead (a failed start bans the node).
		if err := in.runNoted(ctx, vm, `kill -KILL "$(cat `+ldirectordPID+`)"`); err != nil {
			return err
		}
		// Nothing to revert: the fault lasts until Pacemaker has noticed
		// (next monitor) and restarted or moved the group, so its outage
		// falls within the fault's window, not after the "revert".
		return in.waitResources(ctx, kind)
	case topology.StandbyDirector:
		return in.runNoted(ctx, vm, "crm_standby --node "+ssh.Quote(vm.Hostname)+" --update on")
	case topology.StopCorosync:
		// Pacemaker needs corosync, so systemd stops it first, and it
		// hands the group over before the node leaves.
		return in.runNoted(ctx, vm, "systemctl stop corosync")
	}
	return fmt.Errorf("not a Pacemaker fault: %s", kind)
}

func (in *Injector) revertPacemaker(ctx context.Context, kind topology.FaultKind, vm *topology.VM) error {
	switch kind {
	case topology.StandbyDirector:
		if _, err := run(ctx, in.Hosts, vm.Name, "crm_standby --node "+ssh.Quote(vm.Hostname)+" --update off"); err != nil {
			return err
		}
	case topology.StopCorosync:
		for _, u := range []string{"corosync", "pacemaker"} {
			if err := in.startService(ctx, vm, u); err != nil {
				return err
			}
		}
	}
	return in.waitResources(ctx, kind)
}

// waitResources waits until the cluster has settled after the revert of a
// fault of kind: every director online again (after stop_corosync), no
// action pending (a node back from standby or a restart takes the group
// back, as it prefers the first director), and every resource on one
// node. After a kill it also waits for the ldirectord daemon there: right
// after a kill, crm_mon still says Started until the next monitor notices.
// It asks the directors in turn (one may be down).
func (in *Injector) waitResources(ctx context.Context, kind topology.FaultKind) error {
	var last string
	return waitSaying(ctx, in.Progress, "the Pacemaker resources to settle on one director", resourcesBound, func(ctx context.Context) error {
		err := poll(ctx, 2*time.Second, resourcesBound, "Pacemaker resources settled", func(ctx context.Context) (bool, error) {
			where, why, err := in.settledOn(ctx, kind)
			last = why
			if err != nil {
				last = err.Error()
			}
			return where != "", err
		})
		if err != nil && last != "" {
			err = fmt.Errorf("%w (last seen: %s)", err, last)
		}
		if err == nil {
			in.note("resources_on", last)
		}
		return err
	})
}

// settledOn returns the node the resources run on once settled (why is
// then that node), or "" and why not yet.
func (in *Injector) settledOn(ctx context.Context, kind topology.FaultKind) (node, why string, err error) {
	m, vm, err := in.crmMon(ctx)
	if err != nil {
		return "", "", err
	}
	if kind == topology.StopCorosync && len(m.Online()) < len(in.Service.Directors) {
		return "", "online: " + strings.Join(m.Online(), ", "), nil
	}
	if _, err := run(ctx, in.Hosts, vm, "crm_resource --wait --timeout=60s"); err != nil {
		if isExit(err) {
			return "", "the cluster is still acting", nil
		}
		return "", "", err
	}
	if m, _, err = in.crmMon(ctx); err != nil {
		return "", "", err
	}
	node = m.RunningOn()
	if node == "" {
		return "", strings.Join(m.Misplaced(""), "; "), nil
	}
	if kind != topology.KillLdirectord {
		return node, node, nil
	}
	dvm := in.nodeVM(node)
	if dvm == "" {
		return "", "", fmt.Errorf("resources run on %q, which is no director of %s", node, in.Service.Name)
	}
	_, err = run(ctx, in.Hosts, dvm, `kill -0 "$(cat `+ldirectordPID+` 2>/dev/null)" 2>/dev/null`)
	if isExit(err) {
		return "", "ldirectord daemon not running yet on " + dvm, nil
	}
	if err != nil {
		return "", "", err
	}
	return node, node, nil
}

// nodeVM maps a cluster node name to its director's VM name.
func (in *Injector) nodeVM(node string) string {
	for _, d := range in.Service.Directors {
		if d.Hostname == node {
			return d.Name
		}
	}
	return ""
}

// crmMon returns what the first director that answers says of the
// cluster, and that director's VM name.
func (in *Injector) crmMon(ctx context.Context) (guestout.CrmMon, string, error) {
	var errs []error
	for _, d := range in.Service.Directors {
		out, err := run(ctx, in.Hosts, d.Name, guestout.CrmMonCmd)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m, err := guestout.ParseCrmMon(out)
		return m, d.Name, err
	}
	return guestout.CrmMon{}, "", errors.Join(errs...)
}
