// Package roles configures lab VMs over SSH into an LVS + NFS-on-RAID +
// Apache cluster. Each role is a small unit that declares its Debian
// packages and a list of idempotent steps; a step compares the wanted state
// with what the guest has and only writes, reloads or restarts on a
// difference, so a second run reports every step unchanged.
package roles

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Options tune Apply.
type Options struct {
	// Only limits the run to these VM names (empty = every VM).
	Only []string
	// Out receives one progress line per finished step (nil = silent).
	Out io.Writer
	// Parallel caps how many VMs are configured at once (0 = no cap).
	Parallel int
	// Solution runs the roles the lab's exercise leaves to the student
	// too (the model answer); without it they are not configured.
	Solution bool
	// Secret returns the lab's secret of that name and size, made once
	// and kept with the lab's keys (the corosync authkey is one).
	Secret func(name string, size int) ([]byte, error)
}

// Status is the outcome of one step.
type Status string

const (
	StatusChanged   Status = "changed"
	StatusUnchanged Status = "unchanged"
	StatusFailed    Status = "failed"
)

// StepID names one step of one VM.
type StepID struct {
	VM   string        `json:"vm"`
	Role topology.Role `json:"role"`
	Step string        `json:"step"`
}

// PlannedStep is one step Apply would run, in run order.
type PlannedStep struct {
	StepID
	// Writes lists the files, devices and mount points the step writes.
	Writes []string `json:"writes,omitempty"`
}

// StepResult is what one step did.
type StepResult struct {
	StepID
	Status   Status        `json:"status"`
	Duration time.Duration `json:"duration_ns"`
	Error    string        `json:"error,omitempty"`
}

// Report lists every step Apply ran, in plan order.
type Report struct {
	Steps []StepResult `json:"steps"`
}

// Count returns how many steps ended with s.
func (r Report) Count(s Status) int {
	n := 0
	for _, st := range r.Steps {
		if st.Status == s {
			n++
		}
	}
	return n
}

// Hosts returns the Runner of a VM by name.
type Hosts func(vm string) (ssh.Runner, error)

// StepError is returned by Apply for a failed step: it names the VM, role
// and step; Err is usually an *ssh.CommandError with command, exit code and
// stderr tail.
type StepError struct {
	VM   string
	Role topology.Role
	Step string
	Err  error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s: role %s: step %s: %v", e.VM, e.Role, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// Steps lists the steps Apply runs for lab, in order: stages follow
// topology.RoleOrder (raid → nfs_server → nfs_client → web → real_server →
// lvs_director → client); within a stage VMs are sorted by name.
// solution: as Options.Solution.
func Steps(lab *topology.Lab, solution bool) []PlannedStep {
	var out []PlannedStep
	for _, st := range plan(lab, nil, solution) {
		for _, w := range st.work {
			for _, s := range w.steps {
				out = append(out, PlannedStep{StepID: StepID{VM: w.vm.Name, Role: st.role, Step: s.name}, Writes: s.writes})
			}
		}
	}
	return out
}

// Apply runs every role of every selected VM of lab. Each VM runs its
// stages in Steps order, concurrently with the other VMs; a stage waits for
// other VMs only where it needs them (NFS clients for the NFS server). The
// first failure cancels the run. ctx cancels everything.
func Apply(ctx context.Context, lab *topology.Lab, hosts Hosts, opts Options) (Report, error) {
	return apply(ctx, lab, hosts, opts)
}
