package roles

import (
	"fmt"
	"slices"

	"github.com/labctl/labctl/topology"
)

// Helpers that read the lab model from one VM's point of view.

// nicOn returns vm's NIC on network n.
func nicOn(vm *topology.VM, n *topology.Network) (*topology.NIC, error) {
	if n == nil {
		return nil, fmt.Errorf("VM %q: no network given", vm.Name)
	}
	for _, nic := range vm.NICs {
		if nic.Network == n || (nic.Network != nil && nic.Network.Name == n.Name) {
			if nic.Device == "" {
				return nil, fmt.Errorf("VM %q: NIC on network %q has no device name", vm.Name, n.Name)
			}
			return nic, nil
		}
	}
	return nil, fmt.Errorf("VM %q has no NIC on network %q", vm.Name, n.Name)
}

// servicesDirectedBy returns the LVS services vm directs.
func servicesDirectedBy(lab *topology.Lab, vm *topology.VM) []*topology.LVSService {
	var out []*topology.LVSService
	for _, s := range lab.LVS {
		if slices.ContainsFunc(s.Directors, func(d *topology.VM) bool { return d.Name == vm.Name }) {
			out = append(out, s)
		}
	}
	return out
}

// backendOf returns vm's backend entry in s, or nil.
func backendOf(s *topology.LVSService, vm *topology.VM) *topology.Backend {
	for _, b := range s.Backends {
		if b.VM != nil && b.VM.Name == vm.Name {
			return b
		}
	}
	return nil
}

// servicesServedBy returns the LVS services vm is a real server of.
func servicesServedBy(lab *topology.Lab, vm *topology.VM) []*topology.LVSService {
	var out []*topology.LVSService
	for _, s := range lab.LVS {
		if backendOf(s, vm) != nil {
			out = append(out, s)
		}
	}
	return out
}

func exportsServedBy(lab *topology.Lab, vm *topology.VM) []*topology.NFSExport {
	var out []*topology.NFSExport
	for _, e := range lab.NFS {
		if e.Server != nil && e.Server.Name == vm.Name {
			out = append(out, e)
		}
	}
	return out
}

func exportsMountedBy(lab *topology.Lab, vm *topology.VM) []*topology.NFSExport {
	var out []*topology.NFSExport
	for _, e := range lab.NFS {
		if slices.ContainsFunc(e.Clients, func(c *topology.VM) bool { return c.Name == vm.Name }) {
			out = append(out, e)
		}
	}
	return out
}

func sitesServedBy(lab *topology.Lab, vm *topology.VM) []*topology.WebSite {
	var out []*topology.WebSite
	for _, w := range lab.Web {
		if slices.ContainsFunc(w.Servers, func(s *topology.VM) bool { return s.Name == vm.Name }) {
			out = append(out, w)
		}
	}
	return out
}
