package app

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/labctl/labctl/provision/engine"
	"github.com/vbauerster/mpb/v8"
)

func TestProgressPlainLines(t *testing.T) {
	var buf bytes.Buffer
	a := &App{IO: IO{Err: &buf}}
	p := a.newProgress(false)
	p.VM("web-1", engine.PhaseQueued, nil)
	p.Info("creating network lab-ext")
	p.VM("web-1", engine.PhaseFailed, errors.New("start domain: boom\ndetails"))
	p.Stop()
	out := buf.String()
	for _, want := range []string{"web-1            queued", "creating network lab-ext", "failed", "start domain: boom"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "details") {
		t.Errorf("plain progress printed more than the first error line:\n%s", out)
	}
}

func TestProgressBarsFinish(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, start: time.Now(), bars: map[string]*mpb.Bar{},
		phases: map[string]engine.Phase{}, since: map[string]time.Time{}}
	p.p = mpb.New(mpb.WithOutput(&buf), mpb.WithRefreshRate(5*time.Millisecond), mpb.WithAutoRefresh())
	done := make(chan struct{})
	go func() {
		for _, ph := range []engine.Phase{engine.PhaseQueued, engine.PhaseStart, engine.PhaseBoot} {
			p.VM("a", ph, nil)
			p.VM("b", ph, nil)
			time.Sleep(10 * time.Millisecond)
		}
		p.VM("a", engine.PhaseReady, nil)
		p.Info("configuring guests")
		p.Stop() // b never finished: Stop completes it
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("progress bars deadlocked")
	}
	if !strings.Contains(buf.String(), "ready") || !strings.Contains(buf.String(), "booting") {
		t.Errorf("bars did not render the phases:\n%q", buf.String())
	}
}
