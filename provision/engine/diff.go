package engine

import (
	"fmt"
	"io"
	"sort"
)

// Action is what up does with one object.
type Action string

const (
	ActCreate   Action = "create"   // missing: create it
	ActRecreate Action = "recreate" // exists with another spec hash: delete, create
	ActDelete   Action = "delete"   // owned but no longer in the lab
	ActStart    Action = "start"    // up to date but not running
	ActImport   Action = "import"   // base image not yet in the shared pool
	ActKeep     Action = "keep"     // up to date
)

// Change is one object's action and why.
type Change struct {
	Kind    string `json:"kind"` // network | domain | image
	Name    string `json:"name"` // libvirt name (image: volume name)
	Object  string `json:"object,omitempty"`
	Action  Action `json:"action"`
	Reason  string `json:"reason,omitempty"`
	OldHash string `json:"old_hash,omitempty"`
	NewHash string `json:"new_hash,omitempty"`
}

// Changes is the difference between desired and live state.
type Changes struct {
	Items []Change `json:"changes"`
}

// Pending returns the changes that do something (everything but keep).
func (c *Changes) Pending() []Change {
	var out []Change
	for _, ch := range c.Items {
		if ch.Action != ActKeep {
			out = append(out, ch)
		}
	}
	return out
}

// Destructive reports whether applying c deletes or replaces an existing
// object (up asks before doing that).
func (c *Changes) Destructive() bool {
	for _, ch := range c.Items {
		if ch.Action == ActRecreate || ch.Action == ActDelete {
			return true
		}
	}
	return false
}

// Get returns the change for kind/name.
func (c *Changes) Get(kind, name string) (Change, bool) {
	for _, ch := range c.Items {
		if ch.Kind == kind && ch.Name == name {
			return ch, true
		}
	}
	return Change{}, false
}

// Write prints the pending changes, one per line, terraform style.
func (c *Changes) Write(w io.Writer) error {
	for _, line := range c.Lines() {
		if _, err := fmt.Fprintln(w, "  "+line); err != nil {
			return err
		}
	}
	return nil
}

// Lines renders each pending change, e.g.
// "-/+ domain  lab-web  recreate (spec changed: 5e22816c → 9a1bc0de)".
func (c *Changes) Lines() []string {
	sym := map[Action]string{ActCreate: "+", ActRecreate: "-/+", ActDelete: "-", ActStart: ">", ActImport: "+"}
	var out []string
	for _, ch := range c.Pending() {
		line := fmt.Sprintf("%-3s %-7s %-28s %s", sym[ch.Action], ch.Kind, ch.Name, ch.Action)
		reason := ch.Reason
		if ch.Action == ActRecreate && ch.OldHash != ch.NewHash && ch.OldHash != "" {
			reason += fmt.Sprintf(": %.8s → %.8s", ch.OldHash, ch.NewHash)
		}
		if reason != "" {
			line += " (" + reason + ")"
		}
		out = append(out, line)
	}
	return out
}

// Diff compares desired and live state by spec hash per object.
func Diff(s *State, l *Live) *Changes {
	c := &Changes{}
	for _, im := range s.Images {
		for _, v := range im.volumes() {
			lv, ok := l.Base[v.Name]
			switch {
			case !ok:
				c.Items = append(c.Items, Change{Kind: "image", Name: v.Name, Object: im.Name, Action: ActImport, Reason: "not in pool " + BasePool})
			case v.Size > 0 && int64(lv.Allocation)+64<<10 < v.Size:
				// An upload killed mid-way (SIGKILL; on errors and Ctrl-C
				// CreateVolume deletes it) leaves a short allocation.
				c.Items = append(c.Items, Change{Kind: "image", Name: v.Name, Object: im.Name, Action: ActImport,
					Reason: fmt.Sprintf("incomplete: %d of %d bytes", lv.Allocation, v.Size)})
			default:
				c.Items = append(c.Items, Change{Kind: "image", Name: v.Name, Object: im.Name, Action: ActKeep})
			}
		}
	}
	recreatedNets := map[string]bool{}
	wantNets := map[string]bool{}
	for _, ns := range s.Networks {
		if ns.External {
			continue
		}
		wantNets[ns.LibvirtName] = true
		ln, ok := l.Networks[ns.LibvirtName]
		ch := Change{Kind: "network", Name: ns.LibvirtName, Object: ns.Name, NewHash: ns.Hash}
		switch {
		case !ok:
			ch.Action, ch.Reason = ActCreate, "missing"
		case ln.Meta.SpecHash != ns.Hash:
			ch.Action, ch.OldHash, ch.Reason = ActRecreate, ln.Meta.SpecHash, "spec changed"
			recreatedNets[ns.LibvirtName] = true
		case !ln.Active:
			ch.Action, ch.OldHash, ch.Reason = ActRecreate, ln.Meta.SpecHash, "inactive"
			recreatedNets[ns.LibvirtName] = true
		default:
			ch.Action, ch.OldHash = ActKeep, ln.Meta.SpecHash
		}
		c.Items = append(c.Items, ch)
	}
	for _, name := range sortedKeys(l.Networks) {
		if !wantNets[name] {
			c.Items = append(c.Items, Change{Kind: "network", Name: name, Object: l.Networks[name].Meta.Object,
				Action: ActDelete, Reason: "not in the lab any more", OldHash: l.Networks[name].Meta.SpecHash})
		}
	}
	netByName := map[string]string{}
	for _, ns := range s.Networks {
		netByName[ns.Name] = ns.LibvirtName
	}
	wantDoms := map[string]bool{}
	for _, vm := range s.VMs {
		wantDoms[vm.LibvirtName] = true
		ld, ok := l.Domains[vm.LibvirtName]
		ch := Change{Kind: "domain", Name: vm.LibvirtName, Object: vm.Name, NewHash: vm.Hash}
		missing := missingVolume(vm, l)
		switch {
		case !ok:
			ch.Action, ch.Reason = ActCreate, "missing"
		case ld.Meta.SpecHash != vm.Hash:
			ch.Action, ch.OldHash, ch.Reason = ActRecreate, ld.Meta.SpecHash, "spec changed"
		case missing != "":
			ch.Action, ch.OldHash, ch.Reason = ActRecreate, ld.Meta.SpecHash, "volume "+missing+" missing"
		case recreatedOn(vm, netByName, recreatedNets) != "":
			ch.Action, ch.OldHash, ch.Reason = ActRecreate, ld.Meta.SpecHash, "network "+recreatedOn(vm, netByName, recreatedNets)+" recreated"
		case ld.State != "running":
			ch.Action, ch.OldHash, ch.Reason = ActStart, ld.Meta.SpecHash, string(ld.State)
		default:
			ch.Action, ch.OldHash = ActKeep, ld.Meta.SpecHash
		}
		c.Items = append(c.Items, ch)
	}
	for _, name := range sortedKeys(l.Domains) {
		if !wantDoms[name] {
			c.Items = append(c.Items, Change{Kind: "domain", Name: name, Object: l.Domains[name].Meta.Object,
				Action: ActDelete, Reason: "not in the lab any more", OldHash: l.Domains[name].Meta.SpecHash})
		}
	}
	order := map[string]int{"image": 0, "network": 1, "domain": 2}
	sort.SliceStable(c.Items, func(i, j int) bool {
		a, b := c.Items[i], c.Items[j]
		if order[a.Kind] != order[b.Kind] {
			return order[a.Kind] < order[b.Kind]
		}
		return a.Name < b.Name
	})
	return c
}

func missingVolume(vm *VMSpec, l *Live) string {
	for _, v := range vm.Volumes {
		if _, ok := l.Volumes[v.Name]; !ok {
			return v.Name
		}
	}
	return ""
}

func recreatedOn(vm *VMSpec, netByName map[string]string, recreated map[string]bool) string {
	for _, n := range vm.NICs {
		if recreated[netByName[n.Network]] {
			return netByName[n.Network]
		}
	}
	return ""
}
