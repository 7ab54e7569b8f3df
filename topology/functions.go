package topology

import (
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the function table shared by every evaluation.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"cidrhost":    cidrHostFunc,
		"cidrsubnet":  cidrSubnetFunc,
		"cidrnetmask": cidrNetmaskFunc,
		"format":      stdlib.FormatFunc,
		"formatlist":  stdlib.FormatListFunc,
		"range":       stdlib.RangeFunc, // cty caps it at 1024 elements
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
