//go:build !linux || !(amd64 || arm64)

package load

import "context"

// loopPlan is empty where the epoll loop does not exist.
type loopPlan struct{}

// planLoop: without the epoll loop (other systems, 32-bit Linux) every run
// uses net.Conn clients.
func planLoop(context.Context, Config, *target) *loopPlan { return nil }

func (g *gen) runLoops(*loopPlan, []*tally) error { return nil }
