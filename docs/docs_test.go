package docs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/labctl/labctl/topology"
)

// fragmentMarker, alone on the line before a ```hcl fence, marks the
// block as a fragment of a lab (see doc.go).
const fragmentMarker = "<!-- fragment -->"

// snippet is one ```hcl block of a markdown file.
type snippet struct {
	file     string // markdown file, as named in errors
	line     int    // markdown line of the fence
	fragment bool
	// src is the block's text behind as many newlines as there are lines
	// before it, so HCL positions are positions in the markdown file.
	src []byte
}

// extract returns the ```hcl blocks of md. An unclosed fence or a marker
// that is not right before a ```hcl fence is an error.
func extract(file string, md []byte) ([]snippet, error) {
	lines := strings.Split(string(md), "\n")
	var out []snippet
	var cur *snippet
	var body []string
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if cur != nil {
			if t == "```" {
				if cur.src != nil {
					cur.src = append(cur.src, strings.Join(body, "\n")+"\n"...)
					out = append(out, *cur)
				}
				cur, body = nil, nil
				continue
			}
			body = append(body, l)
			continue
		}
		if t == fragmentMarker && (i+1 >= len(lines) || !isHCLFence(lines[i+1])) {
			return nil, fmt.Errorf("%s:%d: %s is not right before a ```hcl fence", file, i+1, fragmentMarker)
		}
		if !strings.HasPrefix(t, "```") {
			continue
		}
		cur = &snippet{file: file, line: i + 1}
		if isHCLFence(l) {
			cur.fragment = i > 0 && strings.TrimSpace(lines[i-1]) == fragmentMarker
			cur.src = bytes.Repeat([]byte("\n"), i+1)
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: code fence is never closed", file, cur.line)
	}
	return out, nil
}

func isHCLFence(l string) bool {
	info, ok := strings.CutPrefix(strings.TrimSpace(l), "```")
	f := strings.Fields(info)
	return ok && len(f) > 0 && f[0] == "hcl"
}

// check loads s as a lab (a fragment inside the wrapper) and returns every
// diagnostic, warnings included: an example should not teach a warning.
func check(s snippet) hcl.Diagnostics {
	srcs := map[string][]byte{s.file: s.src}
	if s.fragment {
		w, diags := wrapperFor(s)
		if diags.HasErrors() {
			return diags
		}
		srcs[wrapperFile] = w
	}
	_, _, diags := topology.LoadSource(srcs, topology.LoadOptions{})
	return diags
}

const wrapperFile = "fragment-wrapper.hcl"

// wrapperPiece is one block a fragment may refer to without declaring it.
type wrapperPiece struct {
	key  string   // "vm.web": what a reference names
	deps []string // keys the piece itself refers to
	src  string
}

// wrapperPieces are a small NAT cluster in the shape of labs/lvs-nat-ha,
// in output order. TestWrapperIsValid loads them all together.
var wrapperPieces = []wrapperPiece{
	{key: "lab", src: `lab "docs" {}`},
	{key: "network.external", src: `network "external" {
  mode = "nat"
  cidr = "192.168.100.0/24"
}`},
	{key: "network.internal", src: `network "internal" {
  mode = "isolated"
  cidr = "10.0.10.0/24"
}`},
	{key: "template.base", src: `template "base" {
  memory = "448MiB"
  image  = "bookworm-cloud"
}`},
	{key: "vm.director", deps: []string{"template.base", "network.external", "network.internal"}, src: `vm "director" {
  count = 2
  from  = template.base
  nic "external" {
    ip      = cidrhost(network.external.cidr, 11 + count.index)
    gateway = network.external.host_ip
  }
  nic "internal" {
    ip = cidrhost(network.internal.cidr, 1 + count.index)
  }
}`},
	{key: "vm.web", deps: []string{"template.base", "network.internal"}, src: `vm "web" {
  count = 3
  from  = template.base
  nic "internal" {
    ip = cidrhost(network.internal.cidr, 110 + count.index)
  }
}`},
	{key: "vm.storage", deps: []string{"template.base", "network.internal"}, src: `vm "storage" {
  from = template.base
  nic "internal" {
    ip = cidrhost(network.internal.cidr, 100)
  }
}`},
	{key: "vm.client", deps: []string{"template.base", "network.external"}, src: `vm "client" {
  from  = template.base
  roles = ["client"]
  nic "external" {
    ip      = cidrhost(network.external.cidr, 50)
    gateway = network.external.host_ip
  }
}`},
	{key: "nfs.www", deps: []string{"vm.storage", "vm.web", "network.internal"}, src: `nfs "www" {
  server  = vm.storage
  path    = "/srv/www"
  allow   = network.internal.cidr
  clients = vm.web[*]
  mount   = "/var/www/html"
}`},
	{key: "web.site", deps: []string{"vm.web"}, src: `web "site" {
  servers = vm.web[*]
  docroot = "/var/www/html"
}`},
	{key: "lvs.www", deps: []string{"vm.director", "vm.web", "network.external", "network.internal"}, src: `lvs "www" {
  vip         = cidrhost(network.external.cidr, 200)
  gateway_vip = cidrhost(network.internal.cidr, 200)
  mode        = "nat"
  directors   = vm.director[*]
  backends    = vm.web[*]
}`},
}

// wrapperFor returns the wrapper of fragment s: the lab block and every
// piece s refers to (directly or through another piece) but does not
// declare. Nothing else is added, so a reference to a block that neither
// s nor the wrapper declares stays an error, and a block s declares is
// never shadowed by the wrapper's.
func wrapperFor(s snippet) ([]byte, hcl.Diagnostics) {
	f, diags := hclsyntax.ParseConfig(s.src, s.file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	body := f.Body.(*hclsyntax.Body)
	declared := map[string]bool{}
	for _, b := range body.Blocks {
		declared[blockKey(b)] = true
	}
	want := append([]string{"lab"}, refs(body)...)
	need := map[string]bool{}
	for len(want) > 0 {
		k := want[0]
		want = want[1:]
		if declared[k] || need[k] {
			continue
		}
		need[k] = true
		for _, p := range wrapperPieces {
			if p.key == k {
				want = append(want, p.deps...)
			}
		}
	}
	var out []string
	for _, p := range wrapperPieces {
		if need[p.key] {
			out = append(out, p.src)
		}
	}
	return []byte(strings.Join(out, "\n\n") + "\n"), nil
}

func blockKey(b *hclsyntax.Block) string {
	if len(b.Labels) == 0 || b.Type == "lab" {
		return b.Type
	}
	return b.Type + "." + b.Labels[0]
}

// refs lists the blocks body refers to: "kind.name" of every reference
// (vm.web[*], network.internal.cidr) and the network of every nic block.
func refs(body *hclsyntax.Body) []string {
	var out []string
	for _, name := range sortedKeys(body.Attributes) {
		for _, t := range hclsyntax.Variables(body.Attributes[name].Expr) {
			if len(t) < 2 {
				continue
			}
			if a, ok := t[1].(hcl.TraverseAttr); ok {
				out = append(out, t.RootName()+"."+a.Name)
			}
		}
	}
	for _, b := range body.Blocks {
		if b.Type == "nic" && len(b.Labels) == 1 {
			out = append(out, "network."+b.Labels[0])
		}
		out = append(out, refs(b.Body)...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// docFiles are the markdown files whose examples must load, relative to
// the repository root.
func docFiles(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"README.md", "docs/*.md", "labs/*/README.md"} {
		m, err := filepath.Glob(filepath.Join("..", pat))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			out = append(out, filepath.ToSlash(strings.TrimPrefix(p, ".."+string(filepath.Separator))))
		}
	}
	return out
}

// TestSnippets loads every HCL example of the documentation.
func TestSnippets(t *testing.T) {
	found := map[string]int{}
	for _, name := range docFiles(t) {
		md, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		snips, err := extract(name, md)
		if err != nil {
			t.Error(err)
			continue
		}
		found[name] = len(snips)
		for _, s := range snips {
			if diags := check(s); len(diags) > 0 {
				t.Errorf("%s:%d: example does not load (fragment=%v):\n%s", s.file, s.line, s.fragment, diags.Error())
			}
		}
	}
	// Guard against an extractor that silently finds nothing.
	for _, name := range []string{"README.md", "docs/topology.md"} {
		if found[name] == 0 {
			t.Errorf("%s: no ```hcl examples found", name)
		}
	}
}

// TestWrapperIsValid loads every wrapper piece as one lab, so an error in
// a fragment's check always comes from the fragment.
func TestWrapperIsValid(t *testing.T) {
	var all []string
	for _, p := range wrapperPieces {
		all = append(all, p.src)
	}
	_, _, diags := topology.LoadSource(map[string][]byte{wrapperFile: []byte(strings.Join(all, "\n\n"))}, topology.LoadOptions{})
	if len(diags) > 0 {
		t.Fatal(diags.Error())
	}
}

// TestSnippetsFail shows that the check catches broken examples and names
// the markdown file and line.
func TestSnippetsFail(t *testing.T) {
	for _, tc := range []struct {
		name, md, want string
	}{{
		name: "several attributes on one line",
		md:   "# Lab\n\n<!-- fragment -->\n```hcl\nnetwork \"internal\" { mode = \"isolated\"  cidr = \"10.0.10.0/24\" }\n```\n",
		want: "broken.md:5,",
	}, {
		name: "reference the wrapper does not provide",
		md:   "<!-- fragment -->\n```hcl\nweb \"site\" {\n  servers = vm.nosuch[*]\n}\n```\n",
		want: "broken.md:4,",
	}, {
		name: "unmarked fragment is checked as a complete lab",
		md:   "```hcl\nvm \"box\" {\n  from = template.base\n}\n```\n",
		want: "broken.md:1,1-1: Missing lab block",
	}, {
		name: "invalid value in a declared block",
		md:   "text\n<!-- fragment -->\n```hcl\nvm \"box\" {\n  memory = \"lots\"\n  nic \"internal\" {\n    ip = \"10.0.10.5\"\n  }\n}\n```\n",
		want: "broken.md:5,",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			snips, err := extract("broken.md", []byte(tc.md))
			if err != nil || len(snips) != 1 {
				t.Fatalf("extract: %d snippets, %v", len(snips), err)
			}
			diags := check(snips[0])
			if !diags.HasErrors() {
				t.Fatal("broken example loads")
			}
			if !strings.Contains(diags.Error(), tc.want) {
				t.Errorf("error does not name %q:\n%s", tc.want, diags.Error())
			}
		})
	}
}

func TestExtract(t *testing.T) {
	md := "```sh\nlabctl up\n```\n<!-- fragment -->\n```hcl\na = 1\n```\n\n```hcl\nb = 2\n```\n"
	snips, err := extract("x.md", []byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if len(snips) != 2 || !snips[0].fragment || snips[1].fragment || snips[0].line != 5 || snips[1].line != 9 {
		t.Fatalf("got %+v", snips)
	}
	if got := string(snips[1].src); got != strings.Repeat("\n", 9)+"b = 2\n" {
		t.Errorf("src %q", got)
	}
	for _, bad := range []string{"```hcl\na = 1\n", "<!-- fragment -->\ntext\n", "<!-- fragment -->\n```sh\nx\n```\n"} {
		if _, err := extract("x.md", []byte(bad)); err == nil || !strings.HasPrefix(err.Error(), "x.md:") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}

// A complete lab needs no marker and gets no wrapper.
func TestCompleteSnippetLoads(t *testing.T) {
	md := "Text.\n\n```hcl\nlab \"tiny\" {}\n\nnetwork \"default\" {\n  mode = \"nat\"\n  cidr = \"192.168.150.0/24\"\n}\n\nvm \"box\" {\n  nic \"default\" {\n    gateway = network.default.host_ip\n  }\n}\n```\n"
	snips, err := extract("tiny.md", []byte(md))
	if err != nil || len(snips) != 1 || snips[0].fragment {
		t.Fatalf("extract: %+v, %v", snips, err)
	}
	if diags := check(snips[0]); len(diags) > 0 {
		t.Fatal(diags.Error())
	}
}
