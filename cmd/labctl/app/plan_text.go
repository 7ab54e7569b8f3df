package app

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/labctl/labctl/topology"
)

func (p *plan) writeText(w io.Writer) error {
	s := p.State
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 2, 8, 2, ' ', 0)
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
			gw := ""
			if n.Gateway != "" {
				gw = "gateway " + n.Gateway
			}
			fmt.Fprintf(tw, "      %s\t%s\t%s\t%s\t%s\t%s\n", n.Device, n.Network, ip, n.MAC, n.Model, gw)
		}
	}

	writeServices(tw, p.Services)

	fmt.Fprintf(tw, "\nGuest role steps, in order:\n")
	for i, st := range p.Steps {
		writes := ""
		if len(st.Writes) > 0 {
			writes = "→ " + strings.Join(st.Writes, ", ")
		}
		fmt.Fprintf(tw, "  %d.\t%s\t%s\t%s\t%s\n", i+1, st.VM, st.Role, st.Step, writes)
	}
	if len(p.Steps) == 0 {
		fmt.Fprintf(tw, "  (none)\n")
	}
	if len(p.Student) > 0 {
		fmt.Fprintf(tw, "\nLeft to the student (the exercise; only their packages are checked):\n")
		for _, v := range p.Student {
			for _, r := range v.Roles {
				fmt.Fprintf(tw, "  %s\t%s\n", v.VM, r)
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// An empty last column leaves the padding of the one before it.
	for line := range strings.Lines(buf.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
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

// writeServices prints the services section: one block per service with
// aligned "key  value" lines.
func writeServices(tw io.Writer, s planServices) {
	fmt.Fprintf(tw, "\nLVS services:\n")
	for _, l := range s.LVS {
		fmt.Fprintf(tw, "  + %s  VIP %s port %d/%s on %s, mode %s, scheduler %s\n", l.Name, l.VIP, l.Port, l.Protocol, l.VIPNetwork, l.Mode, l.Scheduler)
		if l.GatewayVIP != "" {
			fmt.Fprintf(tw, "      gateway VIP\t%s on %s (the real servers' default gateway)\n", l.GatewayVIP, l.GatewayNetwork)
		}
		persist := "none"
		if p := l.Persistence; p != nil {
			persist = fmt.Sprintf("%ds", p.TimeoutSec)
			if p.Netmask != "" {
				persist += ", netmask " + p.Netmask
			}
		}
		fmt.Fprintf(tw, "      persistence\t%s\n", persist)
		h := l.HealthCheck
		probe := h.Type + " connect"
		if h.Type == "http" {
			probe = fmt.Sprintf("http GET %s expects %d", h.Path, h.Status)
		}
		fmt.Fprintf(tw, "      health check\t%s, every %ds, timeout %ds, %d retries\n", probe, h.IntervalSec, h.TimeoutSec, h.Retries)
		if l.SorryServer != "" {
			fmt.Fprintf(tw, "      sorry server\t%s\n", l.SorryServer)
		}
		dirs := slices.Clone(l.Directors)
		if l.Stack == string(topology.StackPacemaker) {
			fmt.Fprintf(tw, "      director stack\tCorosync + Pacemaker + ldirectord\n")
			if len(dirs) > 0 {
				dirs[0] += " (preferred node)"
			}
		} else {
			fmt.Fprintf(tw, "      VRRP router id\t%d\n", l.RouterID)
			if len(dirs) > 0 {
				dirs[0] += " (starts as MASTER)"
			}
		}
		fmt.Fprintf(tw, "      directors\t%s\n", strings.Join(dirs, ", "))
		for _, b := range l.Backends {
			fmt.Fprintf(tw, "      backend\t%s\t%s\tweight %d\n", b.VM, b.IP, b.Weight)
		}
	}
	none(tw, len(s.LVS))

	fmt.Fprintf(tw, "\nNFS exports:\n")
	for _, n := range s.NFS {
		fmt.Fprintf(tw, "  + %s  %s:%s, server address %s\n", n.Name, n.Server, n.Path, n.ServerIP)
		fmt.Fprintf(tw, "      allow\t%s\n", n.Allow)
		fmt.Fprintf(tw, "      options\t%s\n", strings.Join(n.Options, ","))
		fmt.Fprintf(tw, "      clients\t%s\n", orNone(strings.Join(n.Clients, ", ")))
		fmt.Fprintf(tw, "      mount\t%s (%s)\n", n.Mount, strings.Join(n.MountOptions, ","))
	}
	none(tw, len(s.NFS))

	fmt.Fprintf(tw, "\nWeb sites:\n")
	for _, w := range s.Web {
		fmt.Fprintf(tw, "  + %s  on %s\n", w.Name, strings.Join(w.Servers, ", "))
		fmt.Fprintf(tw, "      docroot\t%s\n", w.Docroot)
		content := "local to each server"
		if w.Content != "" {
			content = "NFS export " + w.Content
		}
		fmt.Fprintf(tw, "      content\t%s\n", content)
		fmt.Fprintf(tw, "      health path\t%s\n", orNone(w.HealthPath))
	}
	none(tw, len(s.Web))

	fmt.Fprintf(tw, "\nExperiments (labctl bench):\n")
	for _, e := range s.Experiments {
		from := "VM " + e.Client
		if e.Client == "" {
			from = "no client VM (labctl bench needs client = vm.NAME)"
		}
		fmt.Fprintf(tw, "  + %s  on LVS service %s, load from %s\n", e.Name, e.Service, from)
		fmt.Fprintf(tw, "      load\t%s\n", load(e))
		fmt.Fprintf(tw, "      variations\treal servers %s; schedulers %s\n", ints(e.RealServers), strings.Join(e.Schedulers, ", "))
		for _, f := range e.Faults {
			fmt.Fprintf(tw, "      fault\t%s %s after %s\n", f.Kind, f.Target, seconds(f.AfterSec))
		}
		if len(e.Faults) == 0 {
			fmt.Fprintf(tw, "      fault\tnone\n")
		}
	}
	none(tw, len(s.Experiments))
}

// load describes an experiment's load per point.
func load(e planExperiment) string {
	var per string
	switch {
	case e.Requests > 0:
		per = fmt.Sprintf("%d requests", e.Requests)
	case e.RateRPS > 0:
		per = fmt.Sprintf("%s req/s (open loop) for %s", strconv.FormatFloat(e.RateRPS, 'f', -1, 64), seconds(e.DurationSec))
	default:
		per = seconds(e.DurationSec)
	}
	return fmt.Sprintf("%s, concurrency %d, %s per point, repeat %d", e.Tool, e.Concurrency, per, e.Repeat)
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

func none(w io.Writer, n int) {
	if n == 0 {
		fmt.Fprintf(w, "  (none)\n")
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
