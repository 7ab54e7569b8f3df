package testbed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/labctl/labctl/provision/ssh"
	"github.com/labctl/labctl/topology"
)

// Watching a director with one SSH session (and one sudo) per look costs
// its vCPU a good part of a second per look under TCG, at two looks a
// second: the watcher then starves the cluster it measures. So Watch runs
// one command per director that prints a look every interval, and reads
// the looks as they come.

// lookEnd ends each look in watchCmd's output.
const lookEnd = "@@END"

// streamLife bounds one watchCmd: if its session dies unnoticed on the
// guest (sudo keeps a pty), the loop still ends; Watch starts it again.
const streamLife = time.Minute

// watchCmd prints lookCmd's output, then lookEnd, every interval, for
// about streamLife.
func watchCmd(interval time.Duration) string {
	n := max(1, int(streamLife/interval))
	return fmt.Sprintf("i=0; while [ $i -lt %d ]; do %s; echo %s || exit; i=$((i+1)); sleep %.2f; done", n, lookCmd, lookEnd, interval.Seconds())
}

// streamWatch watches director i with watchCmd until ctx ends, starting
// it again whenever it stops (its time is up, the director lost power,
// its connection was replaced). It returns false at once when the
// director's runner cannot stream (the unit tests' fakes): Watch then
// polls.
func (o *Observer) streamWatch(ctx context.Context, i int, d *topology.VM, interval time.Duration, tl *Timeline) bool {
	for ctx.Err() == nil {
		pending := time.Now() // the look asked for and not answered yet
		tl.add(event{director: i, at: pending})
		r, err := o.Hosts.Runner(d.Name)
		if err == nil {
			w := &lookWriter{look: func(out string) {
				now := time.Now()
				v := o.viewOf(out, pending, now.Sub(pending))
				tl.add(event{director: i, at: now, view: &v})
				pending = now
				tl.add(event{director: i, at: now})
			}}
			var code int
			code, err = ssh.Stream(ctx, r, watchCmd(interval), nil, w, io.Discard)
			if errors.Is(err, ssh.ErrNoStream) {
				return false
			}
			if err == nil && code != 0 {
				err = fmt.Errorf("watch exited %d", code)
			}
		}
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			// No answer, as a look that failed: the director counts as
			// unreachable at once, not only after Patience.
			tl.add(event{director: i, at: time.Now(), view: &view{at: pending, took: time.Since(pending)}})
			if sleep(ctx, interval) != nil {
				break
			}
		}
	}
	return true
}

// lookWriter cuts a stream into looks at lookEnd lines.
type lookWriter struct {
	buf  bytes.Buffer
	look func(out string)
}

func (w *lookWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		b := w.buf.Bytes()
		i := bytes.Index(b, []byte(lookEnd+"\n"))
		if i < 0 {
			return len(p), nil
		}
		w.look(string(b[:i]))
		w.buf.Next(i + len(lookEnd) + 1)
	}
}
