package engine

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Stage is how far a boot got, as its serial console shows. labctl's
// images boot with "quiet systemd.show_status=auto", so the console is
// sparse: each stage is known by the few lines that still appear there.
type Stage int

const (
	StageNone      Stage = iota // nothing on the console yet
	StageKernel                 // any console output: the kernel runs
	StageInitramfs              // initramfs-tools scripts
	StageSystemd                // systemd in the root file system
	StageCloudInit              // cloud-init's local stage or labctl's first boot (seed read)
	StageNetwork                // cloud-init's network stage: interfaces up
	StageSSHD                   // systemd got to ssh.service
	StageLogin                  // the serial getty's login prompt: boot done
)

var stageNames = []string{"no console output", "kernel", "initramfs", "systemd", "cloud-init", "network up", "sshd", "login prompt"}

func (s Stage) String() string {
	if s < 0 || int(s) >= len(stageNames) {
		return fmt.Sprintf("stage %d", int(s))
	}
	return stageNames[s]
}

// stageMarkers are console substrings that prove a stage was reached
// (docs/lifecycle.md lists them with their source). Under "quiet" the
// kernel prints only warnings and initramfs-tools only its scripts'
// errors, so the early stages may be skipped on a healthy boot.
var stageMarkers = []struct {
	stage Stage
	marks []string
}{
	{StageInitramfs, []string{"Loading, please wait", "Begin: ", "/scripts/", "/init: "}},
	{StageSystemd, []string{"Welcome to ", "systemd[1]", "[  OK  ]", "[FAILED]", "[ TIME ]", "[DEPEND]", "A start job is running"}},
	{StageCloudInit, []string{"running 'init-local'", "labctl-firstboot: "}},
	{StageNetwork, []string{"running 'init' at", "Net device info"}},
	{StageSSHD, []string{"ssh.service", "OpenBSD Secure Shell", "SSH HOST KEY"}},
	{StageLogin, []string{" login: "}},
}

// failureMarks pick the console lines that report a failure; the same
// failure seen Repeats times means a boot that loops instead of
// progressing (a starved guest's units time out and restart forever).
var failureMarks = []string{"[FAILED]", "Failed to start", "Watchdog timeout", "Timed out", "timed out", "Kernel panic", "Failed with result"}

var (
	ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
	digits     = regexp.MustCompile(`[0-9]+`)
)

// BootBounds decide when a boot counts as stuck and what is done about it.
type BootBounds struct {
	// Silent: the console printed nothing for this long (before the
	// login prompt; a finished boot is quiet).
	Silent time.Duration
	// Stall: no new stage for this long while SSH does not answer. Without
	// a readable console (remote libvirt) this bounds each attempt.
	Stall time.Duration
	// Repeats: one failure line seen this many times.
	Repeats int
	// Retries: restarts (destroy + start) of a stuck guest before up fails.
	Retries int
}

// DefaultBootBounds returns the bounds for a domain type. Under TCG every
// guest instruction is emulated (a boot costs ~35 s of one host core,
// several times KVM's), and a busy host stretches it further, so the TCG
// bounds are four times KVM's.
func DefaultBootBounds(domainType string) BootBounds {
	b := BootBounds{Silent: 45 * time.Second, Stall: 75 * time.Second, Repeats: 4, Retries: 1}
	if domainType != "kvm" {
		b.Silent, b.Stall = 4*b.Silent, 4*b.Stall
	}
	return b
}

// bootWatch follows one boot attempt's console and says when it is stuck.
type bootWatch struct {
	bounds     BootBounds
	start      time.Time
	lastOutput time.Time // last time the console grew
	lastStage  time.Time // last time a new stage was reached
	stage      Stage
	readable   bool   // the console log exists here
	partial    string // an unfinished last line
	failures   map[string]int
}

func newBootWatch(b BootBounds, start time.Time) *bootWatch {
	return &bootWatch{bounds: b, start: start, lastOutput: start, lastStage: start, failures: map[string]int{}}
}

// feed adds console output seen at now; readable says whether the log
// could be read at all.
func (w *bootWatch) feed(now time.Time, out []byte, readable bool) {
	w.readable = w.readable || readable
	if len(out) == 0 {
		return
	}
	w.lastOutput = now
	w.reach(now, StageKernel)
	text := w.partial + cleanConsole(string(out))
	lines := strings.Split(text, "\n")
	w.partial = lines[len(lines)-1]
	for _, l := range lines[:len(lines)-1] {
		w.line(now, l)
	}
	// A prompt has no newline after it.
	if strings.Contains(w.partial, " login: ") || strings.HasSuffix(w.partial, " login:") {
		w.reach(now, StageLogin)
	}
}

func (w *bootWatch) line(now time.Time, l string) {
	for _, m := range stageMarkers {
		for _, mark := range m.marks {
			if strings.Contains(l, mark) {
				w.reach(now, m.stage)
			}
		}
	}
	for _, mark := range failureMarks {
		if strings.Contains(l, mark) {
			// Timestamps and counters differ between repeats.
			w.failures[strings.TrimSpace(digits.ReplaceAllString(l, "N"))]++
			break
		}
	}
}

func (w *bootWatch) reach(now time.Time, s Stage) {
	if s > w.stage {
		w.stage, w.lastStage = s, now
	}
}

// stuck returns why the boot makes no progress at now, or "".
func (w *bootWatch) stuck(now time.Time) string {
	b := w.bounds
	if b.Repeats > 0 {
		for l, n := range w.failures {
			if n >= b.Repeats {
				return fmt.Sprintf("the console repeats a failure (%d times): %s", n, l)
			}
		}
	}
	// Silence and stalls count only while the console can be read and
	// before sshd started: without a console (a remote libvirt) there is no
	// evidence of a stuck boot, so --timeout alone bounds it; once sshd
	// runs, a slow handshake or a quiet cloud-init stage is no reason to
	// destroy a guest.
	if !w.readable || w.stage >= StageSSHD {
		return ""
	}
	// Silence counts from the first console output: labctl's images boot
	// with a quiet kernel, so a slow TCG boot prints nothing for a while.
	if b.Silent > 0 && w.stage > StageNone && now.Sub(w.lastOutput) >= b.Silent {
		return fmt.Sprintf("the console has been silent for %s (at %s)", now.Sub(w.lastOutput).Round(time.Second), w.stage)
	}
	if b.Stall > 0 && now.Sub(w.lastStage) >= b.Stall {
		return fmt.Sprintf("no boot progress for %s (stuck at %s) and SSH does not answer", now.Sub(w.lastStage).Round(time.Second), w.stage)
	}
	return ""
}
