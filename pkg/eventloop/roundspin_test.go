package eventloop

import (
	"strings"
	"testing"
	"time"
)

// After the shared flush of a round of single commands from several
// connections (clients at pipeline 1) the loop keeps busy until
// Options.RoundSpin has passed, if the round's commands (from its first
// held batch to its flush) took less than that; after a round of
// pipelined batches, a round of one connection, a round whose commands
// already took that long, or with RoundSpin 0, it goes straight back to
// polling.
func TestRoundSpin(t *testing.T) {
	const spin = 3 * time.Millisecond
	round := func(t *testing.T, h *handler, l *fakeLoop, conns []*loopConn, perConn int) time.Duration {
		t.Helper()
		start := time.Now()
		for i, c := range conns {
			c.out = nil
			c.in = append(c.in, strings.Repeat("techo x\r\n", perConn)...)
			h.OnTraffic(c)
			if len(c.out) != 0 {
				t.Fatalf("conn %d answered before the round's end: %q", i, c.out)
			}
		}
		l.runQueued(t)
		took := time.Since(start)
		for i, c := range conns {
			if want := strings.Repeat("*1\r\n$1\r\nx\r\n", perConn); string(c.out) != want {
				t.Fatalf("conn %d got %q, want %q", i, c.out, want)
			}
		}
		return took
	}
	// flush, if not nil, is the store's flush (Options.Flush).
	setup := func(t *testing.T, d time.Duration, n int, flush func() error) (*handler, *fakeLoop, *loopState, []*loopConn) {
		h := newTestHandler(t, Options{HoldReplies: true, RoundSpin: d, Flush: flush})
		l := &fakeLoop{}
		conns := make([]*loopConn, n)
		for i := range conns {
			conns[i] = openOn(t, h, l)
		}
		return h, l, h.loopOf(l), conns
	}

	t.Run("single commands", func(t *testing.T) {
		h, l, ls, conns := setup(t, spin, 3, nil)
		if took := round(t, h, l, conns, 1); took < spin {
			t.Fatalf("the round and its flush took %v, want at least the spin (%v)", took, spin)
		}
		wantSpins(t, ls, 1, "one round of single commands")
		round(t, h, l, conns, 2) // two per connection still counts
		wantSpins(t, ls, 2, "a round of two commands per connection")
	})
	t.Run("pipelined", func(t *testing.T) {
		h, l, ls, conns := setup(t, spin, 3, nil)
		round(t, h, l, conns, 16)
		wantSpins(t, ls, 0, "a round of pipelines of 16")
		round(t, h, l, conns, 1) // the count starts again each round
		wantSpins(t, ls, 1, "the next round of single commands")
	})
	t.Run("slow round", func(t *testing.T) {
		h, l, ls, conns := setup(t, spin, 3, nil)
		for _, c := range conns {
			c.in = append(c.in, "techo x\r\n"...)
			h.OnTraffic(c)
		}
		time.Sleep(spin) // the round's work took the whole spin already
		l.runQueued(t)
		wantSpins(t, ls, 0, "a round longer than the spin")
	})
	t.Run("slow flush", func(t *testing.T) {
		// The flush's own time does not count: a round whose replies
		// take long to write (large ones, many connections) still spins.
		slow := true
		h, l, ls, conns := setup(t, spin, 3, func() error {
			if slow {
				time.Sleep(spin)
				slow = false
			}
			return nil
		})
		round(t, h, l, conns, 1)
		wantSpins(t, ls, 1, "a round whose flush took longer than the spin")
	})
	t.Run("one connection", func(t *testing.T) {
		h, l, ls, conns := setup(t, spin, 1, nil)
		round(t, h, l, conns, 1)
		wantSpins(t, ls, 0, "a round of one connection")
	})
	t.Run("off", func(t *testing.T) {
		h, l, ls, conns := setup(t, 0, 3, nil)
		round(t, h, l, conns, 1)
		wantSpins(t, ls, 0, "a round with RoundSpin 0")
	})
}

// wantSpins fails t unless the loop l spun n times in all, after what.
func wantSpins(t *testing.T, l *loopState, n int64, what string) {
	t.Helper()
	if got := l.spins.Load(); got != n {
		t.Fatalf("%d spins in all after %s, want %d", got, what, n)
	}
}
