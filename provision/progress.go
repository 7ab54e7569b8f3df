package provision

import (
	"os"
	"strings"
)

// Phase is where one VM is in up or down.
type Phase string

const (
	PhaseQueued   Phase = "queued"
	PhaseDelete   Phase = "deleting"
	PhaseVolumes  Phase = "volumes"
	PhaseDefine   Phase = "define"
	PhaseStart    Phase = "starting"
	PhaseBoot     Phase = "booting"    // started, waiting for SSH
	PhaseReady    Phase = "ready"      // SSH answered with the pinned key
	PhaseUpToDate Phase = "up to date" // nothing to do
	PhaseDone     Phase = "done"       // down removed it
	PhaseFailed   Phase = "failed"
)

// Progress receives live progress; implementations must be safe for
// concurrent use. The CLI renders it as bars, lines or JSON.
type Progress interface {
	// VM reports that vm entered phase (err is set with PhaseFailed).
	VM(vm string, phase Phase, err error)
	// Info reports a lab-wide step ("importing image …").
	Info(msg string)
}

type nopProgress struct{}

func (nopProgress) VM(string, Phase, error) {}
func (nopProgress) Info(string)             {}

// ConsoleTail returns the last n lines of a serial console log, or "" when
// it cannot be read (e.g. libvirt runs on another host).
func ConsoleTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	s := strings.ReplaceAll(string(b), "\r", "")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
