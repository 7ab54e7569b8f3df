package engine

// Phase is where one VM is in up or down.
type Phase string

const (
	PhaseQueued   Phase = "queued"
	PhaseDelete   Phase = "deleting"
	PhaseVolumes  Phase = "volumes"
	PhaseDefine   Phase = "define"
	PhaseStart    Phase = "starting"
	PhaseAdmit    Phase = "waiting"    // defined, waiting for a boot slot
	PhaseBoot     Phase = "booting"    // started, waiting for SSH
	PhaseRestart  Phase = "restarting" // stuck boot: destroyed, started again
	PhaseRestore  Phase = "restoring"  // a clone: from its source's snapshot
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
