package eventloop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/toonstore/toonstore/pkg/command"
)

// fakeLoop is a gnet.EventLoop that keeps what Execute was given, for the
// test to run when it chooses (gnet runs it after the loop's next round).
type fakeLoop struct {
	gnet.EventLoop
	queued []gnet.Runnable
}

func (l *fakeLoop) Execute(_ context.Context, r gnet.Runnable) error {
	l.queued = append(l.queued, r)
	return nil
}

// runQueued runs what Execute queued, as the loop would.
func (l *fakeLoop) runQueued(t *testing.T) {
	t.Helper()
	q := l.queued
	l.queued = nil
	for _, r := range q {
		if err := r.Run(context.Background()); err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

type loopConn struct {
	fakeConn
	loop *fakeLoop
}

func (c *loopConn) EventLoop() gnet.EventLoop { return c.loop }

// fakeLog stands for the store's write buffer: every tset leaves 100 bytes
// unflushed; Flush writes them (or fails with err).
type fakeLog struct {
	unflushed int64
	flushes   int
	err       error
}

func sharedFlushHandler(t *testing.T, lg *fakeLog) *handler {
	srv := testServer(t, nil)
	set := srv.Table()["tset"]
	run := set.Run
	set.Run = func(x *command.Ctx) {
		lg.unflushed += 100
		run(x)
	}
	return newTestHandler(t, Options{
		Server: srv,
		Flush: func() error {
			if lg.unflushed == 0 {
				return nil
			}
			lg.flushes++
			if lg.err != nil {
				return lg.err
			}
			lg.unflushed = 0
			return nil
		},
		HoldReplies: true,
	})
}

func openOn(t *testing.T, h *handler, l *fakeLoop) *loopConn {
	t.Helper()
	c := &loopConn{loop: l}
	if out, act := h.OnOpen(c); out != nil || act != gnet.None {
		t.Fatalf("OnOpen = %q, %v", out, act)
	}
	return c
}

func sets(n int, tag string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "tset %s%d v\r\n", tag, i)
	}
	return b.String()
}

// Every batch holds its replies until the end of the loop's round: one
// flush then writes the records of all of them, then every connection's
// replies, in order. A batch that only read is held too.
func TestSharedFlushOneFlushPerRound(t *testing.T) {
	lg := &fakeLog{}
	h := sharedFlushHandler(t, lg)
	l := &fakeLoop{}
	a, b, c := openOn(t, h, l), openOn(t, h, l), openOn(t, h, l)

	a.in = append(a.in, sets(2, "a")...)
	h.OnTraffic(a)
	b.in = append(b.in, sets(1, "b")...)
	h.OnTraffic(b)
	a.in = append(a.in, "techo more\r\n"...) // a again before the flush
	h.OnTraffic(a)
	c.in = append(c.in, "techo r\r\n"...) // c only reads
	h.OnTraffic(c)
	if len(a.out)+len(b.out)+len(c.out) != 0 || lg.flushes != 0 {
		t.Fatalf("before the round's end: a got %q, b got %q, c got %q, %d flushes", a.out, b.out, c.out, lg.flushes)
	}
	if len(l.queued) != 1 {
		t.Fatalf("%d flushes queued on the loop, want 1", len(l.queued))
	}

	l.runQueued(t)
	if lg.flushes != 1 {
		t.Fatalf("%d flushes for the round, want 1", lg.flushes)
	}
	if want := "+OK\r\n+OK\r\n*1\r\n$4\r\nmore\r\n"; string(a.out) != want {
		t.Fatalf("a got %q, want %q", a.out, want)
	}
	if string(b.out) != "+OK\r\n" {
		t.Fatalf("b got %q, want +OK", b.out)
	}
	if string(c.out) != "*1\r\n$1\r\nr\r\n" {
		t.Fatalf("c got %q", c.out)
	}

	// The next round: reads alone are held and leave with no flush.
	c.out = nil
	c.in = append(c.in, "techo s\r\n"...)
	h.OnTraffic(c)
	b.out = nil
	b.in = append(b.in, "techo t\r\n"...)
	h.OnTraffic(b)
	if len(b.out)+len(c.out) != 0 || len(l.queued) != 1 {
		t.Fatalf("reads: b got %q, c got %q before the round's end, %d queued", b.out, c.out, len(l.queued))
	}
	l.runQueued(t)
	if string(c.out) != "*1\r\n$1\r\ns\r\n" || string(b.out) != "*1\r\n$1\r\nt\r\n" || lg.flushes != 1 {
		t.Fatalf("reads: c got %q, b got %q, %d flushes", c.out, b.out, lg.flushes)
	}
}

// Without Options.HoldReplies every batch flushes and writes its replies
// at once.
func TestSharedFlushOff(t *testing.T) {
	lg := &fakeLog{}
	h := sharedFlushHandler(t, lg)
	h.opts.HoldReplies = false
	l := &fakeLoop{}
	a, b := openOn(t, h, l), openOn(t, h, l)
	for i, c := range []*loopConn{a, b, a} {
		c.out = nil
		c.in = append(c.in, sets(2, "x")...)
		h.OnTraffic(c)
		if string(c.out) != "+OK\r\n+OK\r\n" || lg.flushes != i+1 || len(l.queued) != 0 {
			t.Fatalf("batch %d: got %q, %d flushes, %d queued", i, c.out, lg.flushes, len(l.queued))
		}
	}
}

// While the last shared flush served a single connection, holding saves
// nothing: only one batch in soloProbe is held, the others are written at
// once.
func TestSharedFlushSoloProbes(t *testing.T) {
	lg := &fakeLog{}
	h := sharedFlushHandler(t, lg)
	l := &fakeLoop{}
	a := openOn(t, h, l)
	a.in = append(a.in, sets(2, "a")...)
	h.OnTraffic(a)
	l.runQueued(t) // served one connection
	held := 0
	for range 2 * soloProbe {
		a.out = a.out[:0]
		a.in = append(a.in, sets(2, "a")...)
		h.OnTraffic(a)
		if len(a.out) == 0 {
			held++
			l.runQueued(t)
		}
		if string(a.out) != "+OK\r\n+OK\r\n" {
			t.Fatalf("got %q", a.out)
		}
	}
	if held != 2 {
		t.Fatalf("%d of %d batches held on a loop serving one connection, want 2", held, 2*soloProbe)
	}
}

// twoBatches opens connections a and b on one loop of a handler holding
// replies and runs a batch of na writes on a, then of nb on b.
func twoBatches(t *testing.T, na, nb int) (*fakeLog, *handler, *fakeLoop, *loopConn, *loopConn) {
	lg := &fakeLog{}
	h := sharedFlushHandler(t, lg)
	l := &fakeLoop{}
	a, b := openOn(t, h, l), openOn(t, h, l)
	a.in = append(a.in, sets(na, "a")...)
	h.OnTraffic(a)
	b.in = append(b.in, sets(nb, "b")...)
	h.OnTraffic(b)
	return lg, h, l, a, b
}

// A connection closing with replies held (its peer half-closed right after
// its commands) gets them written in OnClose, and the round's flush skips
// it. A failed flush writes no reply and closes the connection.
func TestSharedFlushCloseAndFailure(t *testing.T) {
	lg, h, l, a, b := twoBatches(t, 2, 2)
	h.OnClose(a, nil)
	if string(a.out) != "+OK\r\n+OK\r\n" || lg.flushes != 1 {
		t.Fatalf("closed with replies held: wrote %q after %d flushes", a.out, lg.flushes)
	}
	l.runQueued(t)
	if string(a.out) != "+OK\r\n+OK\r\n" || string(b.out) != "+OK\r\n+OK\r\n" {
		t.Fatalf("after the round: a %q, b %q", a.out, b.out)
	}

	lg.err = errors.New("disk gone")
	b.out = nil
	b.in = append(b.in, sets(3, "c")...)
	h.OnTraffic(b)
	l.runQueued(t)
	if len(b.out) != 0 || !b.closed {
		t.Fatalf("failed flush: wrote %q, closed %v; want nothing written and the connection closed", b.out, b.closed)
	}
}

// Through gnet: connections pipelining writes, with every batch's replies
// held for the loop's shared flush, get every reply in
// order, and a client that half-closes right after its commands still
// gets all of its replies before EOF.
func TestEngineSharedFlush(t *testing.T) {
	var unflushed atomic.Int64
	srv := testServer(t, nil)
	set := srv.Table()["tset"]
	run := set.Run
	set.Run = func(x *command.Ctx) { unflushed.Add(10); run(x) }
	e := startEngine(t, Options{
		Server:      srv,
		Loops:       1,
		Flush:       func() error { unflushed.Store(0); return nil },
		HoldReplies: true,
	})
	const conns, per = 8, 200
	errc := make(chan error, conns)
	for i := range conns {
		c := dial(t, e.Addr())
		go func() {
			_, err := c.Write([]byte(sets(per, fmt.Sprint(i))))
			if err == nil {
				err = c.(*net.TCPConn).CloseWrite()
			}
			if err != nil {
				errc <- err
				return
			}
			r := bufio.NewReader(c)
			for j := range per {
				line, err := r.ReadString('\n')
				if err != nil || line != "+OK\r\n" {
					errc <- fmt.Errorf("conn %d reply %d: %q, %v", i, j, line, err)
					return
				}
			}
			if _, err := r.ReadByte(); err == nil {
				errc <- fmt.Errorf("conn %d: more than %d replies", i, per)
				return
			}
			errc <- nil
		}()
	}
	for range conns {
		select {
		case err := <-errc:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("timed out waiting for replies")
		}
	}
}

// A batch whose replies are over 64 KiB but within holdMaxOut waits for
// the round like a small one: the replies of 64 GETs of 1 KiB values (a
// pipeline of 64, about 66 KiB), which left one connection at a time when
// the limit was 64 KiB and woke the client for nearly every batch.
func TestSharedFlushHoldsPipelinedKiBReplies(t *testing.T) {
	lg, h, l, a, b := twoBatches(t, 2, 1)
	if len(a.out)+len(b.out) != 0 || len(l.queued) != 1 {
		t.Fatalf("a got %q, b got %q, %d queued; want both held", a.out, b.out, len(l.queued))
	}
	v := strings.Repeat("v", 1024)
	var want strings.Builder
	for range 64 {
		b.in = fmt.Appendf(b.in, "*2\r\n$5\r\ntecho\r\n$%d\r\n%s\r\n", len(v), v)
		fmt.Fprintf(&want, "*1\r\n$%d\r\n%s\r\n", len(v), v)
	}
	h.OnTraffic(b)
	if len(b.out) != 0 || len(a.out) != 0 {
		t.Fatalf("a batch of %d bytes of replies: b got %d bytes, a %d before the round's end; want both held",
			want.Len(), len(b.out), len(a.out))
	}
	if want.Len() <= 64<<10 || want.Len() > holdMaxOut {
		t.Fatalf("the batch's replies are %d bytes; the test wants them between 64 KiB and holdMaxOut (%d)", want.Len(), holdMaxOut)
	}
	l.runQueued(t)
	if string(a.out) != "+OK\r\n+OK\r\n" || string(b.out) != "+OK\r\n"+want.String() || lg.flushes != 1 {
		t.Fatalf("after the round: a got %q, b got %d bytes (want %d), %d flushes", a.out, len(b.out), 5+want.Len(), lg.flushes)
	}
}

// Replies over holdMaxOut leave at once, after the store's flush (which
// also covers the held batches' records), even from a connection already
// held: its earlier replies go first, in order, and the round's flush
// leaves nothing more for it.
func TestSharedFlushLargeRepliesLeaveAtOnce(t *testing.T) {
	lg, h, l, a, b := twoBatches(t, 2, 1)
	if len(a.out)+len(b.out) != 0 || len(l.queued) != 1 {
		t.Fatalf("a got %q, b got %q, %d queued; want both held", a.out, b.out, len(l.queued))
	}

	big := strings.Repeat("x", holdMaxOut)
	b.in = fmt.Appendf(b.in, "*2\r\n$5\r\ntecho\r\n$%d\r\n%s\r\n", len(big), big)
	h.OnTraffic(b)
	want := fmt.Sprintf("+OK\r\n*1\r\n$%d\r\n%s\r\n", len(big), big)
	if string(b.out) != want || lg.flushes != 1 {
		t.Fatalf("large reply: b got %d bytes (%q...) after %d flushes; want its %d bytes at once after 1",
			len(b.out), b.out[:min(len(b.out), 20)], lg.flushes, len(want))
	}
	if len(a.out) != 0 {
		t.Fatalf("a got %q before the round's end", a.out)
	}

	b.out = nil
	l.runQueued(t)
	if string(a.out) != "+OK\r\n+OK\r\n" || len(b.out) != 0 || lg.flushes != 1 {
		t.Fatalf("after the round: a got %q, b got %q, %d flushes", a.out, b.out, lg.flushes)
	}
}
