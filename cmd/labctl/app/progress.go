package app

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// progress renders engine.Progress: one mpb line per VM with phase and
// elapsed time on a terminal, plain lines otherwise, nothing with -q.
type progress struct {
	mu     sync.Mutex
	w      io.Writer
	quiet  bool
	start  time.Time
	p      *mpb.Progress
	bars   map[string]*mpb.Bar
	phases map[string]engine.Phase
	since  map[string]time.Time
	paused bool
}

func (a *App) newProgress(asJSON bool) *progress {
	pr := &progress{w: a.IO.Err, quiet: a.Quiet, start: time.Now(), bars: map[string]*mpb.Bar{},
		phases: map[string]engine.Phase{}, since: map[string]time.Time{}}
	if f, ok := a.IO.Err.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !a.Quiet && !asJSON {
		pr.p = mpb.New(mpb.WithOutput(a.IO.Err), mpb.WithRefreshRate(250*time.Millisecond))
	}
	return pr
}

func (p *progress) VM(vm string, phase engine.Phase, err error) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	now := time.Now()
	p.phases[vm] = phase
	if p.p == nil {
		line := fmt.Sprintf("%-16s %-11s %6.1fs", vm, phase, now.Sub(p.start).Seconds())
		if err != nil {
			line += "  " + firstLine(err.Error())
		}
		fmt.Fprintln(p.w, line)
		p.mu.Unlock()
		return
	}
	bar, ok := p.bars[vm]
	if !ok {
		bar = p.p.New(1, mpb.NopStyle(), mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			p.mu.Lock()
			defer p.mu.Unlock()
			end := p.since[vm]
			if end.IsZero() {
				end = time.Now()
			}
			return fmt.Sprintf("%-16s %-11s %6.1fs", vm, p.phases[vm], end.Sub(p.start).Seconds())
		})))
		p.bars[vm] = bar
	}
	final := phase == engine.PhaseReady || phase == engine.PhaseUpToDate || phase == engine.PhaseFailed || phase == engine.PhaseDone
	if final {
		p.since[vm] = now // freezes the elapsed time shown
	}
	p.mu.Unlock()
	if final {
		bar.SetCurrent(1)
	}
}

func (p *progress) Info(msg string) {
	if p.quiet {
		return
	}
	if p.p != nil {
		fmt.Fprintln(p.p, msg) // mpb prints it above the bars
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(p.w, msg)
}

// Pause and Resume bracket a prompt; bars are finished first so the
// question is not overwritten.
func (p *progress) Pause()  { p.Stop() }
func (p *progress) Resume() {}

// Stop completes every bar and waits for the last render.
func (p *progress) Stop() {
	p.mu.Lock()
	mp := p.p
	p.p = nil
	bars := p.bars
	p.bars = map[string]*mpb.Bar{}
	p.mu.Unlock()
	if mp == nil {
		return
	}
	for _, b := range bars {
		b.SetCurrent(1)
	}
	mp.Wait()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
