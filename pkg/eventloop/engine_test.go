package eventloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func startEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Server == nil {
		opts.Server = testServer(t, nil)
	}
	e, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return e
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readN reads exactly n bytes.
func readN(t *testing.T, r io.Reader, n int) string {
	t.Helper()
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatalf("read %d bytes: %v (got %q)", n, err, buf)
	}
	return string(buf)
}

func expectEOF(t *testing.T, c net.Conn) {
	t.Helper()
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err == nil {
		t.Fatalf("read %q, want EOF (connection closed)", buf[:n])
	}
}

func TestEngineServes(t *testing.T) {
	e := startEngine(t, Options{Loops: 2})
	if strings.HasSuffix(e.Addr(), ":0") {
		t.Fatalf("Addr() = %s: port 0 not resolved", e.Addr())
	}
	c := dial(t, e.Addr())
	r := bufio.NewReader(c)
	if _, err := io.WriteString(c, "techo hello\r\n*2\r\n$5\r\ntecho\r\n$4\r\na\r\nb\r\n"); err != nil {
		t.Fatal(err)
	}
	want := "*1\r\n$5\r\nhello\r\n*1\r\n$4\r\na\r\nb\r\n"
	if got := readN(t, r, len(want)); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	// One byte per write: the same replies.
	req := "*3\r\n$5\r\ntecho\r\n$1\r\nx\r\n$0\r\n\r\n"
	want = "*2\r\n$1\r\nx\r\n$0\r\n\r\n"
	for i := range len(req) {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if got := readN(t, r, len(want)); got != want {
		t.Fatalf("split: got %q, want %q", got, want)
	}
	if _, err := io.WriteString(c, "tquit\r\ntecho never\r\n"); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, r, 5); got != "+OK\r\n" {
		t.Fatalf("tquit: got %q", got)
	}
	expectEOF(t, c)
}

func TestEngineKillFromAnotherGoroutine(t *testing.T) {
	srv := testServer(t, nil)
	e := startEngine(t, Options{Server: srv, Loops: 2})
	c := dial(t, e.Addr())
	if _, err := io.WriteString(c, "techo x\r\n"); err != nil {
		t.Fatal(err)
	}
	readN(t, c, len("*1\r\n$1\r\nx\r\n"))
	clients := srv.Clients.Snapshot()
	if len(clients) != 1 {
		t.Fatalf("%d clients registered, want 1", len(clients))
	}
	done := make(chan struct{})
	go func() {
		clients[0].Kill()
		clients[0].Kill() // twice is fine
		close(done)
	}()
	<-done
	expectEOF(t, c)
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Clients.Snapshot()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("client still registered after kill")
		}
		time.Sleep(time.Millisecond)
	}
	clients[0].Kill() // after close: still fine
}

func TestEngineBackpressureLargeReplies(t *testing.T) {
	e := startEngine(t, Options{Loops: 1, OutputLimit: 64 << 10})
	c := dial(t, e.Addr())
	// 200 replies of 100 KiB = 20 MiB, requested at once, read only after
	// the whole pipeline is sent.
	const n, size = 200, 100 << 10
	go func() {
		var b strings.Builder
		for range n {
			b.WriteString("tbig 102400\r\n")
		}
		_, _ = io.WriteString(c, b.String())
	}()
	r := bufio.NewReaderSize(c, 1<<20)
	hdr := "$102400\r\n"
	for i := range n {
		got := readN(t, r, len(hdr)+size+2)
		if !strings.HasPrefix(got, hdr) || !strings.HasSuffix(got, "x\r\n") {
			t.Fatalf("reply %d malformed: %q...", i, got[:20])
		}
	}
}

// TestEngineLargeRepliesInOrder: a reply larger than the socket takes at
// once is written in part and the rest queued by gnet; a later batch's
// reply must go behind the queued part. 60 pipelined replies of 256 KiB,
// each different, read only after the whole pipeline is sent, arrive
// whole and in order.
func TestEngineLargeRepliesInOrder(t *testing.T) {
	e := startEngine(t, Options{Loops: 1})
	c := dial(t, e.Addr())
	const n, size = 60, 256 << 10
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "tpat %d r%d\r\n", size, i)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(c, 64<<10)
	for i := range n {
		want := fmt.Sprintf("$%d\r\n%s\r\n", size, patReply(size, fmt.Sprintf("r%d", i)))
		if got := readN(t, r, len(want)); got != want {
			at := 0
			for at < len(got) && got[at] == want[at] {
				at++
			}
			t.Fatalf("reply %d differs at byte %d: %q, want %q", i, at, got[at:min(at+40, len(got))], want[at:min(at+40, len(want))])
		}
	}
}

func TestEngineMaxClients(t *testing.T) {
	e := startEngine(t, Options{MaxClients: 1})
	c1 := dial(t, e.Addr())
	if _, err := io.WriteString(c1, "techo a\r\n"); err != nil {
		t.Fatal(err)
	}
	readN(t, c1, len("*1\r\n$1\r\na\r\n"))
	c2 := dial(t, e.Addr())
	want := "-ERR max number of clients reached\r\n"
	if got := readN(t, c2, len(want)); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	expectEOF(t, c2)
}

func TestEngineStopClosesClients(t *testing.T) {
	e, err := Start(Options{Addr: "127.0.0.1:0", Server: testServer(t, nil)})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, e.Addr())
	if _, err := io.WriteString(c, "techo a\r\n"); err != nil {
		t.Fatal(err)
	}
	readN(t, c, len("*1\r\n$1\r\na\r\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case <-e.Done():
	default:
		t.Fatalf("Done not closed after Stop")
	}
	expectEOF(t, c)
	if _, err := net.DialTimeout("tcp", e.Addr(), time.Second); err == nil {
		t.Fatalf("still accepting after Stop")
	}
	if err := e.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStartAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if e, err := Start(Options{Addr: ln.Addr().String(), Server: testServer(t, nil)}); err == nil {
		_ = e.Stop(context.Background())
		t.Fatalf("Start on a used address succeeded")
	}
}

func TestEngineIdleTimeout(t *testing.T) {
	e := startEngine(t, Options{IdleTimeout: 300 * time.Millisecond})
	idle := dial(t, e.Addr())
	busy := dial(t, e.Addr())
	stop := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(stop) {
		if _, err := io.WriteString(busy, "techo x\r\n"); err != nil {
			t.Fatalf("busy client: %v", err)
		}
		readN(t, busy, len("*1\r\n$1\r\nx\r\n"))
		time.Sleep(50 * time.Millisecond)
	}
	expectEOF(t, idle)
	e.SetIdleTimeout(0)
	if _, err := io.WriteString(busy, "techo y\r\n"); err != nil {
		t.Fatalf("busy client closed: %v", err)
	}
	readN(t, busy, len("*1\r\n$1\r\ny\r\n"))
}

// TestLoopsDefault: Loops 0 starts one loop per two of GOMAXPROCS, at least
// one (GOMAXPROCS, not the CPU count: a lowered GOMAXPROCS or container CPU
// limit lowers it), an explicit count is kept, and the engine serves either
// way.
func TestLoopsDefault(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	tests := []struct {
		name       string
		gomaxprocs int
		loops      int
		want       int
	}{
		{"default with GOMAXPROCS 1", 1, 0, 1},
		{"default with GOMAXPROCS 2", 2, 0, 1},
		{"default with GOMAXPROCS 5", 5, 0, 2},
		{"default with GOMAXPROCS 8", 8, 0, 4},
		{"explicit count", 1, 2, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GOMAXPROCS(tc.gomaxprocs)
			if got := DefaultLoops(); tc.loops == 0 && got != tc.want {
				t.Fatalf("DefaultLoops() = %d, want %d", got, tc.want)
			}
			e := startEngine(t, Options{Loops: tc.loops})
			if got := e.Loops(); got != tc.want {
				t.Fatalf("Loops() = %d, want %d", got, tc.want)
			}
			c := dial(t, e.Addr())
			if _, err := c.Write([]byte("techo a\r\n")); err != nil {
				t.Fatal(err)
			}
			if got, want := readN(t, c, 11), "*1\r\n$1\r\na\r\n"; got != want {
				t.Fatalf("techo a: got %q, want %q", got, want)
			}
		})
	}
}
