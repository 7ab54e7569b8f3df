package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision"
	"github.com/labctl/labctl/provision/engine"
	"github.com/labctl/labctl/provision/libvirt"
	"github.com/labctl/labctl/provision/roles"
	"github.com/labctl/labctl/topology"
	"github.com/spf13/cobra"
)

func newPlanCmd(a *App) *cobra.Command {
	var f labFlags
	var output string
	cmd := &cobra.Command{
		Use:   "plan [FILE|DIR]",
		Short: "Show what `up` would create, without touching libvirt",
		Long: `Plan expands the lab and prints every object ` + "`labctl up`" + ` would create: storage
pools, the shared base image, networks, volumes (linked clones with their backing
file, data and RAID member disks, cloud-init seeds), domains with their NICs and
gateways; then the services the guests will run (LVS VIPs, directors and backends,
health checks, NFS exports and mounts, web sites, bench experiments) and the guest
role steps in the order they run, each with what it writes. The same lab always
gives a byte-identical plan.

For a lab with copies (copies = N), the plan is the first copy's (--copy
NAME for another): every copy has the same objects under its own names.`,
		Example: `  labctl plan labs/lvs-nat-ha
  labctl plan labs/lvs-nat-ha --output json | jq '.state.vms[].name'
  labctl plan labs/lvs-nat-ha -o json | jq -r '.services.lvs[].vip'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			if f.copy != "" {
				if err := topology.CheckCopyName(f.copy); err != nil {
					return fmt.Errorf("--copy: %w", err)
				}
			}
			lab, err := a.load(argOrEmpty(args), f)
			if err != nil {
				return err
			}
			if f.copy == "" && lab.Copies > 0 {
				// up makes copies of such a lab, never the lab itself.
				f.copy = topology.CopyNames(lab.Copies)[0]
				if lab, err = a.load(argOrEmpty(args), f); err != nil {
					return err
				}
				a.infof("lab %s has %d copies: the plan of copy %s (--copy NAME for another; up --names gives them names)", lab.Class, lab.Copies, f.copy)
			}
			domType, reason := localAccel(lab.Accel)
			p, err := makePlan(lab, planInputs{Images: planImage, DomainType: domType, AccelReason: reason})
			if err != nil {
				return err
			}
			if output == "json" {
				return p.writeJSON(a.IO.Out)
			}
			return p.writeText(a.IO.Out)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&f.copy, "copy", "", "plan this copy of a class lab (default: its first copy)")
	return cmd
}

// planInputs are what a plan needs besides the lab; tests fix them so
// golden files do not depend on the machine.
type planInputs struct {
	Images      func(name string) (*engine.BaseImage, error)
	DomainType  string
	AccelReason string
}

// plan is the desired libvirt state, the services the guests will run,
// and the guest role steps that configure them.
type plan struct {
	State    *engine.State
	Services planServices
	Steps    []roles.PlannedStep
	// Student lists the roles an exercise leaves to the student.
	Student []topology.VMRoles
}

func makePlan(lab *topology.Lab, in planInputs) (*plan, error) {
	st, err := engine.Desired(lab, engine.Options{
		URI:         lab.URI,
		DomainType:  in.DomainType,
		AccelReason: in.AccelReason,
		Version:     version.Version,
		Images:      in.Images,
	})
	if err != nil {
		return nil, err
	}
	return &plan{State: st, Services: servicesOf(lab), Steps: roles.Steps(lab, false), Student: lab.StudentWork()}, nil
}

// localAccel resolves accel from this machine's facts alone (plan talks to
// no libvirt); `up` resolves it again against the libvirt host.
func localAccel(want topology.Accel) (string, string) {
	host := libvirt.HostInfo{Hostname: "this machine", DomainTypes: []string{"qemu"}}
	if _, err := os.Stat("/dev/kvm"); err == nil {
		host.DomainTypes = append(host.DomainTypes, "kvm")
	}
	dt, reason, err := engine.ResolveAccel(want, host, engine.AccelProbe{Local: true})
	if err != nil {
		return "qemu", err.Error()
	}
	return dt, reason
}

// planImage resolves an image from the store, or stands in for one not
// built yet so a plan can be made before the first `labctl image build`.
func planImage(name string) (*engine.BaseImage, error) {
	bi, err := provision.StoreImage(name)
	if errors.Is(err, engine.ErrImageMissing) {
		return &engine.BaseImage{Name: name, SHA256: unbuiltSHA, Disk: "(not built yet)", DiskFormat: "qcow2",
			VirtualSize: 2 << 30, Kernel: "vmlinuz", Initrd: "initrd.img"}, nil
	}
	return bi, err
}

// unbuiltSHA stands for the digest of an image that is not built yet.
var unbuiltSHA = strings.Repeat("0", 64)

func (p *plan) writeJSON(w io.Writer) error {
	st, err := p.State.JSON()
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(struct {
		State    json.RawMessage     `json:"state"`
		Services planServices        `json:"services"`
		Steps    []roles.PlannedStep `json:"steps"`
		Student  []topology.VMRoles  `json:"student,omitempty"`
	}{st, p.Services, p.Steps, p.Student}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}
