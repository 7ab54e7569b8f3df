package topology

import (
	"fmt"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// maxRange bounds range() so a typo cannot allocate gigabytes.
const maxRange = 10000

// boundedRange wraps stdlib range with a length limit.
var boundedRange = function.New(&function.Spec{
	VarParam: &function.Parameter{Name: "params", Type: cty.Number},
	Type:     function.StaticReturnType(cty.List(cty.Number)),
	Impl: func(args []cty.Value, retType cty.Type) (cty.Value, error) {
		var start, end, step float64 = 0, 0, 1
		fs := make([]float64, len(args))
		for i, a := range args {
			fs[i], _ = a.AsBigFloat().Float64()
		}
		switch len(fs) {
		case 1:
			end = fs[0]
		case 2:
			start, end = fs[0], fs[1]
		case 3:
			start, end, step = fs[0], fs[1], fs[2]
		default:
			return cty.NilVal, fmt.Errorf("range takes 1 to 3 arguments")
		}
		if step != 0 && (end-start)/step > maxRange {
			return cty.NilVal, fmt.Errorf("range would have more than %d elements", maxRange)
		}
		return stdlib.RangeFunc.Call(args)
	},
})

// functions returns the function table shared by every evaluation.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"cidrhost":    cidrHostFunc,
		"cidrsubnet":  cidrSubnetFunc,
		"cidrnetmask": cidrNetmaskFunc,
		"format":      stdlib.FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"range":       boundedRange,
		"concat":      stdlib.ConcatFunc,
		"slice":       stdlib.SliceFunc,
		"length":      stdlib.LengthFunc,
		"lower":       stdlib.LowerFunc,
		"upper":       stdlib.UpperFunc,
		"join":        stdlib.JoinFunc,
		"split":       stdlib.SplitFunc,
		"min":         stdlib.MinFunc,
		"max":         stdlib.MaxFunc,
		"merge":       stdlib.MergeFunc,
		"element":     stdlib.ElementFunc,
		"flatten":     stdlib.FlattenFunc,
		"keys":        stdlib.KeysFunc,
		"values":      stdlib.ValuesFunc,
		"lookup":      stdlib.LookupFunc,
		"contains":    stdlib.ContainsFunc,
		"distinct":    stdlib.DistinctFunc,
		"reverse":     stdlib.ReverseListFunc,
		"replace":     stdlib.ReplaceFunc,
		"trimspace":   stdlib.TrimSpaceFunc,
		"abs":         stdlib.AbsoluteFunc,
		"ceil":        stdlib.CeilFunc,
		"floor":       stdlib.FloorFunc,
		"tostring":    stdlib.MakeToFunc(cty.String),
		"tonumber":    stdlib.MakeToFunc(cty.Number),
		"tobool":      stdlib.MakeToFunc(cty.Bool),
		"tolist":      stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":       stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	}
}
