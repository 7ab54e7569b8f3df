package topology

import "slices"

// Lookups by name; nil when the lab has no such object.

// VM returns the VM called name.
func (l *Lab) VM(name string) *VM { return byName(l.VMs, name, func(v *VM) string { return v.Name }) }

// Network returns the network called name (its HCL label, e.g. "mgmt").
func (l *Lab) Network(name string) *Network {
	return byName(l.Networks, name, func(n *Network) string { return n.Name })
}

// Service returns the LVS service called name.
func (l *Lab) Service(name string) *LVSService {
	return byName(l.LVS, name, func(s *LVSService) string { return s.Name })
}

// Experiment returns the experiment called name.
func (l *Lab) Experiment(name string) *Experiment {
	return byName(l.Experiments, name, func(e *Experiment) string { return e.Name })
}

// HasRole reports whether r is one of the VM's roles.
func (v *VM) HasRole(r Role) bool { return slices.Contains(v.Roles, r) }

func byName[T any](list []*T, name string, nameOf func(*T) string) *T {
	if i := slices.IndexFunc(list, func(x *T) bool { return nameOf(x) == name }); i >= 0 {
		return list[i]
	}
	return nil
}
