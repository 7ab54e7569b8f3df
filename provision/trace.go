package provision

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/ssh"
)

// tracingRunner prints every guest command with how long it took (-vv):
// where provisioning spends its time under TCG is otherwise invisible.
type tracingRunner struct {
	ssh.Runner
	mu  *sync.Mutex
	out io.Writer
}

func (t tracingRunner) log(start time.Time, what string, err error) {
	what = strings.Join(strings.Fields(what), " ")
	if len(what) > 120 {
		what = what[:117] + "..."
	}
	status := "ok"
	if err != nil {
		status = "failed"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, "trace %s %s %6.3fs %s\n", t.Host(), status, time.Since(start).Seconds(), what)
}

func (t tracingRunner) Run(ctx context.Context, cmd string) (ssh.Result, error) {
	start := time.Now()
	res, err := t.Runner.Run(ctx, cmd)
	t.log(start, cmd, err)
	return res, err
}

// Exec implements ssh.Streamer when the runner underneath does.
func (t tracingRunner) Exec(ctx context.Context, cmd string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	start := time.Now()
	code, err := ssh.Stream(ctx, t.Runner, cmd, stdin, stdout, stderr)
	t.log(start, "stream "+cmd, err)
	return code, err
}

func (t tracingRunner) WriteFile(ctx context.Context, p string, data []byte, mode fs.FileMode) error {
	start := time.Now()
	err := t.Runner.WriteFile(ctx, p, data, mode)
	t.log(start, "write "+p, err)
	return err
}

func (t tracingRunner) ReadFile(ctx context.Context, p string) ([]byte, error) {
	start := time.Now()
	b, err := t.Runner.ReadFile(ctx, p)
	t.log(start, "read "+p, err)
	return b, err
}
