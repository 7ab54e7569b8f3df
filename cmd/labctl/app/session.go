package app

import (
	"context"
	"fmt"

	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

// EnvURI overrides the libvirt URI of every lab (the --connect flag wins).
const EnvURI = provision.EnvURI

// lifecycleFlags are shared by up, down, status, ssh, console, provision,
// verify and bench.
type lifecycleFlags struct {
	labFlags
	ownerFlags
	uri    string
	output string
	// copies are the --copy selection of a class's copies (none = every
	// copy the host has, or the lab itself when it has none).
	copies []string
	hosts  string // --hosts: the class's libvirt URIs, comma-separated
}

func (f *lifecycleFlags) register(cmd *cobra.Command, output bool) {
	f.labFlags.register(cmd)
	cmd.Flags().StringVarP(&f.uri, "connect", "c", "", "libvirt URI (default: the lab's uri, $"+EnvURI+", qemu:///system)")
	cmd.Flags().StringVar(&f.ownerFlags.owner, "owner", "", "run OWNER's own copy of the lab (objects named <lab>-<owner>); default: you, under the lab's own names")
	cmd.Flags().BoolVar(&f.force, "force", false, "as root: change or remove a lab another owner holds")
	cmd.Flags().StringSliceVar(&f.copies, "copy", nil, "act on these copies of a classroom lab (default: every copy on its hosts)")
	cmd.Flags().StringVar(&f.hosts, "hosts", "", "libvirt URIs of a class's hosts, comma-separated: up places copies on them, other commands find copies there (default: the lab's uri)")
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

// openSession opens the lab at arg through provision.Open, with the
// flags' owner and URI, printing the lab file's warnings unless -q.
func (a *App) openSession(ctx context.Context, arg string, f lifecycleFlags) (*provision.Session, error) {
	owner, err := f.ownerFlags.resolve()
	if err != nil {
		return nil, err
	}
	f.instance = f.ownerFlags.owner
	o := a.fakes
	o.URI, o.Owner, o.Force = f.uri, owner, f.force
	o.Load = func(base topology.LoadOptions, warn bool) (*topology.Lab, error) {
		return a.loadWith(arg, f.labFlags, base, a.Quiet || !warn)
	}
	s, err := provision.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	if !a.Quiet {
		s.Out = a.IO.Err
	}
	if a.Verbose >= 2 {
		s.Trace = a.IO.Err
	}
	return s, nil
}

// hostsOpener loads the lab at arg and returns Runners for its VMs plus a
// function that releases them. provision and verify take it as a
// parameter so their tests can use fakes.
type hostsOpener func(ctx context.Context, arg string, f lifecycleFlags) (*topology.Lab, func(vm string) (ssh.Runner, error), func(), error)

// sshHosts reaches the lab's VMs over SSH as root (sudo), with the pinned
// keys from the lab's key store, exactly as `labctl up` does.
func (a *App) sshHosts(ctx context.Context, arg string, f lifecycleFlags) (*topology.Lab, func(vm string) (ssh.Runner, error), func(), error) {
	s, err := a.openSession(ctx, arg, f)
	if err != nil {
		return nil, nil, nil, err
	}
	h, err := s.Hosts(ctx)
	if err != nil {
		s.Close()
		return nil, nil, nil, err
	}
	// libvirt stays open until done: with a qemu+ssh URI its SSH connection
	// carries the guest SSH connections.
	return s.Lab, h.Runner, func() { h.Close(); s.Close() }, nil
}
