package roles

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sync/semaphore"
)

func TestRemovedPrimitives(t *testing.T) {
	old := []byte("# a comment naming primitive p_x\nprimitive p_www_vip ocf:heartbeat:IPaddr2 params ip=1\nprimitive p_www_gateway ocf:heartbeat:IPaddr2\nprimitive p_ldirectord ocf:heartbeat:ldirectord\ngroup g_lvs p_www_vip p_www_gateway p_ldirectord\n")
	new := []byte("primitive p_www_vip ocf:heartbeat:IPaddr2 params ip=1\nprimitive p_ldirectord ocf:heartbeat:ldirectord\ngroup g_lvs p_www_vip p_ldirectord\n")
	if got := removedPrimitives(old, new); !cmp.Equal(got, []string{"p_www_gateway"}) {
		t.Errorf("removedPrimitives = %q, want [p_www_gateway]", got)
	}
	if got := removedPrimitives(nil, new); got != nil {
		t.Errorf("first load: removedPrimitives = %q, want none", got)
	}
}

// With --parallel 1, the first director waits for its peer's pacemaker
// stage; the wait must give the only slot away or the peer never runs.
func TestSlotIdleLetsOthersRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sem := semaphore.NewWeighted(1)
	first, peer := &slot{sem: sem}, &slot{sem: sem}
	if err := first.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	peerRan := make(chan struct{})
	go func() {
		if peer.acquire(ctx) == nil {
			close(peerRan)
			peer.release()
		}
	}()
	err := first.idle(ctx, func(ctx context.Context) error {
		select {
		case <-peerRan:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		t.Fatalf("idle: %v (the peer never got the slot)", err)
	}
	if !first.held {
		t.Error("idle returned without the slot")
	}
	first.release()
	var none *slot // no --parallel cap
	if err := none.idle(ctx, func(context.Context) error { return nil }); err != nil {
		t.Errorf("nil slot: %v", err)
	}
}
