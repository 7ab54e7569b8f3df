package testbed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labctl/labctl/provision/guestout"
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
		return in.runNoted(ctx, vm, `kill -KILL "$(cat `+ldirectordPID+`)"`)
	case topology.StandbyDirector:
		return in.runNoted(ctx, vm, "crm_standby --node "+vm.Hostname+" --update on")
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
		if _, err := run(ctx, in.Hosts, vm.Name, "crm_standby --node "+vm.Hostname+" --update off"); err != nil {
			return err
		}
	case topology.StopCorosync:
		for _, u := range []string{"corosync", "pacemaker"} {
			if err := in.startService(ctx, vm, u); err != nil {
				return err
			}
		}
	}
	return in.waitResources(ctx, kind == topology.KillLdirectord)
}

// waitResources waits until every resource of the cluster runs on exactly
// one node, asking each director in turn (one may be down). With
// restarted, it also waits for an ldirectord process there: right after a
// kill, crm_mon still says Started until the next monitor notices.
func (in *Injector) waitResources(ctx context.Context, restarted bool) error {
	var last string
	return waitSaying(ctx, in.Progress, "the Pacemaker resources to run on one director", resourcesBound, func(ctx context.Context) error {
		err := poll(ctx, 2*time.Second, resourcesBound, "Pacemaker resources started", func(ctx context.Context) (bool, error) {
			where, err := in.resourcesNode(ctx)
			last = where
			if err != nil {
				last = err.Error()
			}
			if where == "" || !restarted {
				return where != "", nil
			}
			vm := in.nodeVM(where)
			if vm == "" {
				return false, fmt.Errorf("resources run on %q, which is no director of %s", where, in.Service.Name)
			}
			_, err = run(ctx, in.Hosts, vm, `kill -0 "$(cat `+ldirectordPID+` 2>/dev/null)" 2>/dev/null`)
			if isExit(err) {
				last = "ldirectord daemon not running yet on " + vm
				return false, nil
			}
			return err == nil, err
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

// nodeVM maps a cluster node name to its director's VM name.
func (in *Injector) nodeVM(node string) string {
	for _, d := range in.Service.Directors {
		if d.Hostname == node {
			return d.Name
		}
	}
	return ""
}

// resourcesNode returns the node every resource runs on, or "" while they
// are stopped, moving or spread over nodes.
func (in *Injector) resourcesNode(ctx context.Context) (string, error) {
	var errs []error
	for _, d := range in.Service.Directors {
		out, err := run(ctx, in.Hosts, d.Name, "crm_mon -1 --output-as=xml")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		m, err := guestout.ParseCrmMon(out)
		if err != nil {
			return "", err
		}
		node := ""
		for _, r := range m.Resources {
			if !r.Active || len(r.Nodes) != 1 || (node != "" && r.Nodes[0] != node) {
				return "", nil
			}
			node = r.Nodes[0]
		}
		return node, nil
	}
	return "", errors.Join(errs...)
}
