package rolestest

import (
	"crypto/sha256"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/labctl/labctl/provision/ssh"
)

// The shell basics every Fake simulates.

// batchSep ends each predicate of a batch.
const batchSep = "; } >/dev/null 2>&1; echo $?"

func ok(out string) ssh.Result { return ssh.Result{Stdout: []byte(out)} }

func exit(code int) ssh.Result { return ssh.Result{ExitCode: code} }

func boolResult(b bool) ssh.Result {
	if b {
		return ok("")
	}
	return exit(1)
}

func (f *Fake) basics() {
	f.Handle(`test -[edbfL] (\S+)`, func(f *Fake, m []string) ssh.Result { return boolResult(f.Exists(m[1])) })
	f.Handle(`mkdir -p (?:-m \S+ )?(\S+)`, func(f *Fake, m []string) ssh.Result {
		for p := m[1]; p != "/" && p != "."; p = path.Dir(p) {
			f.SetPath(p, true)
		}
		return ok("")
	})
	f.Handle(`rm -f (\S+)`, func(f *Fake, m []string) ssh.Result { f.SetPath(m[1], false); return ok("") })
	f.Handle(`ln -s (\S+) (\S+)`, func(f *Fake, m []string) ssh.Result { f.SetPath(m[2], true); return ok("") })
	f.Handle(`systemctl daemon-reload`, func(f *Fake, _ []string) ssh.Result {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.UnitsStale = false
		f.Reloads++
		return ok("")
	})
	f.Handle(`\[ "\$\(systemctl show -P NeedDaemonReload \S+\)" = yes \]`, func(f *Fake, _ []string) ssh.Result {
		f.mu.Lock()
		defer f.mu.Unlock()
		return boolResult(f.UnitsStale)
	})
	f.Handle(`(?:SYSTEMCTL_SKIP_SYSV=1 )?systemctl is-enabled --quiet (\S+)`, func(f *Fake, m []string) ssh.Result { return boolResult(f.Unit(m[1]).Enabled) })
	f.Handle(`systemctl is-active --quiet (\S+)`, func(f *Fake, m []string) ssh.Result { return boolResult(f.Unit(m[1]).Active) })
	f.Handle(`(?:SYSTEMCTL_SKIP_SYSV=1 )?systemctl enable (?:--quiet )?(?:--no-reload )?(?:--now )?(\S+)`, func(f *Fake, m []string) ssh.Result {
		f.Unit(m[1]).Enabled = true
		return ok("")
	})
	f.Handle(`systemctl (start|restart|reload|reload-or-restart) (\S+)`, func(f *Fake, m []string) ssh.Result {
		u := f.Unit(m[2])
		u.Active = true
		u.Starts++
		return ok("")
	})
	f.Handle(`sysctl -n (.+)`, func(f *Fake, m []string) ssh.Result {
		var out strings.Builder
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, k := range strings.Fields(m[1]) {
			v, found := f.Sysctl[k]
			if !found {
				v = "0"
			}
			fmt.Fprintln(&out, v)
		}
		return ok(out.String())
	})
	f.Handle(`sysctl -q -p (\S+)`, func(f *Fake, m []string) ssh.Result {
		f.mu.Lock()
		defer f.mu.Unlock()
		b, found := f.Files[m[1]]
		if !found {
			return ssh.Result{ExitCode: 255, Stderr: []byte("sysctl: cannot open \"" + m[1] + "\": No such file or directory\n")}
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, found := strings.Cut(line, "=")
			if !found || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			f.Sysctl[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
		return ok("")
	})
	// The batched hash of a stage's files (roles.sumsCmd).
	f.Handle(`for p in (.+); do if \[ ! -e "\$p" \]; then echo missing; else sha256sum < "\$p" 2>/dev/null \|\| echo unknown; fi; done`, func(f *Fake, m []string) ssh.Result {
		var out strings.Builder
		for _, p := range shellWords(m[1]) {
			f.mu.Lock()
			b, isFile := f.Files[p]
			f.mu.Unlock()
			switch {
			case isFile:
				fmt.Fprintf(&out, "%x  -\n", sha256.Sum256(b))
			case f.Exists(p):
				out.WriteString("unknown\n") // a directory, device or link
			default:
				out.WriteString("missing\n")
			}
		}
		return ok(out.String())
	})
	// Predicates run in one round trip (roles' host.tests): each one's
	// exit status on its own line.
	f.Handle(`(\{ .+; \} >/dev/null 2>&1; echo \$\?)`, func(f *Fake, m []string) ssh.Result {
		var out strings.Builder
		for _, part := range strings.Split(strings.TrimSuffix(m[1], batchSep), batchSep+"; ") {
			fmt.Fprintln(&out, f.dispatch(strings.TrimPrefix(part, "{ ")).ExitCode)
		}
		return ok(out.String())
	})
	// Commands chained with && (roles' one-round-trip actions): each part
	// runs only when the one before it succeeded.
	f.Handle(`(.+? && .+)`, func(f *Fake, m []string) ssh.Result {
		var res ssh.Result
		for _, part := range strings.Split(m[1], " && ") {
			if res = f.dispatch(part); res.ExitCode != 0 {
				return res
			}
		}
		return res
	})
	f.Handle(`command -v (\S+)`, func(*Fake, []string) ssh.Result { return ok("") })
	f.Handle(`dpkg-query -W -f='\$\{Package\} \$\{db:Status-Status\}\\n' (.+)`, func(f *Fake, m []string) ssh.Result {
		var out strings.Builder
		code := 0
		for _, p := range strings.Fields(m[1]) {
			if slices.Contains(f.Missing, p) {
				code = 1
				continue
			}
			fmt.Fprintf(&out, "%s installed\n", p)
		}
		return ssh.Result{Stdout: []byte(out.String()), ExitCode: code}
	})
}

// shellWords splits s into words the way sh does for bare, single-quoted
// and backslash-escaped text (what roles' quoting produces).
func shellWords(s string) []string {
	var out []string
	var w strings.Builder
	in, esc, word := false, false, false
	for _, r := range s {
		switch {
		case esc:
			w.WriteRune(r)
			esc = false
		case in && r == '\'':
			in = false
		case in:
			w.WriteRune(r)
		case r == '\'':
			in, word = true, true
		case r == '\\':
			esc, word = true, true
		case r == ' ':
			if word {
				out = append(out, w.String())
			}
			w.Reset()
			word = false
		default:
			w.WriteRune(r)
			word = true
		}
	}
	if word {
		out = append(out, w.String())
	}
	return out
}
