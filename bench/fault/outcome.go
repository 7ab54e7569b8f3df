package fault

import (
	"time"

	"github.com/labctl/labctl/topology"
)

// Event is an injector call on the timeline.
type Event struct {
	Name  string    `json:"name"` // inject | revert
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Err   string    `json:"err,omitempty"`
	// Effective is when the fault itself took effect, when the injector
	// knows (after finding its target, e.g. the VIP holder): the analyses
	// count from it rather than from Start.
	Effective time.Time `json:"effective,omitempty"`
}

// At is when the event took effect: Effective, else Start.
func (e *Event) At() time.Time {
	if !e.Effective.IsZero() {
		return e.Effective
	}
	return e.Start
}

// Outcome is everything one fault scenario measured (bench/testbed runs
// the scenarios).
type Outcome struct {
	Fault  topology.Fault `json:"fault"`
	Start  time.Time      `json:"start"`
	Events []Event        `json:"events"`
	Probes []Probe        `json:"-"` // stored beside results.json (probes CSV)
	// During: from the start of Inject to the start of Revert.
	// Revert: from the start of Revert to the end (e.g. failback).
	During Analysis  `json:"fault_analysis"`
	Revert *Analysis `json:"revert_analysis,omitempty"`
}

// Analyse fills the analyses from the events and the timeline.
func (o *Outcome) Analyse() {
	var inject, revert *Event
	for i := range o.Events {
		switch o.Events[i].Name {
		case "inject":
			inject = &o.Events[i]
		case "revert":
			revert = &o.Events[i]
		}
	}
	if inject == nil {
		return
	}
	var until time.Time
	if revert != nil {
		until = revert.Start
	}
	o.During = Analyze(o.Probes, inject.At(), until, 0)
	if revert != nil {
		a := Analyze(o.Probes, revert.Start, time.Time{}, 0)
		o.Revert = &a
	}
}
