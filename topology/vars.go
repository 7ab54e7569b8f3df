package topology

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"maps"
	"slices"
)

// evalVars computes every input variable: -var, then -var-file, then default.
func (l *loader) evalVars(varFiles []*hcl.File) {
	given := map[string]cty.Value{}
	givenRng := map[string]hcl.Range{}
	for _, f := range varFiles {
		as, d := f.Body.JustAttributes()
		l.diags = append(l.diags, d...)
		for _, name := range slices.Sorted(maps.Keys(as)) {
			a := as[name]
			v, d := a.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			if d.HasErrors() {
				continue
			}
			if _, ok := l.vars[name]; !ok {
				l.errorf(a.NameRange, "Value for undeclared variable", "The lab declares no variable %q.%s", name, didYouMean(name, slices.Sorted(maps.Keys(l.vars))))
				continue
			}
			given[name], givenRng[name] = v, a.Expr.Range()
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.opts.Vars)) {
		if _, ok := l.vars[name]; !ok {
			l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: "-var " + name + ": the lab declares no variable " + quoteList([]string{name}) + "." + didYouMean(name, slices.Sorted(maps.Keys(l.vars)))})
			continue
		}
		given[name] = parseVarValue(l.opts.Vars[name])
		delete(givenRng, name)
	}
	for _, name := range slices.Sorted(maps.Keys(l.vars)) {
		b := l.vars[name]
		ty := cty.DynamicPseudoType
		if a, ok := b.attrs["type"]; ok {
			t, d := typeexpr.TypeConstraint(a.Expr)
			l.diags = append(l.diags, d...)
			if !d.HasErrors() {
				ty = t
			}
		}
		v, ok := given[name]
		rng := b.defRange()
		if r, has := givenRng[name]; has {
			rng = r
		}
		if !ok {
			a, has := b.attrs["default"]
			if !has {
				l.errorf(b.defRange(), "No value for required variable", "variable %q has no default; pass -var %s=… or put it in a -var-file.", name, name)
				l.varVals[name] = cty.DynamicVal
				continue
			}
			dv, d := a.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			if d.HasErrors() {
				l.varVals[name] = cty.DynamicVal
				continue
			}
			v, rng = dv, a.Expr.Range()
		}
		cv, err := convert.Convert(v, ty)
		if err != nil {
			l.errorf(rng, "Invalid value for variable", "variable %q: %s.", name, err)
			cv = cty.DynamicVal
		}
		l.varVals[name] = cv
	}
}

// parseVarValue reads a -var value like Terraform: an HCL expression when it
// evaluates on its own, a plain string otherwise.
func parseVarValue(s string) cty.Value {
	expr, d := hclsyntax.ParseExpression([]byte(s), "-var", hcl.InitialPos)
	if d.HasErrors() {
		return cty.StringVal(s)
	}
	v, d := expr.Value(nil)
	if d.HasErrors() || !v.IsWhollyKnown() {
		return cty.StringVal(s)
	}
	return v
}
