package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/labctl/labctl/provision/libvirt"
)

// VMStatus is one row of `labctl status`.
type VMStatus struct {
	Name       string   `json:"name"`
	Domain     string   `json:"domain"`
	State      string   `json:"state"` // running, shutoff, … or "absent"
	IPs        []string `json:"ips"`
	Accel      string   `json:"accel,omitempty"` // kvm or tcg
	Started    string   `json:"started,omitempty"`
	UptimeSec  float64  `json:"uptime_seconds,omitempty"`
	UpToDate   bool     `json:"up_to_date"`
	ConsoleLog string   `json:"console_log,omitempty"`
	// Orphan marks a domain of the lab that the lab file no longer has.
	Orphan bool `json:"orphan,omitempty"`
}

// Status reports every VM of the desired state, and domains the lab owns
// that are no longer desired, as libvirt sees them now.
func Status(ctx context.Context, hv libvirt.Hypervisor, s *State, now time.Time) ([]VMStatus, error) {
	doms, err := hv.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	owned := map[string]libvirt.Domain{}
	for _, d := range doms {
		if d.Meta != nil && d.Meta.Lab == s.Lab {
			owned[d.Name] = d
		}
	}
	var out []VMStatus
	for _, vm := range s.VMs {
		st := VMStatus{Name: vm.Name, Domain: vm.LibvirtName, State: "absent", ConsoleLog: vm.ConsoleLog}
		for _, n := range vm.NICs {
			if n.IP != "" {
				st.IPs = append(st.IPs, n.IP)
			}
		}
		if d, ok := owned[vm.LibvirtName]; ok {
			fill(&st, d, now)
			st.UpToDate = d.Meta.SpecHash == vm.Hash
			delete(owned, vm.LibvirtName)
		}
		out = append(out, st)
	}
	names := make([]string, 0, len(owned))
	for n := range owned {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := owned[n]
		st := VMStatus{Name: d.Meta.Object, Domain: n, Orphan: true}
		fill(&st, d, now)
		out = append(out, st)
	}
	return out, nil
}

func fill(st *VMStatus, d libvirt.Domain, now time.Time) {
	st.State = string(d.State)
	if d.Def != nil {
		st.Accel = map[string]string{"kvm": "kvm", "qemu": "tcg"}[d.Def.Type]
	}
	if !d.Started.IsZero() {
		st.Started = d.Started.UTC().Format(time.RFC3339)
		st.UptimeSec = now.Sub(d.Started).Round(time.Second).Seconds()
	}
}

// FormatUptime renders seconds as "1h02m", "3m04s" or "12s".
func FormatUptime(sec float64) string {
	if sec <= 0 {
		return "-"
	}
	d := time.Duration(sec) * time.Second
	s := d.Round(time.Second).String()
	if d >= time.Hour {
		s = d.Round(time.Minute).String()
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}
