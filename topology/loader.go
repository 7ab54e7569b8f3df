package topology

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The loader: the state of one Load call and its phases (collect, vars,
// from, graph, evaluate, expand).

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

// loader holds the state of one Load call.
type loader struct {
	opts      LoadOptions
	fileNames []string
	diags     hcl.Diagnostics
	funcs     map[string]function.Function

	lab        *block
	class      string // the lab's name before the copy suffix (LoadOptions.Copy)
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
