package topology

import (
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// `from` inheritance: a vm or template copies another one's attributes and blocks.

// spec is a vm or template after `from` inheritance is applied.
type spec struct {
	attrs hcl.Attributes
	nics  []*block
	disks []*block
	raid  *block
}

// fromIndex is a `from = vm.x[i]`; i is checked against the fleet's size
// once counts are evaluated (count may use variables and locals).
type fromIndex struct {
	vm    string
	index int64
	rng   hcl.Range
}

// resolveSpecs applies `from` inheritance to every vm and template.
func (l *loader) resolveSpecs() {
	for _, kind := range []string{"template", "vm"} {
		for _, name := range slices.Sorted(maps.Keys(l.decls[kind])) {
			l.resolveSpec(kind+"."+name, nil)
		}
	}
}

func (l *loader) resolveSpec(key string, stack []string) *spec {
	if s, ok := l.specs[key]; ok {
		return s
	}
	for i, k := range stack {
		if k == key {
			cyc := append(append([]string{}, stack[i:]...), key)
			b := l.blockFor(stack[i])
			l.errorf(b.attrs["from"].Expr.Range(), "Cycle in from", "The from chain loops: %s.", strings.Join(cyc, " → "))
			for _, c := range stack[i:] {
				l.specs[c] = &spec{attrs: hcl.Attributes{}}
			}
			return l.specs[key]
		}
	}
	b := l.blockFor(key)
	own := &spec{attrs: hcl.Attributes{}}
	for n, a := range b.attrs {
		own.attrs[n] = a
	}
	delete(own.attrs, "from")
	for _, sb := range b.blocks {
		switch sb.kind {
		case "nic":
			own.nics = append(own.nics, sb)
		case "disk":
			own.disks = append(own.disks, sb)
		case "raid":
			if own.raid != nil {
				l.errorf(sb.defRange(), "Duplicate raid block", "A VM has at most one raid block; the first is at %s.", own.raid.defRange())
				continue
			}
			own.raid = sb
		}
	}
	l.checkDupLabels(own.nics, "nic", "a VM has one NIC per network")
	l.checkDupLabels(own.disks, "disk", "disk names must be unique in a VM")
	if b.kind == "template" {
		if a, ok := b.attrs["count"]; ok {
			l.errorf(a.NameRange, "Unsupported argument", "count is not allowed in a template; set it on the vm that uses the template.")
			delete(own.attrs, "count")
		}
	}
	fromA, ok := b.attrs["from"]
	if !ok {
		l.specs[key] = own
		return own
	}
	parentKey, ok := l.fromTarget(fromA)
	if !ok {
		l.specs[key] = own
		return own
	}
	parent := l.resolveSpec(parentKey, append(stack, key))
	if _, done := l.specs[key]; done { // set by cycle handling
		return l.specs[key]
	}
	merged := &spec{attrs: hcl.Attributes{}, raid: parent.raid}
	for n, a := range parent.attrs {
		if n == "count" || n == "hostname" { // a clone is one VM with its own name
			continue
		}
		merged.attrs[n] = a
	}
	for n, a := range own.attrs {
		merged.attrs[n] = a
	}
	if own.raid != nil {
		merged.raid = own.raid
	}
	merged.nics = mergeByLabel(parent.nics, own.nics)
	merged.disks = mergeByLabel(parent.disks, own.disks)
	l.specs[key] = merged
	return merged
}

// mergeByLabel keeps the parent's order, replaces same-label blocks with the
// child's and appends the child's new ones.
func mergeByLabel(parent, child []*block) []*block {
	byLabel := map[string]*block{}
	for _, c := range child {
		if _, dup := byLabel[c.name]; !dup {
			byLabel[c.name] = c
		}
	}
	var out []*block
	used := map[string]bool{}
	for _, p := range parent {
		if c, ok := byLabel[p.name]; ok {
			out = append(out, c)
			used[p.name] = true
			continue
		}
		out = append(out, p)
	}
	for _, c := range child {
		if !used[c.name] {
			out = append(out, c)
			used[c.name] = true
		}
	}
	return out
}

// fromTarget resolves `from = template.x | vm.x | vm.x[i]` statically.
func (l *loader) fromTarget(a *hcl.Attribute) (string, bool) {
	t, d := hcl.AbsTraversalForExpr(a.Expr)
	if d.HasErrors() || len(t) < 2 || len(t) > 3 {
		l.errorf(a.Expr.Range(), "Invalid from", "from must be a reference such as template.base or vm.server1.")
		return "", false
	}
	root := t.RootName()
	attr, ok := t[1].(hcl.TraverseAttr)
	if !ok || (root != "template" && root != "vm") {
		l.errorf(a.Expr.Range(), "Invalid from", "from must be a reference such as template.base or vm.server1.")
		return "", false
	}
	target, ok := l.decls[root][attr.Name]
	if !ok {
		l.errorf(t.SourceRange(), "Reference to undeclared "+root, "There is no %s %q.%s", root, attr.Name, didYouMean(attr.Name, slices.Sorted(maps.Keys(l.decls[root]))))
		return "", false
	}
	if len(t) == 3 && !l.fromIndexOK(t[2], root, target) {
		return "", false
	}
	return root + "." + attr.Name, true
}

// fromIndexOK checks the [i] of from = vm.x[i] as far as it can before
// evaluation: a whole number into a vm that sets count.
func (l *loader) fromIndexOK(step hcl.Traverser, root string, target *block) bool {
	ix, ok := step.(hcl.TraverseIndex)
	if !ok {
		l.errorf(step.SourceRange(), "Invalid from", "from must be a reference such as template.base, vm.server1 or vm.web[0].")
		return false
	}
	if root != "vm" || target.attrs["count"] == nil {
		l.errorf(ix.SrcRange, "Invalid from", "%s.%s is a single %s (no count); write from = %s.%s without an index.", root, target.name, root, root, target.name)
		return false
	}
	k := ix.Key
	if !k.IsKnown() || k.IsNull() || k.Type() != cty.Number {
		l.errorf(ix.SrcRange, "Invalid from", "The index in from = vm.%s[…] must be a whole number, e.g. vm.%s[0].", target.name, target.name)
		return false
	}
	bf := k.AsBigFloat()
	i, acc := bf.Int64()
	if !bf.IsInt() || acc != big.Exact || i < 0 {
		l.errorf(ix.SrcRange, "Invalid from", "The index in from = vm.%s[…] must be a whole number from 0, got %s.", target.name, bf.Text('g', 10))
		return false
	}
	l.fromIdx = append(l.fromIdx, fromIndex{vm: target.name, index: i, rng: ix.SrcRange})
	return true
}

// checkFromIndexes reports from = vm.x[i] past the end of the evaluated
// fleet; fleets whose count failed were reported already.
func (l *loader) checkFromIndexes() {
	for _, f := range l.fromIdx {
		v := l.values["vm."+f.vm]
		if !v.IsKnown() || v.IsNull() || !v.Type().IsTupleType() {
			continue
		}
		n := int64(v.LengthInt())
		switch {
		case n == 0:
			l.errorf(f.rng, "Invalid index", "from = vm.%s[%d], but vm.%s has count = 0, so there is no VM to copy.", f.vm, f.index, f.vm)
		case f.index >= n:
			l.errorf(f.rng, "Invalid index", "from = vm.%s[%d], but vm.%s has count = %d (indexes 0 to %d).", f.vm, f.index, f.vm, n, n-1)
		}
	}
}
