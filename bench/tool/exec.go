// Package tool runs the external load tools the source theses used, ab
// (ApacheBench) and siege, with the thesis parameters, and parses their
// reports into typed values.
package tool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/labctl/labctl/provision/ssh"
)

// Executor runs a command given as argv and returns what it printed. A
// command that ran but exited non-zero returns its output and an error.
type Executor interface {
	Exec(ctx context.Context, argv []string) (stdout, stderr []byte, err error)
}

// Local runs commands on this host.
type Local struct{}

// Exec implements Executor.
func (Local) Exec(ctx context.Context, argv []string) ([]byte, []byte, error) {
	if len(argv) == 0 {
		return nil, nil, errors.New("exec: empty command")
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), errb.Bytes(), fmt.Errorf("run %s: %w", argv[0], err)
	}
	return out.Bytes(), errb.Bytes(), nil
}

// Remote runs commands on a lab VM (the client VM) over SSH.
type Remote struct{ Runner ssh.Runner }

// Exec implements Executor.
func (r Remote) Exec(ctx context.Context, argv []string) ([]byte, []byte, error) {
	res, err := r.Runner.Run(ctx, ShellJoin(argv))
	if err != nil {
		return res.Stdout, res.Stderr, fmt.Errorf("run %s on %s: %w", argv[0], r.Runner.Host(), err)
	}
	return res.Stdout, res.Stderr, nil
}

// ShellJoin quotes argv for sh -c.
func ShellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,@%+") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
