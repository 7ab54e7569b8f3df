// Package app holds labctl's cobra commands: one file per command, each
// built by a newXxxCmd(a *App) constructor registered in root.go.
package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/labctl/labctl/provision"
)

// IO are the streams a command writes to: data on Out, progress and errors on Err.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Std returns the process's standard streams.
func Std() IO { return IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// App is shared by every command: streams and global flags.
type App struct {
	IO      IO
	Quiet   bool
	Verbose int
	NoColor bool
	// fakes are what lifecycle commands open a lab with in tests (libvirt,
	// images, guests); zero = the real ones.
	fakes provision.OpenOptions
	// findCopies replaces selectCopies' host lookup in tests.
	findCopies copyFinder
}

// ExitError asks Run to exit with Code after printing nothing more
// (the command already reported what went wrong).
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// DiagError carries HCL diagnostics; Run prints them with source snippets.
type DiagError struct {
	Diags hcl.Diagnostics
	Files map[string]*hcl.File
}

func (e *DiagError) Error() string { return e.Diags.Error() }

// terraformVarFlags accepts Terraform's single-dash -var and -var-file
// (what HCL users type, and what the docs show) as --var and --var-file;
// pflag would read "-var" as the shorthands -v -a -r.
func terraformVarFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		for _, f := range []string{"-var", "-var-file"} {
			if a == f || strings.HasPrefix(a, f+"=") {
				a = "-" + a
				break
			}
		}
		out[i] = a
	}
	return out
}

// Run executes labctl with args and returns the process exit code.
func Run(ctx context.Context, streams IO, args []string) int {
	a := &App{IO: streams}
	root := newRootCmd(a)
	root.SetArgs(terraformVarFlags(args))
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	var diag *DiagError
	if errors.As(err, &diag) {
		a.writeDiags(diag)
		return 1
	}
	fmt.Fprintln(streams.Err, "Error:", escapeControl(err.Error()))
	return 1
}

// writeDiags prints each diagnostic as a "file:line:col: severity: summary"
// line (what editors and students look for) followed by HCL's usual source
// snippet and detail.
func (a *App) writeDiags(d *DiagError) {
	for _, diag := range d.Diags {
		var buf bytes.Buffer
		w := hcl.NewDiagnosticTextWriter(&buf, d.Files, 100, false)
		_ = w.WriteDiagnostic(diag)
		body := buf.String()
		if diag.Subject != nil {
			sev := "error"
			if diag.Severity == hcl.DiagWarning {
				sev = "warning"
			}
			r := diag.Subject
			fmt.Fprintf(a.IO.Err, "%s:%d:%d: %s: %s\n", escapeControl(r.Filename), r.Start.Line, r.Start.Column, sev, escapeControl(diag.Summary))
			// HCL's own first line repeats the summary; keep its snippet.
			if _, rest, ok := strings.Cut(strings.TrimLeft(body, "\n"), "\n"); ok {
				body = rest
			}
		}
		// Summary, detail and source snippet may quote the lab file.
		fmt.Fprint(a.IO.Err, escapeControl(body))
	}
}
