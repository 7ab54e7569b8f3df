package testbed

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labctl/labctl/topology"
)

func mdDevice(vm *topology.VM) string { return "/dev/md/" + vm.RAID.Name }

// activeMembers lists the member devices of `mdadm --detail` in the
// "active sync" state, in table order.
func activeMembers(detail string) []string {
	var out []string
	for _, line := range strings.Split(detail, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(line, "active sync") && strings.HasPrefix(f[len(f)-1], "/dev/") {
			out = append(out, f[len(f)-1])
		}
	}
	return out
}

// failMember marks the last active member faulty and removes it, as a
// dying disk would be: the array runs degraded.
func (in *Injector) failMember(ctx context.Context, vm *topology.VM) error {
	if vm.RAID == nil {
		return fmt.Errorf("VM %s has no RAID", vm.Name)
	}
	md := mdDevice(vm)
	detail, err := run(ctx, in.Hosts, vm.Name, "mdadm --detail "+md)
	if err != nil {
		return err
	}
	members := activeMembers(detail)
	if len(members) == 0 {
		return fmt.Errorf("%s: no active member in mdadm --detail", md)
	}
	dev := members[len(members)-1]
	in.dev = dev
	in.note("device", dev)
	in.note("method", "mdadm --fail, --remove")
	if _, err := run(ctx, in.Hosts, vm.Name, "mdadm "+md+" --fail "+dev); err != nil {
		return err
	}
	in.note("failed_at", stamp(time.Now()))
	// The kernel may still hold the member for a moment after --fail.
	err = poll(ctx, 200*time.Millisecond, 10*time.Second, "remove "+dev+" from "+md, func(ctx context.Context) (bool, error) {
		_, err := run(ctx, in.Hosts, vm.Name, "mdadm "+md+" --remove "+dev)
		return err == nil, err
	})
	if err != nil {
		return err
	}
	if st, err := run(ctx, in.Hosts, vm.Name, "cat /proc/mdstat"); err == nil {
		in.note("state_after_fail", raidSummary(st))
	}
	return nil
}

// reAddMember wipes the removed member's superblock (so md rebuilds it as
// a new disk rather than refusing a stale one), adds it back and waits
// until the rebuild is done, noting when recovery started and ended.
func (in *Injector) reAddMember(ctx context.Context, vm *topology.VM) error {
	if in.dev == "" {
		return nil
	}
	md := mdDevice(vm)
	if _, err := run(ctx, in.Hosts, vm.Name, "mdadm --zero-superblock "+in.dev+" && mdadm "+md+" --add "+in.dev); err != nil {
		return err
	}
	added := time.Now()
	in.note("added_at", stamp(added))
	timeout := in.RebuildTimeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	var sawRecovery bool
	err := waitSaying(ctx, in.Progress, "the rebuild of "+md+" on "+vm.Name, timeout, func(ctx context.Context) error {
		return poll(ctx, 500*time.Millisecond, timeout, "rebuild of "+md+" on "+vm.Name, func(ctx context.Context) (bool, error) {
			out, err := run(ctx, in.Hosts, vm.Name, "cat /proc/mdstat")
			if err != nil {
				return false, err
			}
			s := raidSummary(out)
			if strings.HasPrefix(s, "recovery") && !sawRecovery {
				sawRecovery = true
				in.note("recovery_seen_at", stamp(time.Now()))
			}
			return s == "clean", nil
		})
	})
	if err != nil {
		return err
	}
	in.note("clean_at", stamp(time.Now()))
	in.note("rebuild_sec", fmt.Sprintf("%.1f", time.Since(added).Seconds()))
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
