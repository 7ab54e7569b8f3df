package topology

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

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
			if l.opts.Copy != "" {
				l.class = b.name
				b.name += "-" + l.opts.Copy
				if err := CheckLabName(b.name); err != nil {
					l.errorf(b.labelRange(), "Invalid lab name", "copy %s: %s.", l.opts.Copy, err)
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

func (l *loader) blockFor(key string) *block {
	kind, name, _ := strings.Cut(key, ".")
	return l.decls[kind][name]
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
