package topology

import (
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// node is one evaluation unit: its expressions and the nodes they refer to.
type node struct {
	key   string
	rng   hcl.Range
	exprs []hcl.Expression
	deps  []string
}

// nodeKeys lists every evaluation node in a stable order.
func (l *loader) nodeKeys() []string {
	keys := []string{"lab"}
	for _, n := range slices.Sorted(maps.Keys(l.locals)) {
		keys = append(keys, "local."+n)
	}
	for _, kind := range []string{"network", "template", "vm", "nfs", "web", "lvs", "experiment", "exercise"} {
		for _, n := range slices.Sorted(maps.Keys(l.decls[kind])) {
			keys = append(keys, kind+"."+n)
		}
	}
	return keys
}

func (l *loader) nodeFor(key string) *node {
	n := &node{key: key}
	switch {
	case key == "lab":
		n.rng = l.lab.defRange()
		n.exprs = attrExprs(l.lab.attrs)
	case strings.HasPrefix(key, "local."):
		a := l.locals[strings.TrimPrefix(key, "local.")]
		n.rng = a.NameRange
		n.exprs = []hcl.Expression{a.Expr}
	case strings.HasPrefix(key, "vm.") || strings.HasPrefix(key, "template."):
		b := l.blockFor(key)
		n.rng = b.defRange()
		if strings.HasPrefix(key, "template.") {
			break // templates are evaluated through the VMs that use them
		}
		s := l.specs[key]
		n.exprs = attrExprs(s.attrs)
		subs := append(append([]*block{}, s.nics...), s.disks...)
		if s.raid != nil {
			subs = append(subs, s.raid)
		}
		for _, sb := range subs {
			n.exprs = append(n.exprs, attrExprs(sb.attrs)...)
		}
	default:
		b := l.blockFor(key)
		n.rng = b.defRange()
		n.exprs = attrExprs(b.attrs)
		for _, sb := range b.blocks {
			n.exprs = append(n.exprs, attrExprs(sb.attrs)...)
		}
	}
	return n
}

// attrExprs returns the expressions of attributes in source order.
func attrExprs(as hcl.Attributes) []hcl.Expression {
	list := make([]*hcl.Attribute, 0, len(as))
	for _, a := range as {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return rangeLess(list[i].Range, list[j].Range) })
	out := make([]hcl.Expression, len(list))
	for i, a := range list {
		out[i] = a.Expr
	}
	return out
}

func rangeLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}

// refKey maps a traversal to the node it depends on, reporting bad references.
// It returns "" for references that need no node (var, count).
func (l *loader) refKey(t hcl.Traversal, from string) (string, bool) {
	root := t.RootName()
	if !slices.Contains(referRoots, root) {
		l.errorf(t.SourceRange(), "Unknown variable", "There is no variable named %q.%s", root, didYouMean(root, referRoots))
		return "", false
	}
	if len(t) < 2 {
		l.errorf(t.SourceRange(), "Invalid reference", "A reference to %q must name an object, e.g. %s.name.", root, root)
		return "", false
	}
	attr, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		l.errorf(t.SourceRange(), "Invalid reference", "Write %s.<name>, not an index, to refer to a %s.", root, root)
		return "", false
	}
	switch root {
	case "count":
		if attr.Name != "index" {
			l.errorf(t.SourceRange(), "Invalid reference", "The count object has only index (count.index).")
			return "", false
		}
		if !strings.HasPrefix(from, "vm.") || l.specs[from].attrs["count"] == nil {
			l.errorf(t.SourceRange(), "Reference to count in non-counted context", "count.index is only available in a vm block that sets count.")
			return "", false
		}
		return "", true
	case "var":
		if _, ok := l.vars[attr.Name]; !ok {
			l.errorf(t.SourceRange(), "Reference to undeclared input variable", "There is no variable %q.%s", attr.Name, didYouMean(attr.Name, slices.Sorted(maps.Keys(l.vars))))
			return "", false
		}
		return "", true
	case "local":
		if _, ok := l.locals[attr.Name]; !ok {
			l.errorf(t.SourceRange(), "Reference to undeclared local value", "There is no local value %q.%s", attr.Name, didYouMean(attr.Name, slices.Sorted(maps.Keys(l.locals))))
			return "", false
		}
	default:
		if _, ok := l.decls[root][attr.Name]; !ok {
			l.errorf(t.SourceRange(), "Reference to undeclared "+root, "There is no %s %q.%s", root, attr.Name, didYouMean(attr.Name, slices.Sorted(maps.Keys(l.decls[root]))))
			return "", false
		}
	}
	return root + "." + attr.Name, true
}

// graph builds the dependency graph, reports bad references and cycles, and
// returns the nodes in evaluation order.
func (l *loader) graph() []*node {
	nodes := map[string]*node{}
	keys := l.nodeKeys()
	for _, k := range keys {
		n := l.nodeFor(k)
		seen := map[string]bool{}
		if strings.HasPrefix(k, "network.") {
			n.deps, seen["lab"] = append(n.deps, "lab"), true
		}
		for _, e := range n.exprs {
			for _, t := range e.Variables() {
				dk, ok := l.refKey(t, k)
				if !ok {
					l.nodeFailed[k] = true
				}
				if dk != "" && !seen[dk] {
					seen[dk] = true
					n.deps = append(n.deps, dk)
				}
			}
		}
		sort.Strings(n.deps)
		nodes[k] = n
	}
	// Depth-first post-order in key order: deterministic and cycle-aware.
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var order []*node
	var stack []string
	var visit func(k string)
	visit = func(k string) {
		color[k] = grey
		stack = append(stack, k)
		for _, d := range nodes[k].deps {
			switch color[d] {
			case white:
				visit(d)
			case grey:
				i := len(stack) - 1
				for stack[i] != d {
					i--
				}
				cyc := append(append([]string{}, stack[i:]...), d)
				l.errorf(nodes[d].rng, "Cycle in references", "These objects refer to each other in a loop: %s.", strings.Join(cyc, " → "))
				for _, c := range stack[i:] {
					l.nodeFailed[c] = true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[k] = black
		order = append(order, nodes[k])
	}
	for _, k := range keys {
		if color[k] == white {
			visit(k)
		}
	}
	return order
}
