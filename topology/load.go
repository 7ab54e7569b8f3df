package topology

import (
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

// LoadOptions tunes Load and LoadSource.
type LoadOptions struct {
	// Vars are -var k=v overrides; a value is parsed as an HCL expression
	// when it evaluates on its own (3, true, ["a"]) and is a string otherwise.
	Vars map[string]string
	// VarFiles are -var-file paths: HCL files of attributes name = value.
	VarFiles []string
	// ImageCaps, when set, returns which disk buses and NIC models the named
	// image's kernel can drive; ok=false means the image is unknown and the
	// check is skipped with a warning.
	ImageCaps func(image string) (buses, nicModels []string, ok bool)
	// Instance, when set, runs a copy of the lab: its name becomes
	// "<lab>-<instance>" (an owner's name from --owner), so every libvirt
	// object, bridge and the state directory differ from other copies.
	Instance string
	// Copy, when set, loads one copy of a classroom lab: its name becomes
	// "<lab>-<copy>" (after Instance), Lab.Class/Copy are set, and its
	// networks are closed (see Lab.closeForCopy) so every copy keeps the
	// lab's own addresses without clashing on the host.
	Copy string
	// AvoidCIDRs are address ranges in use outside the lab (other libvirt
	// networks, host routes): a derived management network skips them.
	AvoidCIDRs []netip.Prefix
	// ManagementCIDR, when valid, is the derived management network to keep
	// (the one the lab's existing network has), unless it overlaps the lab.
	ManagementCIDR netip.Prefix
}

// Load reads a lab from a directory (all *.hcl files in it, sorted) or from
// one file. files maps file name to parsed file so callers can render
// diagnostics with snippets (hcl.NewDiagnosticTextWriter). lab is nil when
// diags.HasErrors().
func Load(path string, opts LoadOptions) (*Lab, map[string]*hcl.File, hcl.Diagnostics) {
	names, err := labFiles(path)
	if err != nil {
		return nil, map[string]*hcl.File{}, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read lab",
			Detail:   err.Error(),
		}}
	}
	srcs := make(map[string][]byte, len(names))
	var diags hcl.Diagnostics
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read lab file", Detail: err.Error()})
			continue
		}
		srcs[n] = b
	}
	if diags.HasErrors() {
		return nil, map[string]*hcl.File{}, diags
	}
	return LoadSource(srcs, opts)
}

// labFiles lists the HCL files of a lab path.
func labFiles(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("lab %q: %w", path, err)
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	names, err := filepath.Glob(filepath.Join(path, "*.hcl"))
	if err != nil {
		return nil, fmt.Errorf("lab %q: %w", path, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("lab directory %q has no *.hcl files", path)
	}
	sort.Strings(names)
	return names, nil
}

// ResolvePath applies the default lab location: "" means ./lab.hcl if it
// exists, else the current directory.
func ResolvePath(arg string) (string, error) {
	if arg != "" {
		if _, err := os.Stat(arg); err != nil {
			return "", fmt.Errorf("lab %q: %w", arg, err)
		}
		return arg, nil
	}
	if _, err := os.Stat("lab.hcl"); err == nil {
		return "lab.hcl", nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("lab.hcl: %w", err)
	}
	return ".", nil
}

// LoadSource is Load for in-memory sources (file name → content).
func LoadSource(srcs map[string][]byte, opts LoadOptions) (*Lab, map[string]*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	names := slices.Sorted(maps.Keys(srcs))
	var diags hcl.Diagnostics
	var files []*hcl.File
	for _, n := range names {
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(n, ".json") {
			f, d = p.ParseJSON(srcs[n], n)
		} else {
			f, d = p.ParseHCL(srcs[n], n)
		}
		diags = append(diags, d...)
		if f != nil {
			limitBody(f)
			files = append(files, f)
		}
	}
	addSyntaxHints(diags, srcs)
	if len(names) == 0 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No lab files", Detail: "The lab has no HCL files."})
	}
	var varFiles []*hcl.File
	for _, vf := range opts.VarFiles {
		b, err := os.ReadFile(vf)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read variable file", Detail: err.Error()})
			continue
		}
		var f *hcl.File
		var d hcl.Diagnostics
		if strings.HasSuffix(vf, ".json") {
			f, d = p.ParseJSON(b, vf)
		} else {
			f, d = p.ParseHCL(b, vf)
		}
		diags = append(diags, d...)
		if f != nil {
			varFiles = append(varFiles, f)
		}
	}
	var lab *Lab
	if !diags.HasErrors() {
		l := newLoader(opts, names)
		lab = l.run(files, varFiles)
		diags = append(diags, l.diags...)
	}
	diags = dedupDiags(renameLimitDiags(diags))
	sortDiags(diags)
	if diags.HasErrors() {
		lab = nil
	}
	return lab, p.Files(), diags
}

// sortDiags orders diagnostics by file, then position; ones without a
// subject go last. The sort is stable so equal positions keep their order.
func sortDiags(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a != nil && b == nil
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		default:
			return a.Start.Column < b.Start.Column
		}
	})
}

// dedupDiags drops repeats, e.g. an error in a template reported once per
// VM that inherits it.
func dedupDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	out := diags[:0]
	for _, d := range diags {
		key := d.Summary + "\x00" + d.Detail
		if d.Subject != nil {
			key += "\x00" + d.Subject.String()
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	return out
}
