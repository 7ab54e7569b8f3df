package topology

import (
	"fmt"
	"slices"
)

// Expansion of experiment blocks: the client VM, schedulers and fault targets.

func (x *expander) experiment(e *expEval) {
	xp := e.e
	svc := x.lab.Service(e.service)
	if svc == nil {
		return // already reported
	}
	if e.client != "" {
		if c, ok := x.vms[e.client]; ok {
			xp.Client = c.vm
			x.roles[c.vm.Name][RoleClient] = true
			if svc.VIPNetwork != nil && userNIC(c.vm, svc.VIPNetwork) == nil && !sharesRoutedNet(c.vm) && !x.netsUnsure(c.vm) {
				x.l.errorf(e.s.rng("client"), "Client cannot reach the VIP", "client %q has no NIC on network %q where the VIP %s lives.", c.vm.Name, svc.VIPNetwork.Name, svc.VIP)
			}
		}
	}
	for _, n := range xp.RealServers {
		if n > len(svc.Backends) && x.l.ev.lvs[svc.Name].backsOK {
			x.l.errorf(e.s.rng("real_servers"), "Too many real servers", "real_servers asks for %d, but lvs %q has %d backends.", n, svc.Name, len(svc.Backends))
		}
	}
	if len(xp.RealServers) == 0 {
		xp.RealServers = []int{len(svc.Backends)}
	}
	if len(xp.Schedulers) == 0 {
		xp.Schedulers = []Scheduler{svc.Scheduler}
	}
	for _, f := range e.faults {
		t, ok := x.vms[f.target]
		if !ok {
			continue
		}
		f.f.Target = t.vm.Name
		if msg := x.faultTargetProblem(f.f.Kind, t.vm, svc); msg != "" && !x.incomplete {
			x.l.errorf(f.s.rng("target"), "Invalid fault target", "%s", msg)
		}
		xp.Faults = append(xp.Faults, f.f)
	}
	x.lab.Experiments = append(x.lab.Experiments, xp)
}

func sharesRoutedNet(vm *VM) bool {
	for _, n := range vm.NICs {
		if n.Network.Mode == NetNAT || n.Network.Mode == NetRouted {
			return true
		}
	}
	return false
}

func (x *expander) faultTargetProblem(kind FaultKind, vm *VM, svc *LVSService) string {
	return faultProblem(kind, vm, svc, func(r Role) bool { return x.roles[vm.Name][r] })
}

// FaultProblem says why a fault of kind cannot target vm in an experiment
// on svc ("" = it can), for faults given outside the lab file.
func FaultProblem(kind FaultKind, vm *VM, svc *LVSService) string {
	return faultProblem(kind, vm, svc, vm.HasRole)
}

func faultProblem(kind FaultKind, vm *VM, svc *LVSService, has func(Role) bool) string {
	if st := kind.Stack(); st != "" && st != svc.Stack {
		return fmt.Sprintf("fault %s needs directors running %s, but lvs %q runs %s.", kind, st, svc.Name, svc.Stack)
	}
	switch {
	case kind.ActiveDirectorFault():
		if !slices.Contains(svc.Directors, vm) {
			return fmt.Sprintf("fault %s needs a director of lvs %q; %q is not one.", kind, svc.Name, vm.Name)
		}
	}
	switch kind {
	case StopWeb:
		if !has(RoleWeb) {
			return fmt.Sprintf("fault stop_web needs a web server; %q serves no web block.", vm.Name)
		}
	case FailRAIDMember:
		if vm.RAID == nil {
			return fmt.Sprintf("fault fail_raid_member needs a VM with a raid block; %q has none.", vm.Name)
		}
	case StopNFS:
		if !has(RoleNFSServer) {
			return fmt.Sprintf("fault stop_nfs needs an NFS server; %q serves no nfs block.", vm.Name)
		}
	}
	return ""
}
