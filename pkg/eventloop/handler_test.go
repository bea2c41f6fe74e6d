package eventloop

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/panjf2000/gnet/v2"

	"github.com/toonstore/toonstore/pkg/command"
)

// fakeConn is a gnet.Conn over in-memory buffers, for driving the handler
// byte by byte. Methods the handler does not call panic (nil embedded Conn).
type fakeConn struct {
	gnet.Conn
	in      []byte
	out     []byte
	pending int  // simulated bytes waiting in gnet's outbound buffer
	stuck   bool // writes stay pending (the peer does not read)
	ctx     any
	closed  bool
	woken   int
}

func (f *fakeConn) Context() any              { return f.ctx }
func (f *fakeConn) EventLoop() gnet.EventLoop { return nil } // one loop for all
func (f *fakeConn) SetContext(v any)          { f.ctx = v }
func (f *fakeConn) InboundBuffered() int      { return len(f.in) }
func (f *fakeConn) OutboundBuffered() int {
	return f.pending
}
func (f *fakeConn) Peek(n int) ([]byte, error) {
	if n <= 0 {
		n = len(f.in)
	}
	return f.in[:n], nil
}
func (f *fakeConn) Discard(n int) (int, error) {
	if n <= 0 || n > len(f.in) {
		n = len(f.in)
	}
	// Shift rather than reslice so that stale aliases would show garbage.
	copy(f.in, f.in[n:])
	f.in = f.in[:len(f.in)-n]
	return n, nil
}
func (f *fakeConn) Write(p []byte) (int, error) {
	f.out = append(f.out, p...)
	if f.stuck {
		f.pending += len(p)
	}
	return len(p), nil
}
func (f *fakeConn) Fd() int              { return -1 }
func (f *fakeConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5555} }
func (f *fakeConn) LocalAddr() net.Addr  { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6379} }
func (f *fakeConn) Close() error         { f.closed = true; return nil }
func (f *fakeConn) Wake(gnet.AsyncCallback) error {
	f.woken++
	return nil
}

// testServer returns a command server whose table holds only test
// commands, so these tests do not depend on the real command groups:
//
//	techo a b ...   -> array of bulk args
//	tset k v        -> +OK (a write command; records k=v in kv)
//	tquit           -> +OK, then close
//	tbig n          -> bulk of n 'x' bytes
func testServer(t testing.TB, kv map[string]string) *command.Server {
	t.Helper()
	s := command.NewServer(nil, nil, nil)
	tab := s.Table()
	for name := range tab {
		delete(tab, name)
	}
	tab["techo"] = &command.Command{Name: "techo", Arity: -1, Run: func(x *command.Ctx) {
		x.Array(len(x.Args) - 1)
		for _, a := range x.Args[1:] {
			x.Bulk(a)
		}
	}}
	tab["tset"] = &command.Command{Name: "tset", Arity: 3, Flags: command.FlagWrite, Run: func(x *command.Ctx) {
		if kv != nil {
			kv[string(x.Args[1])] = string(x.Args[2])
		}
		x.OK()
	}}
	tab["tquit"] = &command.Command{Name: "tquit", Arity: 1, Flags: command.FlagNoAuth, Run: func(x *command.Ctx) {
		x.C.CloseAfterReply = true
		x.OK()
	}}
	tab["tbig"] = &command.Command{Name: "tbig", Arity: 2, Run: func(x *command.Ctx) {
		n, _ := command.ParseInt(x.Args[1])
		x.Bulk(bytes.Repeat([]byte{'x'}, int(n)))
	}}
	tab["tpat"] = &command.Command{Name: "tpat", Arity: 3, Run: func(x *command.Ctx) {
		n, _ := command.ParseInt(x.Args[1])
		x.Bulk(patReply(int(n), string(x.Args[2])))
	}}
	return s
}

// patReply is tpat's reply to "tpat n tag": n bytes of "tag:offset "
// pieces, so that a byte out of place names where it came from.
func patReply(n int, tag string) []byte {
	b := make([]byte, 0, n+32)
	for len(b) < n {
		b = fmt.Appendf(b, "%s:%d ", tag, len(b))
	}
	return b[:n]
}

func newTestHandler(t testing.TB, opts Options) *handler {
	t.Helper()
	if opts.Server == nil {
		opts.Server = testServer(t, nil)
	}
	opts.setDefaults()
	return newHandler(opts)
}

func open(t testing.TB, h *handler) *fakeConn {
	t.Helper()
	f := &fakeConn{}
	if out, act := h.OnOpen(f); out != nil || act != gnet.None {
		t.Fatalf("OnOpen = %q, %v", out, act)
	}
	return f
}

const mixedPipeline = "*3\r\n$5\r\ntecho\r\n$4\r\na\r\nb\r\n$0\r\n\r\n" +
	"techo  inline \"quo ted\" 'x'\r\n" +
	"\r\n" + // blank inline line: consumed, no reply
	"*0\r\n" +
	"*3\r\n$4\r\ntset\r\n$1\r\nk\r\n$3\r\n\x00\r\n\r\n" +
	"nosuch arg\r\n" +
	"*2\r\n$5\r\ntecho\r\n$10\r\n0123456789\r\n"

func TestSplitAtEveryByte(t *testing.T) {
	whole := func() []byte {
		h := newTestHandler(t, Options{})
		f := open(t, h)
		f.in = append(f.in, mixedPipeline...)
		if act := h.OnTraffic(f); act != gnet.None {
			t.Fatalf("OnTraffic = %v", act)
		}
		if len(f.in) != 0 {
			t.Fatalf("left %q unconsumed", f.in)
		}
		return f.out
	}()
	want := "*2\r\n$4\r\na\r\nb\r\n$0\r\n\r\n" +
		"*3\r\n$6\r\ninline\r\n$7\r\nquo ted\r\n$1\r\nx\r\n" +
		"+OK\r\n" +
		"-ERR unknown command 'nosuch', with args beginning with: 'arg' \r\n" +
		"*1\r\n$10\r\n0123456789\r\n"
	if string(whole) != want {
		t.Fatalf("whole pipeline replies\n got %q\nwant %q", whole, want)
	}
	for _, chunk := range []int{1, 2, 3, 7, 13} {
		h := newTestHandler(t, Options{})
		f := open(t, h)
		for i := 0; i < len(mixedPipeline); i += chunk {
			end := min(i+chunk, len(mixedPipeline))
			f.in = append(f.in, mixedPipeline[i:end]...)
			if act := h.OnTraffic(f); act != gnet.None {
				t.Fatalf("chunk=%d: OnTraffic at byte %d = %v", chunk, i, act)
			}
		}
		if string(f.out) != want {
			t.Fatalf("chunk=%d replies\n got %q\nwant %q", chunk, f.out, want)
		}
	}
}

func TestProtocolErrorClosesAfterReply(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bad bulk length", "techo a\r\n*1\r\n$x\r\n", "*1\r\n$1\r\na\r\n-ERR Protocol error: invalid bulk length\r\n"},
		{"expected dollar", "*1\r\n+PING\r\n", "-ERR Protocol error: expected '$', got '+'\r\n"},
		{"unbalanced quotes", "techo \"a\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, Options{})
			f := open(t, h)
			f.in = append(f.in, tc.in+"techo after\r\n"...)
			if act := h.OnTraffic(f); act != gnet.Close {
				t.Fatalf("OnTraffic = %v, want Close", act)
			}
			if string(f.out) != tc.want {
				t.Fatalf("got %q, want %q", f.out, tc.want)
			}
		})
	}
}

func TestCloseAfterReply(t *testing.T) {
	h := newTestHandler(t, Options{})
	f := open(t, h)
	f.in = append(f.in, "techo a\r\ntquit\r\ntecho never\r\n"...)
	f.pending = 10 // the reply does not fully leave at once
	if act := h.OnTraffic(f); act != gnet.None {
		t.Fatalf("OnTraffic with pending output = %v, want None (wait for drain)", act)
	}
	if want := "*1\r\n$1\r\na\r\n+OK\r\n"; string(f.out) != want {
		t.Fatalf("got %q, want %q", f.out, want)
	}
	if len(h.waiting) != 1 {
		t.Fatalf("closing connection not parked")
	}
	h.OnTick()
	if f.woken != 1 {
		t.Fatalf("OnTick woke %d connections, want 1", f.woken)
	}
	f.pending = 0
	if act := h.OnTraffic(f); act != gnet.Close {
		t.Fatalf("OnTraffic after drain = %v, want Close", act)
	}
	h.OnClose(f, nil)
	if len(h.waiting) != 0 || len(h.srv.Clients.Snapshot()) != 0 {
		t.Fatalf("state left after close: waiting=%d clients=%d", len(h.waiting), len(h.srv.Clients.Snapshot()))
	}
}

func TestBackpressure(t *testing.T) {
	h := newTestHandler(t, Options{OutputLimit: 1000})
	f := open(t, h)
	// Each reply is ~410 bytes: the batch stops once 1000 bytes are out.
	for range 10 {
		f.in = append(f.in, "tbig 400\r\n"...)
	}
	f.pending = 5000 // the client is not reading
	h.OnTraffic(f)
	if len(f.out) != 0 || len(h.waiting) != 1 {
		t.Fatalf("over the limit: wrote %d bytes, parked=%d; want 0 bytes, parked", len(f.out), len(h.waiting))
	}
	h.OnTick()
	h.OnTraffic(f) // still over the limit
	if len(f.out) != 0 {
		t.Fatalf("wrote while over the limit")
	}
	f.pending = 0 // drained; every write now leaves at once
	h.OnTraffic(f)
	if got := bytes.Count(f.out, []byte("$400\r\n")); got != 10 {
		t.Fatalf("after drain got %d replies, want 10", got)
	}
	if len(h.waiting) != 0 || len(f.in) != 0 {
		t.Fatalf("parked=%d, unconsumed=%d after drain", len(h.waiting), len(f.in))
	}

	// Writes that do not leave at once stop the loop between batches.
	f.out = f.out[:0]
	f.stuck = true
	for range 10 {
		f.in = append(f.in, "tbig 400\r\n"...)
	}
	h.OnTraffic(f)
	n := bytes.Count(f.out, []byte("$400\r\n"))
	if n == 0 || n == 10 {
		t.Fatalf("first batch wrote %d replies, want between 1 and 9", n)
	}
}

func TestQueryBufferLimit(t *testing.T) {
	h := newTestHandler(t, Options{QueryBufferLimit: 100})
	f := open(t, h)
	f.in = append(f.in, "*1\r\n$1000\r\n"...)
	f.in = append(f.in, make([]byte, 200)...)
	if act := h.OnTraffic(f); act != gnet.Close {
		t.Fatalf("OnTraffic over the query buffer limit = %v, want Close", act)
	}
}

func TestMaxClients(t *testing.T) {
	h := newTestHandler(t, Options{MaxClients: 2})
	open(t, h)
	open(t, h)
	out, act := h.OnOpen(&fakeConn{})
	if string(out) != "-ERR max number of clients reached\r\n" || act != gnet.Close {
		t.Fatalf("third OnOpen = %q, %v", out, act)
	}
	h.OnClose(&fakeConn{}, nil) // its context was never set
	if got := h.srv.Stats.ConnectedClients.Load(); got != 2 {
		t.Fatalf("ConnectedClients = %d, want 2", got)
	}
	if got := h.srv.Stats.RejectedConnections.Load(); got != 1 {
		t.Fatalf("RejectedConnections = %d, want 1", got)
	}
}

func TestSyncBeforeReply(t *testing.T) {
	var mu sync.Mutex // guards order and syncErr: Sync runs on the syncer goroutine
	var order []string
	var syncErr error
	release := make(chan struct{}, 16)
	h := newTestHandler(t, Options{SyncAlways: true, Sync: func() error {
		<-release // the test decides when the fsync "completes"
		mu.Lock()
		defer mu.Unlock()
		order = append(order, "sync")
		return syncErr
	}})
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	got := func() string { mu.Lock(); defer mu.Unlock(); return strings.Join(order, ",") }
	f := &recordingConn{fakeConn: fakeConn{}, note: note}
	h.OnOpen(f)
	f.in = append(f.in, "techo a\r\n"...)
	h.OnTraffic(f)
	f.in = append(f.in, "tset k v\r\ntecho b\r\n"...)
	h.OnTraffic(f) // runs both commands, holds their replies for the sync
	// While the sync is pending, the loop is free: more traffic on this
	// connection is buffered, not executed, and nothing is written.
	f.in = append(f.in, "techo c\r\n"...)
	h.OnTraffic(f)
	if g := got(); g != "write" {
		t.Fatalf("before the sync completed: order = %s, want write (replies held)", g)
	}
	release <- struct{}{}
	waitWoken(t, f, 1)
	h.OnTraffic(f) // the wake: held replies go out, then the buffered echo runs
	if g := got(); g != "write,sync,write,write" {
		t.Fatalf("order = %s, want write,sync,write,write (no sync for a read-only batch; sync before the write batch's reply)", g)
	}
	if want := "*1\r\n$1\r\na\r\n+OK\r\n*1\r\n$1\r\nb\r\n*1\r\n$1\r\nc\r\n"; string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
	if h.held.Load() != 0 {
		t.Fatalf("held = %d after the wake, want 0", h.held.Load())
	}

	// A failed sync drops the replies and closes.
	mu.Lock()
	syncErr = errors.New("disk on fire")
	mu.Unlock()
	f.out = f.out[:0]
	f.in = append(f.in, "tset k v\r\n"...)
	h.OnTraffic(f)
	release <- struct{}{}
	waitWoken(t, f, 2)
	if act := h.OnTraffic(f); act != gnet.Close || len(f.out) != 0 {
		t.Fatalf("after failed sync: action %v, wrote %q; want Close and nothing", act, f.out)
	}

	// Turned off: no sync.
	h.syncAlways.Store(false)
	mu.Lock()
	order = order[:0]
	mu.Unlock()
	g := &recordingConn{note: note}
	h.OnOpen(g)
	g.in = append(g.in, "tset k v\r\n"...)
	h.OnTraffic(g)
	if o := got(); o != "write" {
		t.Fatalf("order with appendfsync off = %s, want write", o)
	}
}

// TestSyncGroupCommit: writes of many connections that arrive while one
// sync runs are all covered by the next single sync.
func TestSyncGroupCommit(t *testing.T) {
	var syncs atomic.Int64
	release := make(chan struct{}, 2)
	h := newTestHandler(t, Options{SyncAlways: true, Sync: func() error {
		<-release
		syncs.Add(1)
		return nil
	}})
	conns := make([]*recordingConn, 20)
	for i := range conns {
		conns[i] = &recordingConn{note: func(string) {}}
		h.OnOpen(conns[i])
		conns[i].in = append(conns[i].in, "tset k v\r\n"...)
		h.OnTraffic(conns[i])
	}
	// The first sync started with (at least) the first ticket; the next
	// one, if needed, covers everything requested meanwhile.
	release <- struct{}{}
	release <- struct{}{}
	for _, c := range conns {
		waitWoken(t, c, 1)
		h.OnTraffic(c)
		if string(c.out) != "+OK\r\n" {
			t.Fatalf("reply %q, want +OK", c.out)
		}
	}
	if n := syncs.Load(); n > 2 {
		t.Fatalf("%d syncs for 20 connections' writes, want at most 2 (group commit)", n)
	}
	close(release)
}

func waitWoken(t *testing.T, f *recordingConn, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.wokenCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("connection not woken %d times within 10s", n)
		}
		time.Sleep(time.Millisecond)
	}
}

type recordingConn struct {
	fakeConn
	note  func(string)
	mu    sync.Mutex // guards wakes: Wake runs on the syncer goroutine
	wakes int
}

func (r *recordingConn) Write(p []byte) (int, error) {
	r.note("write")
	return r.fakeConn.Write(p)
}

func (r *recordingConn) Wake(gnet.AsyncCallback) error {
	r.mu.Lock()
	r.wakes++
	r.mu.Unlock()
	return nil
}

func (r *recordingConn) wokenCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.wakes
}

func TestUnauthenticatedLimits(t *testing.T) {
	h := newTestHandler(t, Options{RequirePass: true})
	f := open(t, h)
	f.in = append(f.in, "*11\r\n"...)
	if act := h.OnTraffic(f); act != gnet.Close {
		t.Fatalf("OnTraffic = %v, want Close", act)
	}
	if want := "-ERR Protocol error: unauthenticated multibulk length\r\n"; string(f.out) != want {
		t.Fatalf("got %q, want %q", f.out, want)
	}
	// The same request from an authenticated client is fine (incomplete).
	g := open(t, h)
	g.ctx.(*connState).client.Authed = true
	g.in = append(g.in, "*11\r\n"...)
	if act := h.OnTraffic(g); act != gnet.None || len(g.out) != 0 {
		t.Fatalf("authenticated: %v, %q", act, g.out)
	}
}

func TestStatsBytes(t *testing.T) {
	h := newTestHandler(t, Options{})
	f := open(t, h)
	in := "techo a\r\n*2\r\n$5\r\ntecho\r\n$1\r\nb"
	f.in = append(f.in, in...)
	h.OnTraffic(f)
	f.in = append(f.in, "\r\n"...)
	h.OnTraffic(f)
	if got, want := h.srv.Stats.NetInputBytes.Load(), uint64(len(in)+2); got != want {
		t.Fatalf("NetInputBytes = %d, want %d", got, want)
	}
	if got, want := h.srv.Stats.NetOutputBytes.Load(), uint64(len(f.out)); got != want {
		t.Fatalf("NetOutputBytes = %d, want %d", got, want)
	}
}

// TestOnTrafficAllocs checks that the event loop's own part of the hot
// path (peek, parse, dispatch, write, discard) allocates nothing: the
// allocations of a batch are exactly those of executing its commands.
// (TestHotPathAllocs in pkg/server checks the whole path with the real GET
// and SET.)
func TestOnTrafficAllocs(t *testing.T) {
	h := newTestHandler(t, Options{})
	f := open(t, h)
	req := []byte("*3\r\n$4\r\ntset\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$5\r\ntecho\r\n$3\r\nkey\r\n")
	run := func() {
		f.in = append(f.in[:0], req...)
		f.out = f.out[:0]
		h.OnTraffic(f)
	}
	run()
	batch := testing.AllocsPerRun(1000, run)
	cl := f.ctx.(*connState).client
	set := [][]byte{[]byte("tset"), []byte("key"), []byte("value")}
	echo := [][]byte{[]byte("techo"), []byte("key")}
	var out []byte
	exec := testing.AllocsPerRun(1000, func() {
		out = h.srv.Execute(cl, set, out[:0])
		out = h.srv.Execute(cl, echo, out)
	})
	if batch != exec {
		t.Fatalf("a batch allocates %.1f times, executing its commands %.1f: the event loop adds %.1f, want 0",
			batch, exec, batch-exec)
	}
	if want := "+OK\r\n*1\r\n$3\r\nkey\r\n"; string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
}

// TestLargeRepliesReuseSpare: a connection whose batches reply more than
// maxRetainedOut does not keep that buffer, but its next batch starts from
// the handler's spare, so that a stream of large pipelined replies does not
// allocate (and regrow) a reply buffer at every batch: a batch allocates
// what its commands allocate and nothing more, and the replies are intact.
func TestLargeRepliesReuseSpare(t *testing.T) {
	h := newTestHandler(t, Options{})
	f := open(t, h)
	const each = 300 << 10
	req := bytes.Repeat([]byte("*2\r\n$4\r\ntbig\r\n$6\r\n307200\r\n"), 6) // 1.8 MB of replies
	run := func() {
		f.in = append(f.in[:0], req...)
		f.out = f.out[:0]
		h.OnTraffic(f)
	}
	run()
	st := f.ctx.(*connState)
	if st.out != nil || !st.bigOut || h.spareOut.Load() == nil {
		t.Fatalf("after a batch of %d bytes: out cap %d, bigOut %v, spare %v", len(f.out), cap(st.out), st.bigOut, h.spareOut.Load() != nil)
	}
	batch := testing.AllocsPerRun(20, run)
	cl := st.client
	cmd := [][]byte{[]byte("tbig"), []byte("307200")}
	out := make([]byte, 0, 2<<20)
	exec := testing.AllocsPerRun(20, func() {
		out = out[:0]
		for range 6 {
			out = h.srv.Execute(cl, cmd, out)
		}
	})
	if batch != exec {
		t.Fatalf("a batch of large replies allocates %.1f times, executing its commands %.1f: the event loop adds %.1f, want 0",
			batch, exec, batch-exec)
	}
	want := fmt.Sprintf("$%d\r\n%s\r\n", each, bytes.Repeat([]byte{'x'}, each))
	if string(f.out) != strings.Repeat(want, 6) {
		t.Fatalf("replies: %d bytes, want %d", len(f.out), 6*len(want))
	}
	// A new connection's first batch of large replies takes the spare
	// once its replies pass half of maxRetainedOut, instead of doubling
	// its own buffer past it.
	g := open(t, h)
	g.in = append(g.in[:0], req...)
	before := h.spareOut.Load()
	h.OnTraffic(g)
	if string(g.out) != strings.Repeat(want, 6) {
		t.Fatalf("new connection: %d bytes of replies, want %d", len(g.out), 6*len(want))
	}
	if after := h.spareOut.Load(); after == nil || unsafe.SliceData(*after) != unsafe.SliceData(*before) {
		t.Fatal("a new connection's first large batch did not run in the spare")
	}
	// A small batch on the same connection borrows the spare and gives it
	// back; the connection keeps nothing large.
	f.in = append(f.in[:0], "*2\r\n$5\r\ntecho\r\n$1\r\nk\r\n"...)
	f.out = f.out[:0]
	h.OnTraffic(f)
	if string(f.out) != "*1\r\n$1\r\nk\r\n" || cap(st.out) > maxRetainedOut || h.spareOut.Load() == nil {
		t.Fatalf("small batch: replies %q, out cap %d, spare kept %v", f.out, cap(st.out), h.spareOut.Load() != nil)
	}
}

// TestNewConnectionsReuseOut: a closing connection hands its reply buffer
// on, and a new connection starts from it, empty: its replies are its own.
// (sync.Pool may drop an item, always under -race, so this looks for one
// reuse in 20 connections.)
func TestNewConnectionsReuseOut(t *testing.T) {
	h := newTestHandler(t, Options{})
	reused := 0
	for i := range 20 {
		f := open(t, h)
		st := f.ctx.(*connState)
		if len(st.out) != 0 {
			t.Fatalf("connection %d starts with %d bytes of replies", i, len(st.out))
		}
		if cap(st.out) >= 100<<10 {
			reused++
		}
		n := 100<<10 + i
		f.in = append(f.in[:0], fmt.Sprintf("*2\r\n$4\r\ntbig\r\n$6\r\n%d\r\n", n)...)
		h.OnTraffic(f)
		if want := fmt.Sprintf("$%d\r\n%s\r\n", n, bytes.Repeat([]byte{'x'}, n)); string(f.out) != want {
			t.Fatalf("connection %d: %d bytes of replies, want %d", i, len(f.out), len(want))
		}
		h.OnClose(f, nil)
		if st.out != nil {
			t.Fatalf("connection %d keeps its buffer after OnClose", i)
		}
	}
	if reused == 0 {
		t.Fatal("no new connection started from a closed one's reply buffer")
	}
	t.Logf("%d of 19 connections reused a buffer", reused)
}

func BenchmarkOnTraffic(b *testing.B) {
	h := newTestHandler(b, Options{})
	benchTraffic(b, h, open(b, h), []byte("*3\r\n$4\r\ntset\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$5\r\ntecho\r\n$3\r\nkey\r\n"))
}

// benchTraffic feeds req to h through f once per iteration (the replies
// are discarded), reporting allocations and req's bytes per iteration.
func benchTraffic(b *testing.B, h *handler, f *fakeConn, req []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		f.in = append(f.in[:0], req...)
		f.out = f.out[:0]
		h.OnTraffic(f)
	}
}
