package topology

import (
	"fmt"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// block is a decoded block: its attributes and nested blocks.
type block struct {
	kind   string
	name   string
	hcl    *hcl.Block
	attrs  hcl.Attributes
	blocks []*block
}

func (b *block) defRange() hcl.Range { return b.hcl.DefRange }

func (b *block) labelRange() hcl.Range {
	if len(b.hcl.LabelRanges) > 0 {
		return b.hcl.LabelRanges[0]
	}
	return b.hcl.DefRange
}

// spec is a vm or template after `from` inheritance is applied.
type spec struct {
	attrs hcl.Attributes
	nics  []*block
	disks []*block
	raid  *block
}

// loader holds the state of one Load call.
type loader struct {
	opts      LoadOptions
	fileNames []string
	diags     hcl.Diagnostics
	funcs     map[string]function.Function

	lab        *block
	vars       map[string]*block
	varVals    map[string]cty.Value
	locals     map[string]*hcl.Attribute
	decls      map[string]map[string]*block // kind → name → block
	specs      map[string]*spec             // "vm.x"/"template.x" → resolved spec
	values     map[string]cty.Value         // node key → value
	nodeFailed map[string]bool
	fromIdx    []fromIndex

	ev evaluated
}

// fromIndex is a `from = vm.x[i]`; i is checked against the fleet's size
// once counts are evaluated (count may use variables and locals).
type fromIndex struct {
	vm    string
	index int64
	rng   hcl.Range
}

func newLoader(opts LoadOptions, names []string) *loader {
	b := &budget{}
	funcs := map[string]function.Function{forFunc: b.limitFunction(true), partFunc: b.limitFunction(false)}
	for name, f := range functions() {
		funcs[name] = b.bounded(name, f)
	}
	return &loader{
		opts:       opts,
		fileNames:  names,
		funcs:      funcs,
		vars:       map[string]*block{},
		varVals:    map[string]cty.Value{},
		locals:     map[string]*hcl.Attribute{},
		decls:      map[string]map[string]*block{},
		specs:      map[string]*spec{},
		values:     map[string]cty.Value{},
		nodeFailed: map[string]bool{},
	}
}

func (l *loader) errorf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: &r})
}

func (l *loader) warnf(rng hcl.Range, summary, format string, args ...any) {
	r := rng
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: &r})
}

// run loads, evaluates, expands and validates; the result is meaningful
// only when l.diags has no errors.
func (l *loader) run(files, varFiles []*hcl.File) *Lab {
	for _, f := range files {
		l.collect(f)
	}
	if l.lab == nil {
		rng := hcl.Range{Filename: firstOr(l.fileNames), Start: hcl.InitialPos, End: hcl.InitialPos}
		l.errorf(rng, "Missing lab block", "A lab needs exactly one block lab \"<name>\" { … }.")
		return nil
	}
	l.evalVars(varFiles)
	l.resolveSpecs()
	order := l.graph()
	l.evaluate(order)
	l.checkFromIndexes()
	// Expand even after errors so cross-object problems are reported in
	// the same run; the result is discarded when there are errors.
	return l.expand()
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

var (
	labNameRe  = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	hostNameRe = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	identRe    = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
)

// collect decodes one file's top level into declarations.
func (l *loader) collect(f *hcl.File) {
	content, d := f.Body.Content(topSchema)
	l.diags = append(l.diags, d...)
	if content == nil {
		return
	}
	for _, hb := range content.Blocks {
		switch hb.Type {
		case "locals":
			as, d := hb.Body.JustAttributes()
			l.diags = append(l.diags, d...)
			for _, name := range slices.Sorted(maps.Keys(as)) {
				a := as[name]
				if prev, ok := l.locals[name]; ok {
					l.errorf(a.NameRange, "Duplicate local value", "local.%s was already defined at %s.", name, prev.NameRange)
					continue
				}
				l.locals[name] = a
			}
			continue
		}
		b := l.decode(hb, hb.Type)
		if b == nil {
			continue
		}
		switch hb.Type {
		case "lab":
			if l.lab != nil {
				l.errorf(hb.DefRange, "Duplicate lab block", "A lab has exactly one lab block; the first is at %s.", l.lab.defRange())
				continue
			}
			if err := CheckLabName(b.name); err != nil {
				l.errorf(b.labelRange(), "Invalid lab name", "%s.", err)
			} else if l.opts.Instance != "" {
				b.name += "-" + l.opts.Instance
				if err := CheckLabName(b.name); err != nil {
					l.errorf(b.labelRange(), "Invalid lab name", "with --owner %s: %s.", l.opts.Instance, err)
				}
			}
			l.lab = b
		case "variable":
			if prev, ok := l.vars[b.name]; ok {
				l.errorf(b.labelRange(), "Duplicate variable", "variable %q was already declared at %s.", b.name, prev.defRange())
				continue
			}
			l.vars[b.name] = b
		default:
			l.checkName(b)
			m := l.decls[b.kind]
			if m == nil {
				m = map[string]*block{}
				l.decls[b.kind] = m
			}
			if prev, ok := m[b.name]; ok {
				l.errorf(b.labelRange(), "Duplicate "+b.kind, "%s %q was already declared at %s.", b.kind, b.name, prev.defRange())
				continue
			}
			m[b.name] = b
		}
	}
}

// checkName enforces the label charset of a named block.
func (l *loader) checkName(b *block) {
	switch b.kind {
	case "vm", "network":
		if !hostNameRe.MatchString(b.name) || len(b.name) > 50 {
			l.errorf(b.labelRange(), "Invalid "+b.kind+" name", "Name %q must start with a letter and use only a-z, 0-9 and '-' (it becomes a hostname / libvirt name), at most 50 characters.", b.name)
		}
		if b.kind == "network" && slices.Contains(reservedNets, b.name) {
			l.errorf(b.labelRange(), "Reserved network name", "Network name %q is reserved for labctl's management network; choose another name.", b.name)
		}
	default:
		if !identRe.MatchString(b.name) {
			l.errorf(b.labelRange(), "Invalid "+b.kind+" name", "Name %q must start with a letter and use only a-z, 0-9, '_' and '-'.", b.name)
		}
	}
}

// decode applies the block's schema recursively.
func (l *loader) decode(hb *hcl.Block, kind string) *block {
	schema := schemas[kind]
	if kind == "template" {
		schema = schemas["vm"]
	}
	content, d := hb.Body.Content(schema)
	explainForeign(kind, d)
	l.diags = append(l.diags, d...)
	if content == nil {
		return nil
	}
	b := &block{kind: kind, hcl: hb, attrs: content.Attributes}
	if len(hb.Labels) > 0 {
		b.name = hb.Labels[0]
	}
	for _, nb := range content.Blocks {
		if sb := l.decode(nb, nb.Type); sb != nil {
			b.blocks = append(b.blocks, sb)
		}
	}
	return b
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

func (l *loader) checkDupLabels(bs []*block, what, why string) {
	seen := map[string]*block{}
	for _, b := range bs {
		if p, ok := seen[b.name]; ok {
			l.errorf(b.labelRange(), "Duplicate "+what+" block", "%s %q is already declared at %s; %s.", what, b.name, p.defRange(), why)
			continue
		}
		seen[b.name] = b
	}
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

func (l *loader) blockFor(key string) *block {
	kind, name, _ := strings.Cut(key, ".")
	return l.decls[kind][name]
}

// didYouMean returns ` Did you mean "x"?` for the closest candidate.
func didYouMean[T ~string](given string, candidates []T) string {
	best, bestD := "", 4
	for _, c := range candidates {
		if d := levenshtein.Distance(given, string(c), nil); d < bestD {
			best, bestD = string(c), d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

// CheckLabName reports whether name can name a lab: it prefixes every
// libvirt object and names the lab's state directory, so commands that
// take a bare name (down --name) check it too.
func CheckLabName(name string) error {
	if !labNameRe.MatchString(name) || len(name) > 40 {
		return fmt.Errorf("lab name %q must be 1–40 characters of a-z, 0-9 and '-', not starting or ending with '-'; it prefixes every libvirt object", name)
	}
	return nil
}
