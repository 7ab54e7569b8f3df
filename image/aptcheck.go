package image

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// debNameRE is Debian policy's package name syntax.
var debNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// UnknownPackagesError names packages apt cannot install.
type UnknownPackagesError struct {
	Packages []string
	Suite    string
}

func (e *UnknownPackagesError) Error() string {
	return fmt.Sprintf("unknown package(s) for %s: %s (not in the host's apt lists; check the spelling, or run `apt-get update` if the lists are stale)",
		e.Suite, strings.Join(e.Packages, ", "))
}

// hostHasSuite reports whether the host's apt sources include suite, so
// the host's package lists can vouch for package names.
func hostHasSuite(fsys fs.FS, suite string) bool {
	for _, s := range readAptSources(fsys) {
		if contains(s.Suites, suite) {
			return true
		}
	}
	return false
}

// checkPackages asks the host's apt-cache for a candidate of every package.
func checkPackages(ctx context.Context, r Runner, suite string, pkgs []string) error {
	out, err := r.Run(ctx, "apt-cache", append([]string{"policy"}, pkgs...)...)
	if err != nil {
		return fmt.Errorf("check package names: %w", err)
	}
	candidates := parsePolicy(string(out))
	var missing []string
	for _, p := range pkgs {
		if c, ok := candidates[p]; !ok || c == "" || c == "(none)" {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return &UnknownPackagesError{Packages: missing, Suite: suite}
	}
	return nil
}

// parsePolicy maps package name to candidate version from `apt-cache policy`.
func parsePolicy(out string) map[string]string {
	res := map[string]string{}
	cur := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && line[0] != ' ' && strings.HasSuffix(line, ":") {
			cur = strings.TrimSuffix(line, ":")
			res[cur] = ""
			continue
		}
		if cur != "" {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Candidate:"); ok {
				res[cur] = strings.TrimSpace(v)
			}
		}
	}
	return res
}
