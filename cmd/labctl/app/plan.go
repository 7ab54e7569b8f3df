package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/labctl/labctl/internal/version"
	"github.com/labctl/labctl/provision"
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
file, data and RAID member disks, cloud-init seeds), domains, and the guest role
steps in the order they run. The same lab always gives a byte-identical plan.`,
		Example: `  labctl plan labs/lvs-nat-ha
  labctl plan labs/lvs-nat-ha --output json | jq '.state.vms[].name'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			lab, err := a.load(argOrEmpty(args), f)
			if err != nil {
				return err
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
	return cmd
}

// planInputs are what a plan needs besides the lab; tests fix them so
// golden files do not depend on the machine.
type planInputs struct {
	Images      func(name string) (*provision.BaseImage, error)
	DomainType  string
	AccelReason string
}

// plan is the desired libvirt state plus the guest role steps.
type plan struct {
	State *provision.State    `json:"state"`
	Steps []roles.PlannedStep `json:"steps"`
}

func makePlan(lab *topology.Lab, in planInputs) (*plan, error) {
	st, err := provision.Desired(lab, provision.Options{
		URI:         lab.URI,
		DomainType:  in.DomainType,
		AccelReason: in.AccelReason,
		Version:     version.Version,
		Images:      in.Images,
	})
	if err != nil {
		return nil, err
	}
	return &plan{State: st, Steps: roles.Steps(lab)}, nil
}

// localAccel resolves accel from this machine's facts alone (plan talks to
// no libvirt); `up` resolves it again against the libvirt host.
func localAccel(want topology.Accel) (string, string) {
	host := libvirt.HostInfo{Hostname: "this machine", DomainTypes: []string{"qemu"}}
	if _, err := os.Stat("/dev/kvm"); err == nil {
		host.DomainTypes = append(host.DomainTypes, "kvm")
	}
	dt, reason, err := provision.ResolveAccel(want, host, provision.AccelProbe{Local: true})
	if err != nil {
		return "qemu", err.Error()
	}
	return dt, reason
}

// planImage resolves an image from the store, or stands in for one not
// built yet so a plan can be made before the first `labctl image build`.
func planImage(name string) (*provision.BaseImage, error) {
	bi, err := storeImage(name)
	if errors.Is(err, provision.ErrImageMissing) {
		return &provision.BaseImage{Name: name, SHA256: unbuiltSHA, Disk: "(not built yet)", DiskFormat: "qcow2",
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
		State json.RawMessage     `json:"state"`
		Steps []roles.PlannedStep `json:"steps"`
	}{st, p.Steps}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

func (p *plan) writeText(w io.Writer) error {
	s := p.State
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "Lab %s on %s, domain type %s (%s)\n", s.Lab, s.URI, s.DomainType, s.AccelReason)

	fmt.Fprintf(tw, "\nStorage pools:\n")
	for _, pl := range s.Pools {
		note := "lab"
		if pl.Shared {
			note = "shared, kept by down"
		}
		fmt.Fprintf(tw, "  + %s\t%s\t(%s)\n", pl.Name, pl.Path, note)
	}

	fmt.Fprintf(tw, "\nBase images (shared, read-only):\n")
	for _, im := range s.Images {
		fmt.Fprintf(tw, "  + %s/%s\tfrom image %s\tboot %s\tsha256 %s\n", im.Disk.Pool, im.Disk.Name, im.Name, im.Boot, short(im.SHA256))
	}

	fmt.Fprintf(tw, "\nNetworks:\n")
	for _, n := range s.Networks {
		verb := "+"
		if n.External {
			verb = "="
		}
		opts := []string{"dhcp " + onOff(n.DHCP)}
		if n.HostIP != "" {
			opts = append(opts, "host "+n.HostIP)
		}
		if n.MTU > 0 {
			opts = append(opts, fmt.Sprintf("mtu %d", n.MTU))
		}
		if n.External {
			opts = append(opts, "existing bridge, never created or deleted")
		}
		fmt.Fprintf(tw, "  %s %s\t%s\t%s\tbridge %s\t%s\n", verb, n.LibvirtName, n.Mode, n.CIDR, n.Bridge, strings.Join(opts, ", "))
	}

	fmt.Fprintf(tw, "\nVolumes:\n")
	for _, vm := range s.VMs {
		for _, v := range vm.Volumes {
			extra := ""
			if v.Backing != "" {
				extra = "backing " + v.Backing
			}
			capacity := size(v.Capacity)
			if v.Purpose == "seed" {
				capacity = "cloud-init"
			}
			fmt.Fprintf(tw, "  + %s/%s\t%s\t%s\t%s\t%s\n", v.Pool, v.Name, v.Purpose, v.Format, capacity, extra)
		}
	}

	fmt.Fprintf(tw, "\nDomains:\n")
	for _, vm := range s.VMs {
		fmt.Fprintf(tw, "  + %s\t%d vCPU\t%d MiB\tboot %s\tssh %s\n", vm.LibvirtName, vm.VCPUs, vm.MemoryMiB, vm.Boot, vm.Address)
		for _, n := range vm.NICs {
			ip := n.IP
			if ip == "" {
				ip = "dhcp"
			}
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\n", n.Device, n.Network, ip, n.MAC, n.Model)
		}
	}

	fmt.Fprintf(tw, "\nGuest role steps, in order:\n")
	for i, st := range p.Steps {
		fmt.Fprintf(tw, "  %d.\t%s\t%s\t%s\n", i+1, st.VM, st.Role, st.Step)
	}
	if len(p.Steps) == 0 {
		fmt.Fprintf(tw, "  (none)\n")
	}
	return tw.Flush()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func short(sha string) string {
	if sha == unbuiltSHA {
		return "(image not built yet: labctl image build)"
	}
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// size prints a byte count in the largest binary unit that divides it.
func size(b uint64) string {
	for _, u := range []struct {
		n    uint64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if b >= u.n && b%u.n == 0 {
			return fmt.Sprintf("%d %s", b/u.n, u.name)
		}
	}
	return fmt.Sprintf("%d B", b)
}
