package result

import (
	"fmt"

	"github.com/labctl/labctl/bench/fault"
	"github.com/labctl/labctl/bench/stats"
	"github.com/labctl/labctl/topology"
)

// FaultResult is one repetition of one fault scenario. Probes are stored
// in ProbesFile.
type FaultResult struct {
	fault.Outcome
	// Index is the fault's number in the experiment (1-based) and Repeat
	// the repetition (1-based); both 0 in v1 results, where every entry is
	// its own fault, run once.
	Index  int `json:"index,omitempty"`
	Repeat int `json:"repeat,omitempty"`
	// ClusterRestored: the directors' state (VIP holder, pool, scheduler)
	// was as before the fault when the observation ended; nil when the
	// cluster was not watched. ClusterRestoredSec counts from the revert.
	ClusterRestored    *bool   `json:"cluster_restored,omitempty"`
	ClusterRestoredSec float64 `json:"cluster_restored_sec,omitempty"`
	ProbesFile         string  `json:"probes_file,omitempty"`
}

// Repetition is what the statistics take from one FaultResult. Times are
// seconds; see docs/bench.md "Fault statistics".
type Repetition struct {
	Repeat int `json:"repeat"`
	// OutageSec is the fault window's outage (fault.Analysis.Outage).
	OutageSec float64 `json:"outage_sec"`
	// Failed: a probe failed after the fault took effect.
	Failed bool `json:"failed"`
	// Recovered: nothing failed, or a probe succeeded after the first
	// failure before the prober stopped. RepairSec (time to repair) is
	// the fault taking effect → that first success; 0 when nothing failed.
	Recovered bool    `json:"recovered"`
	RepairSec float64 `json:"repair_sec"`
	// ClusterRestored as in FaultResult (nil: not watched).
	ClusterRestored *bool `json:"cluster_restored,omitempty"`
	// Probes and OK count every probe of the repetition (baseline, fault,
	// revert and recovery windows).
	Probes int `json:"probes"`
	OK     int `json:"ok"`
}

// FaultStats summarises the repetitions of one fault of an experiment.
type FaultStats struct {
	Index int            `json:"index"` // 1-based, in experiment order
	Fault topology.Fault `json:"fault"`
	// Asked is the number of repetitions asked for; fewer ran when one
	// ended with the cluster not as before (the rest were skipped).
	Asked       int          `json:"asked"`
	Repetitions []Repetition `json:"repetitions"`
	// Outage summarises OutageSec over every repetition (mean, 95 % CI).
	Outage stats.Summary `json:"outage_sec"`
	// MTTR summarises RepairSec over the repetitions that failed and
	// recovered; nil when none did.
	MTTR *stats.Summary `json:"mttr_sec,omitempty"`
	// NotRecovered counts repetitions whose service never answered again,
	// NotRestored those whose cluster was not as before at the end.
	NotRecovered int `json:"not_recovered"`
	NotRestored  int `json:"not_restored"`
	// Availability is OKProbes / Probes over all repetitions.
	Availability float64 `json:"availability"`
	Probes       int     `json:"probes"`
	OKProbes     int     `json:"ok_probes"`
}

// Skipped is the number of repetitions that did not run.
func (s *FaultStats) Skipped() int { return max(0, s.Asked-len(s.Repetitions)) }

// RepetitionOf derives a Repetition from one fault result.
func RepetitionOf(f *FaultResult) Repetition {
	a := f.During
	r := Repetition{Repeat: max(f.Repeat, 1), OutageSec: a.Outage, Failed: a.FirstFailAfter != nil,
		ClusterRestored: f.ClusterRestored, Probes: len(f.Probes)}
	r.Recovered = !r.Failed || a.FirstOKAfter != nil
	if r.Failed && a.FirstOKAfter != nil {
		r.RepairSec = max(0, a.FirstOKAfter.Sub(a.FaultAt).Seconds())
	}
	for _, p := range f.Probes {
		if p.OK {
			r.OK++
		}
	}
	return r
}

// SummarizeFaults groups faults by Index (v1: by position) and summarises
// each group; asked is the repetitions asked per fault (< 1: as many as
// ran).
func SummarizeFaults(faults []FaultResult, asked int) ([]FaultStats, error) {
	var out []FaultStats
	at := map[int]int{} // Index → position in out
	for i := range faults {
		f := &faults[i]
		idx := f.Index
		if idx == 0 {
			idx = i + 1
		}
		j, ok := at[idx]
		if !ok {
			j = len(out)
			at[idx] = j
			out = append(out, FaultStats{Index: idx, Fault: f.Fault, Asked: asked})
		}
		out[j].Repetitions = append(out[j].Repetitions, RepetitionOf(f))
	}
	for i := range out {
		if err := out[i].summarize(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *FaultStats) summarize() error {
	var outage, ttr []float64
	for _, r := range s.Repetitions {
		outage = append(outage, r.OutageSec)
		if r.Failed && r.Recovered {
			ttr = append(ttr, r.RepairSec)
		}
		if !r.Recovered {
			s.NotRecovered++
		}
		if r.ClusterRestored != nil && !*r.ClusterRestored {
			s.NotRestored++
		}
		s.Probes += r.Probes
		s.OKProbes += r.OK
	}
	if s.Asked < len(s.Repetitions) {
		s.Asked = len(s.Repetitions)
	}
	name := fmt.Sprintf("fault %d %s:%s", s.Index, s.Fault.Kind, s.Fault.Target)
	var err error
	if s.Outage, err = stats.Summarize(outage, 0.95); err != nil {
		return fmt.Errorf("%s outage: %w", name, err)
	}
	if len(ttr) > 0 {
		m, err := stats.Summarize(ttr, 0.95)
		if err != nil {
			return fmt.Errorf("%s recovery: %w", name, err)
		}
		s.MTTR = &m
	}
	if s.Probes > 0 {
		s.Availability = float64(s.OKProbes) / float64(s.Probes)
	}
	return nil
}
