package testbed

import (
	"slices"
	"strings"
	"time"
)

// ClusterAnalysis is what the directors did during a fault, from the
// Observer's timeline (resolution: the watch interval plus one SSH round
// trip). Durations are seconds from the start of Inject (or of Revert for
// failback).
type ClusterAnalysis struct {
	Before ClusterState `json:"before"` // last observation answered before the fault
	// VIPMoved: a director other than Before.Holder took the VIP.
	VIPMoved    bool    `json:"vip_moved"`
	VIPMovedSec float64 `json:"vip_moved_sec,omitempty"`
	NewHolder   string  `json:"new_holder,omitempty"`
	// PoolChanged: the holder's pool differed from Before.Pool.
	PoolChanged    bool     `json:"pool_changed"`
	PoolChangedSec float64  `json:"pool_changed_sec,omitempty"`
	PoolDuring     []string `json:"pool_during,omitempty"`
	// Restored: the last observation equals Before (holder, pool,
	// scheduler); RestoredSec is Revert → first of the final run of such
	// observations (failback of the VIP, real server back in the pool).
	Restored    bool    `json:"restored"`
	RestoredSec float64 `json:"restored_sec,omitempty"`
	// RAID lists the array's state changes (e.g. degraded → recovery → clean).
	RAID []Phase `json:"raid,omitempty"`
}

// Phase is a state entered at a time.
type Phase struct {
	At    time.Time `json:"at"`
	Sec   float64   `json:"sec"` // since the fault
	State string    `json:"state"`
}

// AnalyzeCluster computes a ClusterAnalysis of states (in time order) for
// a fault injected at faultAt and reverted at revertAt (zero: never).
func AnalyzeCluster(states []ClusterState, faultAt, revertAt time.Time) ClusterAnalysis {
	var a ClusterAnalysis
	haveBefore := false
	for _, s := range states {
		// Answered before the fault (At is when the answer arrived): one
		// that straddles it (slow SSH under load) may already show it.
		// Prefer a state in which every director answered: a slow one
		// would make its VIP look moved.
		if s.At.Before(faultAt) && (!haveBefore || len(s.Unreachable) == 0 || len(a.Before.Unreachable) > 0) {
			a.Before, haveBefore = s, true
		}
	}
	sec := func(t, from time.Time) float64 { return t.Sub(from).Seconds() }
	for _, s := range states {
		if !s.At.After(faultAt) || !haveBefore {
			continue
		}
		if !a.VIPMoved {
			for _, h := range strings.Split(s.Holder, ",") {
				if h != "" && h != a.Before.Holder {
					a.VIPMoved, a.VIPMovedSec, a.NewHolder = true, sec(s.At, faultAt), s.Holder
					break
				}
			}
		}
		if !a.PoolChanged && s.Holder != "" && !slices.Equal(s.Pool, a.Before.Pool) {
			a.PoolChanged, a.PoolChangedSec, a.PoolDuring = true, sec(s.At, faultAt), s.Pool
		}
	}
	if haveBefore && !revertAt.IsZero() && len(states) > 0 && states[len(states)-1].key() == a.Before.key() {
		first := len(states) - 1
		for first > 0 && states[first-1].key() == a.Before.key() && states[first-1].At.After(revertAt) {
			first--
		}
		switch {
		case first > 0 && states[first-1].key() == a.Before.key():
			a.Restored = true // already back (or never left) before the revert
		case states[first].At.After(revertAt):
			a.Restored, a.RestoredSec = true, sec(states[first].At, revertAt)
		}
	}
	last := ""
	for _, s := range states {
		if s.RAID == "" {
			continue
		}
		phase := strings.Fields(s.RAID)[0]
		if phase != last {
			a.RAID = append(a.RAID, Phase{At: s.At, Sec: sec(s.At, faultAt), State: s.RAID})
			last = phase
		}
	}
	return a
}
