package placement

import (
	"context"
	"fmt"
	"sort"

	"github.com/labctl/labctl/provision/libvirt"
)

// Copy is one copy of a class as libvirt shows it on the host that holds it.
type Copy struct {
	Name     string   `json:"copy"`     // the copy's name ("alice", "2")
	Lab      string   `json:"lab"`      // "<class>-<copy>", the prefix of its objects
	URI      string   `json:"uri"`      // the host that holds it
	Owner    string   `json:"owner"`    // from the metadata; "" on objects made before owners
	VMs      []string `json:"vms"`      // its domains' names, sorted
	Running  int      `json:"running"`  // how many of VMs run
	Networks []string `json:"networks"` // its networks' names, sorted
}

// Class is every copy of one class found on the hosts.
type Class struct {
	Name   string `json:"class"`
	Copies []Copy `json:"copies"` // sorted by name
	// Warnings name the hosts that were skipped.
	Warnings []string `json:"warnings,omitempty"`
}

// Copy returns the copy named name.
func (c *Class) Copy(name string) (Copy, bool) {
	for _, cp := range c.Copies {
		if cp.Name == name {
			return cp, true
		}
	}
	return Copy{}, false
}

// Find lists the copies of class on hosts from labctl's metadata only, so
// any command finds a copy on whichever host holds it. A copy with objects
// on two hosts is an error: no command could tell which one is meant.
func Find(ctx context.Context, hosts []Host, class string) (*Class, error) {
	return find(survey(ctx, hosts), class)
}

func find(states []state, class string) (*Class, error) {
	c := &Class{Name: class}
	byName := map[string]*Copy{}
	var order []string
	for _, s := range states {
		if s.Err != nil {
			c.Warnings = append(c.Warnings, unreachable(s))
			continue
		}
		get := func(m *libvirt.Meta) (*Copy, error) {
			cp := byName[m.Copy]
			if cp == nil {
				cp = &Copy{Name: m.Copy, Lab: m.Lab, URI: s.URI}
				byName[m.Copy] = cp
				order = append(order, m.Copy)
			}
			if cp.URI != s.URI {
				return nil, fmt.Errorf("class %q: copy %q is on two hosts, %s and %s: remove one (labctl down --connect URI)", class, m.Copy, cp.URI, s.URI)
			}
			if cp.Owner == "" {
				cp.Owner = m.Owner
			}
			return cp, nil
		}
		for _, d := range s.domains {
			if !inClass(d.Meta, class) {
				continue
			}
			cp, err := get(d.Meta)
			if err != nil {
				return nil, err
			}
			cp.VMs = append(cp.VMs, d.Name)
			if d.State == libvirt.StateRunning {
				cp.Running++
			}
		}
		for _, n := range s.networks {
			if !inClass(n.Meta, class) {
				continue
			}
			cp, err := get(n.Meta)
			if err != nil {
				return nil, err
			}
			cp.Networks = append(cp.Networks, n.Name)
		}
	}
	sort.Strings(order)
	for _, name := range order {
		cp := byName[name]
		sort.Strings(cp.VMs)
		sort.Strings(cp.Networks)
		c.Copies = append(c.Copies, *cp)
	}
	return c, nil
}

func inClass(m *libvirt.Meta, class string) bool {
	return m != nil && m.Class == class && m.Copy != ""
}
