package topology

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Exercise leaves some roles of a lab to the student: `up` installs every
// package and configures everything else; `labctl grade` checks the
// result by its behaviour.
type Exercise struct {
	Name string
	// Roles are the student's roles (empty: every role of VMs).
	Roles []Role
	// VMs limit Roles to these VMs (empty: every VM that has them).
	VMs []string
	// Points override the rubric's default points per check.
	Points map[GradeCheck]int
	Range  hcl.Range
}

// Withholds reports whether role r of vm is the student's work.
func (e *Exercise) Withholds(vm *VM, r Role) bool {
	if e == nil {
		return false
	}
	if len(e.VMs) > 0 && !slices.Contains(e.VMs, vm.Name) {
		return false
	}
	return len(e.Roles) == 0 || slices.Contains(e.Roles, r)
}

// StudentWork lists, per VM in lab order, the roles left to the student.
func (l *Lab) StudentWork() []VMRoles {
	var out []VMRoles
	for _, vm := range l.VMs {
		var rs []Role
		for _, r := range vm.Roles {
			if l.Exercise.Withholds(vm, r) {
				rs = append(rs, r)
			}
		}
		if len(rs) > 0 {
			out = append(out, VMRoles{VM: vm.Name, Roles: rs})
		}
	}
	return out
}

// VMRoles is some roles of one VM.
type VMRoles struct {
	VM    string `json:"vm"`
	Roles []Role `json:"roles"`
}

type exerciseEval struct {
	x   *Exercise
	vms []string
	s   scope
}

func (l *loader) evalExercise(b *block, ctx *hcl.EvalContext) {
	if prev := l.ev.exercise; prev != nil {
		l.errorf(b.labelRange(), "Duplicate exercise", "A lab has at most one exercise; %q is already declared at %s.", prev.x.Name, prev.x.Range)
		return
	}
	s := scope{l: l, attrs: b.attrs, ctx: ctx, def: b.defRange()}
	x := &Exercise{Name: b.name, Range: b.defRange()}
	e := &exerciseEval{x: x, s: s}
	if roles, ok := s.strList("roles"); ok {
		if len(roles) == 0 {
			l.errorf(s.rng("roles"), "Empty list", "roles is empty; omit it to leave every role of the exercise's vms to the student.")
		}
		for _, r := range roles {
			if !slices.Contains(RoleOrder, Role(r)) {
				l.errorf(s.rng("roles"), "Unknown role", "role %q is not one of %s.%s", r, quoteList(RoleOrder), didYouMean(r, RoleOrder))
				continue
			}
			x.Roles = append(x.Roles, Role(r))
		}
	}
	if s.has("vms") {
		var complete bool
		e.vms, complete = s.refs("vms", "vm")
		if complete && len(e.vms) == 0 {
			l.errorf(s.rng("vms"), "Empty list", "vms is empty; omit it to leave the exercise's roles on every VM to the student.")
		}
	}
	if !s.has("roles") && !s.has("vms") {
		l.errorf(b.defRange(), "Empty exercise", "exercise %q leaves nothing to the student: add roles = [\"lvs_director\", …] (the student's roles), vms = [vm.name, …] (every role of those VMs), or both.", b.name)
	}
	if v, ok := s.val("points", cty.Map(cty.Number)); ok {
		x.Points = map[GradeCheck]int{}
		for _, k := range slices.Sorted(maps.Keys(v.AsValueMap())) {
			if !slices.Contains(GradeChecks, GradeCheck(k)) {
				l.errorf(s.elemRange("points", cty.StringVal(k)), "Unknown grade check", "points has %q, which is not one of %s.%s", k, quoteList(GradeChecks), didYouMean(k, GradeChecks))
				continue
			}
			if n, ok := s.toInt("points", v.Index(cty.StringVal(k)), 0, 1000); ok {
				x.Points[GradeCheck(k)] = n
			}
		}
	}
	l.ev.exercise = e
}

// exercise resolves the exercise's VMs and refuses one that withholds a
// role another configured role needs: labctl would then fail configuring
// it (a mount of an export nobody serves), or hang on it.
func (x *expander) exercise() {
	e := x.l.ev.exercise
	if e == nil {
		return
	}
	for _, name := range e.vms {
		if v, ok := x.vms[name]; ok {
			e.x.VMs = append(e.x.VMs, v.vm.Name)
		}
	}
	x.lab.Exercise = e.x
	if x.incomplete {
		return
	}
	if len(x.lab.StudentWork()) == 0 && !x.l.diags.HasErrors() {
		x.l.errorf(e.x.Range, "Empty exercise", "exercise %q leaves nothing to the student: no VM has its roles (on its vms, when given).", e.x.Name)
		return
	}
	var problems []string
	for _, vm := range x.lab.VMs {
		for _, r := range vm.Roles {
			if e.x.Withholds(vm, r) {
				continue
			}
			for _, need := range x.lab.needs(vm, r) {
				if e.x.Withholds(need.vm, need.role) {
					problems = append(problems, fmt.Sprintf("%s on %s needs %s on %s", r, vm.Name, need.role, need.vm.Name))
				}
			}
		}
	}
	if len(problems) > 0 {
		x.l.errorf(e.s.rng("roles"), "Exercise withholds a needed role",
			"labctl cannot configure a role whose prerequisite is the student's: %s. Leave the dependent roles to the student too, or configure the prerequisite.", strings.Join(problems, "; "))
	}
}

type roleOn struct {
	vm   *VM
	role Role
}

// needs lists the roles that must be configured before role r of vm can be:
// an NFS mount needs its server, an export on a RAID the array. (A site
// served from NFS does not need its mount: Apache serves the local
// directory until the student mounts the export over it.)
func (l *Lab) needs(vm *VM, r Role) []roleOn {
	var out []roleOn
	switch r {
	case RoleNFSClient:
		for _, n := range l.NFS {
			if n.Server != nil && slices.ContainsFunc(n.Clients, func(c *VM) bool { return c.Name == vm.Name }) {
				out = append(out, roleOn{n.Server, RoleNFSServer})
			}
		}
	case RoleNFSServer:
		if vm.RAID != nil && vm.HasRole(RoleRAID) {
			out = append(out, roleOn{vm, RoleRAID})
		}
	}
	return out
}
