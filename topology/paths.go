package topology

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode"
)

// guestPathBad lists characters a path may not contain: paths are written
// unquoted into guest files (/etc/exports, fstab, Apache <Directory>,
// keepalived.conf) and shell commands, where these split fields, start
// comments or option lists, or expand. <>|& and *?[] are included because
// Apache reads <Directory> as a glob and verify passes mount points to a shell.
const guestPathBad = "'\"`#(){},;\\$<>|&*?[]"

// urlPathRe is what a health-check URL path may use: no quoting is needed in
// Apache's Alias or keepalived's url { path … }.
var urlPathRe = regexp.MustCompile(`^/[A-Za-z0-9._~/%+=:@-]*$`)

// unsafePathChar returns the first character of v that guestPathBad,
// whitespace or control characters forbid.
func unsafePathChar(v string) (rune, bool) {
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(guestPathBad, r) {
			return r, true
		}
	}
	return 0, false
}

// guestPathError explains why v cannot be a path in a guest file, or "".
func guestPathError(name, v string) string {
	if !path.IsAbs(v) || path.Clean(v) != v || v == "/" {
		return fmt.Sprintf("%s must be a clean absolute path other than /, got %q.", name, v)
	}
	if r, bad := unsafePathChar(v); bad {
		return fmt.Sprintf("%s = %q contains %q; paths are written unquoted into guest config files, so they must not contain whitespace, control characters, quotes or any of %s.", name, v, r, badList())
	}
	return systemPathError(name, v)
}

// badList spells guestPathBad out for messages.
func badList() string { return strings.Join(strings.Split(guestPathBad, ""), " ") }

// urlPathError explains why v cannot be a health-check URL path, or "".
func urlPathError(name, v string) string {
	if urlPathRe.MatchString(v) {
		return ""
	}
	return fmt.Sprintf("%s = %q is not a plain URL path: it must start with / and use only letters, digits and . _ ~ / %% + = : @ -.", name, v)
}
