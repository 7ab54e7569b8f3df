package testbed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// slowBoot is Hosts and Power for a VM that takes boot to answer SSH
// after it is started.
type slowBoot struct{ boot time.Duration }

func (slowBoot) Runner(string) (ssh.Runner, error) { return nil, errors.New("no runner in this test") }
func (b slowBoot) Reconnect(ctx context.Context, _ string, timeout time.Duration) error {
	select {
	case <-time.After(b.boot):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (slowBoot) Destroy(context.Context, *topology.VM) (string, error) { return MethodDestroy, nil }
func (slowBoot) Start(context.Context, *topology.VM) error             { return nil }
func (slowBoot) SetLink(context.Context, *topology.VM, *topology.NIC, bool) (string, error) {
	return MethodLink, nil
}

// A reverted destroy_director waits minutes for the reboot on a busy
// host: it says so every 15 s, with the bound.
func TestRevertRebootIsNotSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var lines []string
		say := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, fmt.Sprintf(format, args...))
		}
		b := slowBoot{boot: 40 * time.Second}
		in := &Injector{Hosts: b, Power: b, BootTimeout: 10 * time.Minute, Progress: say}
		if err := in.restart(context.Background(), &topology.VM{Name: "director-1"}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"waiting up to 10m0s for director-1 to boot and answer SSH",
			"still waiting for director-1 to boot and answer SSH (15s of up to 10m0s)",
			"still waiting for director-1 to boot and answer SSH (30s of up to 10m0s)",
		}
		if !slices.Equal(lines, want) {
			t.Errorf("progress lines:\n%q\nwant\n%q", lines, want)
		}
		if in.Notes()["boot_to_ssh_sec"] != "40.0" {
			t.Errorf("notes %v", in.Notes())
		}
	})
}
