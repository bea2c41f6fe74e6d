package eventloop

import (
	"testing"

	"github.com/toonstore/toonstore/pkg/command"
)

// TestServedBeforeLaterReplies: a command that blocks and is served at
// once (the reply delivered by another goroutine before the loop looks)
// still has its reply written before the replies of the commands
// pipelined after it.
func TestServedBeforeLaterReplies(t *testing.T) {
	s := testServer(t, nil)
	s.Table()["tblock"] = &command.Command{Name: "tblock", Arity: 1, Run: func(x *command.Ctx) {
		x.C.Block()
		x.C.Deliver([]byte("+served\r\n"), true) // as another loop serving it would
	}}
	h := newTestHandler(t, Options{Server: s})
	f := open(t, h)
	f.in = append(f.in, "tblock\r\ntecho a\r\n"...)
	h.OnTraffic(f)
	h.OnTraffic(f) // the wake from Deliver
	if want := "+served\r\n*1\r\n$1\r\na\r\n"; string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
}

// TestSyncBeforeServedReply: with appendfsync always, a blocked pop served
// by another client's command (DeliverWrite) is acknowledged only after a
// sync; an ordinary delivery (Deliver) is not held.
func TestSyncBeforeServedReply(t *testing.T) {
	release := make(chan struct{}, 4)
	h := newTestHandler(t, Options{SyncAlways: true, Sync: func() error {
		<-release
		return nil
	}})
	f := &recordingConn{note: func(string) {}}
	h.OnOpen(f)
	cl := f.ctx.(*connState).client

	cl.Block()
	cl.DeliverWrite([]byte("+popped\r\n"), true)
	h.OnTraffic(f)
	if len(f.out) != 0 {
		t.Fatalf("wrote %q before the sync", f.out)
	}
	release <- struct{}{}
	waitWoken(t, f, 2) // the first wake was DeliverWrite's
	h.OnTraffic(f)
	if string(f.out) != "+popped\r\n" {
		t.Fatalf("after the sync: wrote %q, want +popped", f.out)
	}

	f.out = f.out[:0]
	cl.Deliver([]byte("+msg\r\n"), false)
	h.OnTraffic(f)
	if string(f.out) != "+msg\r\n" {
		t.Fatalf("plain delivery: wrote %q, want +msg at once", f.out)
	}
}
