package image

import (
	"bufio"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// AptSource is one "deb" source of the host's apt configuration.
type AptSource struct {
	URI    string
	Suites []string
}

// Mirrors are the Debian mirrors an image is built from.
type Mirrors struct {
	Main     string // suite and suite-updates
	Security string // suite-security; "" = none
}

// Fallback mirrors when the host's apt configuration names none.
const (
	DefaultMirror         = "http://deb.debian.org/debian"
	DefaultSecurityMirror = "http://deb.debian.org/debian-security"
)

// HostMirrors reads the host's apt sources (sources.list, sources.list.d/*.list
// and deb822 *.sources) from fsys rooted at / and picks the mirror serving
// suite and the one serving suite-security. Missing entries fall back to
// deb.debian.org for Main and "" for Security.
func HostMirrors(fsys fs.FS, suite string) Mirrors {
	srcs := readAptSources(fsys)
	m := Mirrors{}
	for _, s := range srcs {
		for _, su := range s.Suites {
			if su == suite && m.Main == "" {
				m.Main = s.URI
			}
			if su == suite+"-security" && m.Security == "" {
				m.Security = s.URI
			}
		}
	}
	if m.Main == "" {
		// The host runs another release: reuse its Debian mirror host.
		for _, s := range srcs {
			if !strings.Contains(s.URI, "security") && looksDebian(s) {
				m.Main = s.URI
				break
			}
		}
	}
	if m.Main == "" {
		m.Main = DefaultMirror
	}
	return m
}

func looksDebian(s AptSource) bool {
	for _, su := range s.Suites {
		switch strings.TrimSuffix(su, "-updates") {
		case "stable", "testing", "unstable", "sid", "bullseye", "bookworm", "trixie", "forky":
			return true
		}
	}
	return false
}

// readAptSources returns every "deb" source, in apt's reading order.
func readAptSources(fsys fs.FS) []AptSource {
	var out []AptSource
	if data, err := fs.ReadFile(fsys, "etc/apt/sources.list"); err == nil {
		out = append(out, parseOneLine(string(data))...)
	}
	entries, err := fs.ReadDir(fsys, "etc/apt/sources.list.d")
	if err != nil {
		return out
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := fs.ReadFile(fsys, path.Join("etc/apt/sources.list.d", n))
		if err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(n, ".list"):
			out = append(out, parseOneLine(string(data))...)
		case strings.HasSuffix(n, ".sources"):
			out = append(out, parseDeb822(string(data))...)
		}
	}
	return out
}

// parseOneLine parses "deb [opts] URI suite comp..." lines.
func parseOneLine(text string) []AptSource {
	var out []AptSource
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "deb" {
			continue
		}
		f = f[1:]
		if strings.HasPrefix(f[0], "[") {
			for len(f) > 0 && !strings.HasSuffix(f[0], "]") {
				f = f[1:]
			}
			if len(f) > 0 {
				f = f[1:]
			}
		}
		if len(f) < 2 {
			continue
		}
		out = append(out, AptSource{URI: strings.TrimRight(f[0], "/"), Suites: []string{f[1]}})
	}
	return out
}

// parseDeb822 parses deb822 stanzas (Types/URIs/Suites/Enabled).
func parseDeb822(text string) []AptSource {
	var out []AptSource
	flush := func(st map[string]string) {
		if len(st) == 0 || strings.EqualFold(st["enabled"], "no") {
			return
		}
		if !contains(strings.Fields(st["types"]), "deb") {
			return
		}
		suites := strings.Fields(st["suites"])
		for _, u := range strings.Fields(st["uris"]) {
			out = append(out, AptSource{URI: strings.TrimRight(u, "/"), Suites: suites})
		}
	}
	st := map[string]string{}
	last := ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
			continue
		case strings.TrimSpace(line) == "":
			flush(st)
			st, last = map[string]string{}, ""
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				st[last] += " " + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			st[last] = strings.TrimSpace(v)
		}
	}
	flush(st)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
