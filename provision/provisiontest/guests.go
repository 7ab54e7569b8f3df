// Package provisiontest fakes the guests of a provision.Session: every VM
// boots at once and runs its commands on a rolestest.Fake.
package provisiontest

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/roles/rolestest"
	"github.com/labctl/labctl/provision/ssh"
)

// Guests is a provision.Guests over one rolestest.Fake per VM.
type Guests struct {
	Fakes  map[string]*rolestest.Fake
	mu     sync.Mutex
	booted []string
}

// New fakes the VMs named vms.
func New(vms ...string) *Guests {
	g := &Guests{Fakes: map[string]*rolestest.Fake{}}
	for _, vm := range vms {
		g.Fakes[vm] = rolestest.New(vm)
	}
	return g
}

// WaitBooted records that cfg.Host booted.
func (g *Guests) WaitBooted(_ context.Context, cfg ssh.Config, _ time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.booted = append(g.booted, cfg.Host)
	return nil
}

// Booted lists the VMs waited for, in order.
func (g *Guests) Booted() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.booted...)
}

// Transport runs every command on the VM's fake.
func (g *Guests) Transport() provision.Transport { return transport{g} }

// Ran reports whether vm ran any command since the last Reset.
func (g *Guests) Ran(vm string) bool { return len(g.Fakes[vm].Commands()) > 0 }

// Reset forgets the commands run so far.
func (g *Guests) Reset() {
	for _, f := range g.Fakes {
		f.ResetCommands()
	}
}

type transport struct{ g *Guests }

func (transport) Add(ssh.Config)                                     {}
func (t transport) Runner(vm string) ssh.Runner                      { return t.g.Fakes[vm] }
func (transport) Ready(context.Context, string, time.Duration) error { return nil }
func (transport) Close() error                                       { return nil }

// Image is a base image the fake hypervisor never reads.
func Image(name string) (*engine.BaseImage, error) {
	return &engine.BaseImage{Name: name, SHA256: "abababababababababababababababababababababababababababababababab", Disk: "/dev/null",
		DiskFormat: "qcow2", VirtualSize: 2 << 30, Kernel: "/dev/null", Initrd: "/dev/null", Cmdline: "root=/dev/vda console=ttyS0"}, nil
}

// Lab is the source of a lab "sess" of two VMs on one NAT network:
// client (role client, memory MiB) and box (no roles).
func Lab(memory int) string {
	return `lab "sess" {
  accel = "tcg"
  image = "base"
}
network "lan" {
  mode = "nat"
  cidr = "192.168.151.0/24"
}
vm "client" {
  roles  = ["client"]
  memory = "` + strconv.Itoa(memory) + `MiB"
  nic "lan" {}
}
vm "box" {
  nic "lan" {}
}
`
}
