package topology

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// autoMark marks values that are only known after automatic address
// assignment, so a reference to them gets a precise message.
const autoMark = "labctl-auto-address"

// scope evaluates the attributes of one block in one context.
type scope struct {
	l     *loader
	attrs hcl.Attributes
	ctx   *hcl.EvalContext
	def   hcl.Range // block definition, for missing values
}

func (s scope) has(name string) bool { _, ok := s.attrs[name]; return ok }

// rng is the attribute's expression range, or the block's when absent.
func (s scope) rng(name string) hcl.Range {
	if a, ok := s.attrs[name]; ok {
		return a.Expr.Range()
	}
	return s.def
}

// val evaluates an attribute and converts it to ty; ok is false when the
// attribute is absent, null or broken (broken ones are reported).
func (s scope) val(name string, ty cty.Type) (cty.Value, bool) {
	a, ok := s.attrs[name]
	if !ok {
		return cty.NilVal, false
	}
	v, d := a.Expr.Value(s.ctx)
	s.l.diags = append(s.l.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	v, marks := v.UnmarkDeep()
	if _, failed := marks[failedMark]; failed {
		return cty.NilVal, false // reported where it failed
	}
	if !v.IsWhollyKnown() {
		if _, auto := marks[autoMark]; auto {
			s.l.errorf(a.Expr.Range(), "Value not known yet", "%s refers to an address labctl assigns automatically (a NIC without ip); give that NIC an explicit ip to refer to it.", name)
		}
		return cty.NilVal, false
	}
	if v.IsNull() {
		return cty.NilVal, false
	}
	if ty == cty.DynamicPseudoType {
		return v, true
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		s.l.errorf(a.Expr.Range(), "Incorrect attribute value type", "Inappropriate value for attribute %q: %s.", name, err)
		return cty.NilVal, false
	}
	if cv.IsNull() {
		return cty.NilVal, false
	}
	if ty.IsCollectionType() && s.nullElem(name, cv) {
		return cty.NilVal, false
	}
	return cv, true
}

// nullElem reports a null element of a list or map: converting [null] to
// list(string) succeeds, and reading that element would panic later.
func (s scope) nullElem(name string, v cty.Value) bool {
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if !e.IsNull() {
			continue
		}
		idx := k.GoString()
		switch k.Type() {
		case cty.Number:
			idx = k.AsBigFloat().Text('f', -1)
		case cty.String:
			idx = fmt.Sprintf("%q", k.AsString())
		}
		s.l.errorf(s.elemRange(name, k), "Null element", "%s must not contain null, but %s[%s] is null.", name, name, idx)
		return true
	}
	return false
}

// elemRange narrows an error to one element when the attribute is a literal
// [..] or {..}; otherwise (var.x, function calls) it is the attribute's range.
func (s scope) elemRange(name string, key cty.Value) hcl.Range {
	a, ok := s.attrs[name]
	if !ok {
		return s.def
	}
	switch x := a.Expr.(type) {
	case *hclsyntax.TupleConsExpr:
		if key.Type() == cty.Number {
			if i, acc := key.AsBigFloat().Int64(); acc == big.Exact && i >= 0 && i < int64(len(x.Exprs)) {
				return x.Exprs[i].Range()
			}
		}
	case *hclsyntax.ObjectConsExpr:
		if key.Type() == cty.String {
			for _, it := range x.Items {
				kv, d := it.KeyExpr.Value(s.ctx)
				if !d.HasErrors() && kv.Type() == cty.String && kv.IsKnown() && !kv.IsNull() && kv.AsString() == key.AsString() {
					return it.ValueExpr.Range()
				}
			}
		}
	}
	return a.Expr.Range()
}

// isNull tells whether a present attribute evaluates to a known null, for
// attributes where null must not mean "absent"; diagnostics are left to val.
func (s scope) isNull(name string) bool {
	a, ok := s.attrs[name]
	if !ok {
		return false
	}
	v, d := a.Expr.Value(s.ctx)
	if d.HasErrors() {
		return false
	}
	v, _ = v.UnmarkDeep()
	return v.IsKnown() && v.IsNull()
}

// raw evaluates an attribute whose value may contain unknown parts (object
// references whose addresses are assigned later).
func (s scope) raw(name string) (cty.Value, bool) {
	a, ok := s.attrs[name]
	if !ok {
		return cty.NilVal, false
	}
	v, d := a.Expr.Value(s.ctx)
	s.l.diags = append(s.l.diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	v, _ = v.UnmarkDeep()
	if !v.IsKnown() || v.IsNull() {
		return cty.NilVal, false
	}
	return v, true
}

// ref reads an attribute that must be one object of the given kind (vm, nfs,
// lvs, …) and returns its name.
func (s scope) ref(name, kind string) (string, bool) {
	v, ok := s.raw(name)
	if !ok {
		return "", false
	}
	if n, ok := objName(v, kind); ok {
		return n, true
	}
	if (v.Type().IsTupleType() || v.Type().IsListType()) && v.LengthInt() > 0 {
		if _, ok := objName(v.Index(cty.NumberIntVal(0)), kind); ok {
			s.l.errorf(s.rng(name), "Single "+kind+" expected", "%s takes one %s, but this is a list of %d (a fleet with count); pick one, e.g. %s[0].", name, kind, v.LengthInt(), exprText(s.attrs[name]))
			return "", false
		}
	}
	s.l.errorf(s.rng(name), "Invalid reference", "%s must refer to a %s, e.g. %s.name.", name, kind, kind)
	return "", false
}

// refs reads an attribute that yields any number of objects of one kind.
// complete is false when the attribute is absent or broken, or when some of
// its elements are objects that failed (already reported): names then holds
// the ones that are fine, and checks on the list as a whole (its length,
// who is missing from it) must be skipped.
func (s scope) refs(name, kind string) (names []string, complete bool) {
	a, ok := s.attrs[name]
	if !ok {
		return nil, false
	}
	v, d := a.Expr.Value(s.ctx)
	s.l.diags = append(s.l.diags, d...)
	if d.HasErrors() {
		return nil, false
	}
	if u, marks := v.Unmark(); !u.IsKnown() || u.IsNull() {
		return nil, false // the whole value failed, or is null
	} else if _, bad := marks[failedMark]; bad {
		return nil, false
	}
	if n, ok := objName(unmarked(v), kind); ok {
		return []string{n}, true
	}
	v, _ = v.Unmark()
	t := v.Type()
	if !(t.IsTupleType() || t.IsListType() || t.IsSetType()) {
		s.l.errorf(s.rng(name), "Invalid reference", "%s must be a list of %ss, e.g. %s.web[*] or [%s.a, %s.b].", name, kind, kind, kind, kind)
		return nil, false
	}
	out, complete := []string{}, true // non-nil: evaluated, possibly empty
	for i, e := range v.AsValueSlice() {
		e, marks := e.Unmark() // the element's own mark, not its attributes'
		if _, bad := marks[failedMark]; bad || !e.IsKnown() {
			complete = false // an object that failed; already reported
			continue
		}
		e = unmarked(e)
		if e.IsNull() {
			s.l.errorf(s.elemRange(name, cty.NumberIntVal(int64(i))), "Null element", "%s must not contain null, but %s[%d] is null.", name, name, i)
			return nil, false
		}
		n, ok := objName(e, kind)
		if !ok {
			s.l.errorf(s.rng(name), "Invalid reference", "%s must contain only %ss, e.g. %s.web[*] or [%s.a, %s.b].", name, kind, kind, kind, kind)
			return nil, false
		}
		out = append(out, n)
	}
	return out, complete
}

func unmarked(v cty.Value) cty.Value { u, _ := v.UnmarkDeep(); return u }

func objName(v cty.Value, kind string) (string, bool) {
	// A typed null (true ? null : vm.a) has the object's type but no attributes.
	if !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute("kind") || !v.Type().HasAttribute("name") {
		return "", false
	}
	k, n := v.GetAttr("kind"), v.GetAttr("name")
	if !k.IsKnown() || k.IsNull() || k.Type() != cty.String || k.AsString() != kind {
		return "", false
	}
	if !n.IsKnown() || n.IsNull() || n.Type() != cty.String {
		return "", false
	}
	return n.AsString(), true
}

func exprText(a *hcl.Attribute) string {
	if a == nil {
		return "vm.x"
	}
	if t, d := hcl.AbsTraversalForExpr(a.Expr); !d.HasErrors() && len(t) >= 2 {
		if at, ok := t[1].(hcl.TraverseAttr); ok {
			return t.RootName() + "." + at.Name
		}
	}
	return "vm.x"
}
