package ssh

import "strings"

// Quote returns s as one POSIX shell word (single-quoted).
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandLine wraps cmd so it runs under sh -c, as root when sudo is set;
// the remote login shell then only sees a fixed, quoted word.
func commandLine(cmd string, sudo bool) string {
	if sudo {
		return "sudo -n sh -c " + Quote(cmd)
	}
	return "sh -c " + Quote(cmd)
}
