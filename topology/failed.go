package topology

// Marking what failed, so that later checks stay silent about it.

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// failedMark marks the value of an object, or of one of its attributes,
// that already has an error: whatever uses it stays silent instead of
// adding follow-on errors about a list or reference that is fine.
const failedMark = "labctl-failed"

// failedVal stands for an object whose evaluation failed.
var failedVal = cty.DynamicVal.Mark(failedMark)

// failed tells whether a present attribute is unusable: it has an error
// (in its expression or from a check of its value) or its value depends on
// something that failed. Values built from it are then marked failedMark.
func (s scope) failed(name string) bool {
	a, ok := s.attrs[name]
	if !ok {
		return false
	}
	for _, d := range s.l.diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && within(*d.Subject, a.Range) {
			return true
		}
	}
	v, d := a.Expr.Value(s.ctx)
	if d.HasErrors() {
		return true
	}
	v, marks := v.UnmarkDeep()
	_, bad := marks[failedMark]
	return bad || !v.IsWhollyKnown()
}

// within reports whether r lies inside outer.
func within(r, outer hcl.Range) bool {
	return r.Filename == outer.Filename && r.Start.Byte >= outer.Start.Byte && r.End.Byte <= outer.End.Byte
}

// strVal is a string attribute's value for an object's cty value: failed
// when the attribute failed, so references to it stay silent.
func (s scope) strVal(name, v string) cty.Value {
	if s.failed(name) {
		return failedVal
	}
	return cty.StringVal(v)
}

// netsUnsure tells whether vm's NICs may be missing or without addresses
// because of an error reported elsewhere (a nic on an undeclared or failed
// network, a network without a valid cidr): a check of what it reaches
// would only repeat that error.
func (x *expander) netsUnsure(vm *VM) bool {
	if e := x.vms[vm.Name]; e == nil || e.nicsLost {
		return true
	}
	for _, n := range vm.NICs {
		if !n.Network.CIDR.IsValid() {
			return true
		}
	}
	return false
}
