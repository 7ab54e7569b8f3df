// Package placement spreads the copies of a classroom lab over several
// libvirt hosts (Place) and finds each copy on whichever host holds it
// (Find). Everything comes from libvirt itself: node info, the domains that
// run, and labctl's ownership metadata; labctl keeps no local record and
// runs no daemon of its own.
package placement

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/labctl/labctl/provision/libvirt"
)

// Host is one libvirt host of a class.
type Host struct {
	URI        string
	Hypervisor libvirt.Hypervisor // nil when Err is set
	// Err is why the host could not be dialled: Place and Find skip it
	// with a warning.
	Err error
}

// Hosts are the dialled hosts of a class; Close closes them.
type Hosts []Host

// Close closes every connection that was made.
func (hs Hosts) Close() {
	for _, h := range hs {
		if h.Hypervisor != nil {
			h.Hypervisor.Close()
		}
	}
}

// ParseHosts splits a --hosts value ("URI,URI,…") into URIs, dropping
// repeats: a host listed twice would be counted twice.
func ParseHosts(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, u := range strings.Split(s, ",") {
		u = strings.TrimSpace(u)
		if u == "" {
			return nil, fmt.Errorf("--hosts %q: empty URI (want URI,URI,…)", s)
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, nil
}

// Dial connects to every URI at once (qemu+ssh dials take a round trip or
// more each). A host that cannot be reached keeps its error in Err.
func Dial(ctx context.Context, uris []string, connect func(ctx context.Context, uri string) (libvirt.Hypervisor, error)) Hosts {
	hs := make(Hosts, len(uris))
	var wg sync.WaitGroup
	for i, u := range uris {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hv, err := connect(ctx, u)
			hs[i] = Host{URI: u, Hypervisor: hv, Err: err}
			if err != nil {
				hs[i].Hypervisor = nil
			}
		}()
	}
	wg.Wait()
	return hs
}

// state is what one host reported: its size, domains and networks, or
// why it could not be asked.
type state struct {
	Host
	node     libvirt.NodeInfo
	domains  []libvirt.Domain
	networks []libvirt.Network
}

// survey asks every host at once for its node info, domains and networks.
// A host that fails any of them keeps the error in Err.
func survey(ctx context.Context, hosts []Host) []state {
	out := make([]state, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		out[i].Host = h
		if h.Err != nil {
			continue
		}
		if h.Hypervisor == nil {
			out[i].Err = fmt.Errorf("not connected")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &out[i]
			var err error
			if s.node, err = h.Hypervisor.NodeInfo(ctx); err != nil {
				s.Err = err
			} else if s.domains, err = h.Hypervisor.ListDomains(ctx); err != nil {
				s.Err = err
			} else if s.networks, err = h.Hypervisor.ListNetworks(ctx); err != nil {
				s.Err = err
			}
		}()
	}
	wg.Wait()
	return out
}

// unreachable is the warning for a host that was skipped: what it holds
// is not seen, so a copy there may be missed (or placed again).
func unreachable(s state) string {
	return fmt.Sprintf("host %s skipped: %v (copies it holds are not seen)", s.URI, s.Err)
}
