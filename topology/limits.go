package topology

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// Evaluation is bounded so that no lab file can make labctl run for minutes
// or exhaust memory: nested for expressions, templates and functions spend
// from one budget per load. A value costs elemCost per list, map or object
// element plus its string bytes; maxEvalCost keeps a load well below 200 MB.
const (
	elemCost    = 256
	maxEvalCost = 16 << 20
	// maxFormatWidth bounds a width or precision in format and formatlist
	// ("%999999999d" would allocate a gigabyte).
	maxFormatWidth = 1000
)

// forFunc and partFunc are the hidden functions wrapped around the
// collection of every for expression and every template part. Their names
// cannot be written in a lab file, so only the loader calls them.
const (
	forFunc  = "labctl for"
	partFunc = "labctl part"
)

// budget counts the cost of values built during one load.
type budget struct{ spent int64 }

// errBudget is the reason given when the budget runs out.
var errBudget = fmt.Errorf("the lab's expressions build more than %d MiB of values (each list, map or object element counts %d bytes); reduce nested for expressions, range() sizes or string repetition", maxEvalCost>>20, elemCost)

func (b *budget) spend(n int64) error {
	b.spent += n
	if b.spent > maxEvalCost {
		return errBudget
	}
	return nil
}

func (b *budget) left() int64 { return maxEvalCost - b.spent }

// cost is v's size in budget units, stopping early once it passes max.
func cost(v cty.Value, max int64) int64 {
	if v.ContainsMarked() {
		v, _ = v.UnmarkDeep()
	}
	return unmarkedCost(v, max)
}

func unmarkedCost(v cty.Value, max int64) int64 {
	if !v.IsKnown() || v.IsNull() {
		return 0
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return int64(len(v.AsString()))
	case ty.IsListType() || ty.IsSetType() || ty.IsMapType() || ty.IsTupleType() || ty.IsObjectType():
		var n int64
		for it := v.ElementIterator(); it.Next() && n <= max; {
			k, e := it.Element()
			n += elemCost + unmarkedCost(e, max-n)
			if ty.IsMapType() || ty.IsObjectType() {
				n += unmarkedCost(k, max-n)
			}
		}
		return n
	}
	return 0
}

// limitFunction counts what passes through it: the collection of a for
// expression (each element is one iteration and one result element; the
// elements themselves are shared, not copied) or one part of a template
// (its bytes are copied into the result).
func (b *budget) limitFunction(forColl bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{
			Name: "value", Type: cty.DynamicPseudoType,
			AllowUnknown: true, AllowNull: true, AllowDynamicType: true, AllowMarked: true,
		}},
		Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, _ := args[0].Unmark()
			var n int64
			switch {
			case !forColl:
				n = cost(v, b.left()+1)
			case v.IsKnown() && !v.IsNull() && v.CanIterateElements():
				n = int64(v.LengthInt()) * elemCost
			}
			if err := b.spend(n); err != nil {
				return cty.DynamicVal, err
			}
			return args[0], nil
		},
	})
}

// bounded wraps a function so its estimated result must fit the budget
// before it runs, and its actual result is spent after.
func (b *budget) bounded(name string, f function.Function) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			est, err := estimate(name, args, b.left()+1)
			if err != nil {
				return cty.DynamicVal, err
			}
			if est > b.left() {
				return cty.DynamicVal, errBudget
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			if err := b.spend(cost(v, b.left()+1)); err != nil {
				return cty.DynamicVal, err
			}
			return v, nil
		},
	})
}

// maxDistinct bounds distinct's input: it compares every pair, so 8k
// elements took a minute.
const maxDistinct = 1000

// estimate bounds a function's result size from its arguments. Most
// functions build at most what they are given; join, replace, format and
// formatlist can multiply it.
func estimate(name string, args []cty.Value, max int64) (int64, error) {
	var sum int64
	for _, a := range args {
		sum += cost(a, max)
	}
	str := func(i int) string {
		if i >= len(args) || !args[i].IsKnown() || args[i].IsNull() || args[i].Type() != cty.String {
			return ""
		}
		s, _ := args[i].Unmark()
		return s.AsString()
	}
	switch name {
	case "join":
		var n int64
		for _, a := range args[1:] {
			if a.IsKnown() && !a.IsNull() && a.CanIterateElements() {
				n += int64(a.LengthInt())
			}
		}
		return sum + n*int64(len(str(0))), nil
	case "replace":
		s, sub, repl := str(0), str(1), str(2)
		n := strings.Count(s, sub) + 1
		if len(sub) > 1 && sub[0] == '/' && sub[len(sub)-1] == '/' {
			n = len(s) + 1 // a regular expression may match anywhere
		}
		return sum + int64(n)*int64(len(repl)), nil
	case "split": // split(separator, string): one element per piece
		sep, in := str(0), str(1)
		n := int64(strings.Count(in, sep)) + 1
		if sep == "" {
			n = int64(len(in)) + 1
		}
		return sum + n*elemCost, nil
	case "distinct": // quadratic in its input: bound the input itself
		if len(args) == 1 && args[0].IsKnown() && !args[0].IsNull() && args[0].CanIterateElements() && args[0].LengthInt() > maxDistinct {
			return 0, fmt.Errorf("distinct takes at most %d elements (got %d): it compares every pair", maxDistinct, args[0].LengthInt())
		}
		return sum, nil
	case "format", "formatlist":
		w, err := formatWidths(str(0))
		if err != nil {
			return 0, err
		}
		n := int64(1)
		if name == "formatlist" {
			for _, a := range args[1:] {
				if a.IsKnown() && !a.IsNull() && (a.Type().IsListType() || a.Type().IsTupleType()) && int64(a.LengthInt()) > n {
					n = int64(a.LengthInt())
				}
			}
		}
		return sum + n*(elemCost+int64(len(str(0)))+w+sum), nil
	}
	return sum, nil
}

// formatWidths sums the widths and precisions of a format string's verbs,
// rejecting any above maxFormatWidth.
func formatWidths(f string) (int64, error) {
	var total int64
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		j := i + 1
		for j < len(f) && strings.IndexByte("+-# 0", f[j]) >= 0 {
			j++
		}
		for j < len(f) {
			k := j
			for k < len(f) && f[k] >= '0' && f[k] <= '9' {
				k++
			}
			if k > j {
				n, err := strconv.ParseInt(f[j:k], 10, 64)
				if err != nil || n > maxFormatWidth {
					return 0, fmt.Errorf("width or precision %s in the format string is larger than %d", f[j:k], maxFormatWidth)
				}
				total += n
			}
			if k < len(f) && f[k] == '.' {
				j = k + 1
				continue
			}
			i = k
			break
		}
	}
	return total, nil
}

// limitBody wraps, in place, the collection of every for expression and
// every template part of a parsed file with limitFunc. Variable blocks and
// variable files are evaluated without functions and are left alone.
func limitBody(f *hcl.File) {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return // JSON: its templates are parsed only while evaluating
	}
	var fors []*hclsyntax.ForExpr
	var tmpls []*hclsyntax.TemplateExpr
	collect := func(n hclsyntax.Node) hcl.Diagnostics {
		switch e := n.(type) {
		case *hclsyntax.ForExpr:
			fors = append(fors, e)
		case *hclsyntax.TemplateExpr:
			tmpls = append(tmpls, e)
		}
		return nil
	}
	for _, a := range body.Attributes {
		hclsyntax.VisitAll(a, collect)
	}
	for _, b := range body.Blocks {
		if b.Type != "variable" {
			hclsyntax.VisitAll(b, collect)
		}
	}
	for _, e := range fors {
		e.CollExpr = limitCall(forFunc, e.CollExpr)
	}
	for _, t := range tmpls {
		for i, p := range t.Parts {
			if _, lit := p.(*hclsyntax.LiteralValueExpr); !lit {
				t.Parts[i] = limitCall(partFunc, p)
			}
		}
	}
}

func limitCall(name string, e hclsyntax.Expression) hclsyntax.Expression {
	r := e.Range()
	return &hclsyntax.FunctionCallExpr{
		Name: name, Args: []hclsyntax.Expression{e},
		NameRange: r, OpenParenRange: r, CloseParenRange: r,
	}
}

// renameLimitDiags turns HCL's "Call to function "labctl for" failed"
// into a plain message and keeps only the first: once the budget is spent
// every later expression fails the same way.
func renameLimitDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	out := diags[:0]
	seen := false
	for _, d := range diags {
		if strings.Contains(d.Detail, errBudget.Error()) {
			if seen {
				continue
			}
			seen = true
			d.Summary = "Evaluation limit exceeded"
			// HCL would print the (huge) values the expression refers to.
			d.Expression, d.EvalContext = nil, nil
			d.Detail = strings.TrimSuffix(errBudget.Error(), ".") + "."
		}
		out = append(out, d)
	}
	return out
}
