package topology

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// oneLineBlockSummary is hclsyntax's summary for `x { a = 1 b = 2 }`.
const oneLineBlockSummary = "Invalid single-argument block definition"

// addSyntaxHints appends the fix to hclsyntax's one-line block errors:
// the block rewritten with one attribute per line when that rewrite
// parses, else the rule itself.
func addSyntaxHints(diags hcl.Diagnostics, srcs map[string][]byte) {
	for _, d := range diags {
		if d.Summary == "Missing newline after argument" && d.Subject != nil {
			if fix := attrsPerLine(srcs[d.Subject.Filename], d.Subject.Start.Line); fix != "" {
				d.Detail += " In a lab file each attribute has its own line; write line " + fmt.Sprint(d.Subject.Start.Line) + " as:\n\n" + fix
			}
			continue
		}
		if d.Summary != oneLineBlockSummary || d.Subject == nil {
			continue
		}
		hint := "\n\nIn a lab file a block holds one attribute per line: put a newline after \"{\", after each attribute, and before \"}\"."
		if fix := oneAttrPerLine(srcs[d.Subject.Filename], d.Subject.Start.Line); fix != "" {
			hint += " Write it as:\n\n" + fix
		}
		d.Detail += hint
	}
}

// oneAttrPerLine rewrites the one-line block on line n (1-based) of src
// with one attribute per line; "" when the rewrite would not parse.
func oneAttrPerLine(src []byte, n int) string {
	lines := bytes.Split(src, []byte("\n"))
	if n < 1 || n > len(lines) {
		return ""
	}
	line := string(lines[n-1])
	open, end := strings.Index(line, "{"), strings.LastIndex(line, "}")
	if open < 0 || end < open {
		return ""
	}
	attrs := splitAttrs(line[open+1 : end])
	if len(attrs) < 2 {
		return ""
	}
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	var b strings.Builder
	b.WriteString(indent + strings.TrimSpace(line[:open]) + " {\n")
	for _, a := range attrs {
		b.WriteString(indent + "  " + a + "\n")
	}
	b.WriteString(indent + "}")
	fix := b.String()
	if _, d := hclsyntax.ParseConfig([]byte(fix+"\n"), "fix.hcl", hcl.InitialPos); d.HasErrors() {
		return ""
	}
	return fix
}

// attrsPerLine rewrites line n of src, several attributes, as one line
// each; "" when the rewrite would not parse.
func attrsPerLine(src []byte, n int) string {
	lines := bytes.Split(src, []byte("\n"))
	if n < 1 || n > len(lines) {
		return ""
	}
	line := string(lines[n-1])
	attrs := splitAttrs(line)
	if len(attrs) < 2 {
		return ""
	}
	indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
	fix := indent + strings.Join(attrs, "\n"+indent)
	if _, d := hclsyntax.ParseConfig([]byte(fix+"\n"), "fix.hcl", hcl.InitialPos); d.HasErrors() {
		return ""
	}
	return fix
}

// splitAttrs splits `a = 1 b = "x"` before each `name =` outside brackets.
func splitAttrs(body string) []string {
	toks, _ := hclsyntax.LexConfig([]byte(body), "", hcl.InitialPos)
	var starts []int
	depth := 0
	for i, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenTemplateSeqEnd:
			depth--
		case hclsyntax.TokenIdent:
			if depth == 0 && i+1 < len(toks) && toks[i+1].Type == hclsyntax.TokenEqual {
				starts = append(starts, t.Range.Start.Byte)
			}
		}
	}
	if len(starts) == 0 || strings.TrimSpace(body[:starts[0]]) != "" {
		return nil
	}
	var out []string
	for i, s := range starts {
		e := len(body)
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		if a := strings.TrimSpace(body[s:e]); a != "" {
			out = append(out, a)
		}
	}
	return out
}
