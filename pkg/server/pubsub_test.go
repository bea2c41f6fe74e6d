package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/toonstore/toonstore/internal/redistest"
	"github.com/toonstore/toonstore/pkg/config"
)

// TestPubSubSlowSubscriberCutOff floods a channel that has a subscriber
// which never reads: once its pending output passes the pubsub hard limit
// (1 MB here) the server closes it (its end of the socket leaves the
// process; see peerSocketOpen), with Redis's log line, long before the
// publisher has sent 64 MB (the bound on memory: without the limit the
// server would buffer everything), while a subscriber that reads gets every
// message and a plain client is served throughout.
func TestPubSubSlowSubscriberCutOff(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	cfg := config.New()
	if err := cfg.Set([][2]string{{"client-output-buffer-limit", "pubsub 1mb 0 0"}}); err != nil {
		t.Fatalf("config: %v", err)
	}
	srv := startServer(t, Options{Config: cfg, Logger: zap.New(core)})
	addr := srv.Addr()

	startT := time.Now()
	slow, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_ = slow.(*net.TCPConn).SetReadBuffer(128 << 10) // over the MSS: a smaller window drains slowly (silly window avoidance)
	slowR := bufio.NewReader(slow)
	_ = slow.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(slow, "SUBSCRIBE flood\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := redistest.ReadReply(slowR, nil); err != nil {
		t.Fatalf("slow SUBSCRIBE: %v", err)
	}
	if !peerSocketOpen(t, slow) {
		t.Fatalf("no open server socket for %v in /proc/net/tcp", slow.LocalAddr())
	}

	// The fast subscriber reads each message before the next is published
	// (below), so its pending output never exceeds one message: a reader
	// left in a goroutine could be starved of CPU on a loaded machine and
	// fall behind by the limit itself, and then the server rightly cut it
	// off instead of the slow one.
	fast := dialRaw(t, addr)
	fast.send("SUBSCRIBE flood\r\n")
	if _, err := redistest.ReadReply(fast.r, nil); err != nil {
		t.Fatalf("fast SUBSCRIBE: %v", err)
	}

	pub := dialRaw(t, addr)
	other := dialRaw(t, addr)
	msg := strings.Repeat("m", 16<<10)
	cmd := fmt.Sprintf("*3\r\n$7\r\nPUBLISH\r\n$5\r\nflood\r\n$%d\r\n%s\r\n", len(msg), msg)
	const maxBytes = 64 << 20
	sent, cut := 0, false
	for sent*len(msg) < maxBytes {
		pub.send(cmd)
		sent++
		raw, err := redistest.ReadReply(pub.r, nil)
		if err != nil {
			t.Fatalf("PUBLISH %d: %v", sent, err)
		}
		if string(raw) != ":2\r\n" && string(raw) != ":1\r\n" {
			t.Fatalf("PUBLISH %d: %q", sent, raw)
		}
		if got, err := redistest.ReadReply(fast.r, nil); err != nil {
			t.Fatalf("fast subscriber, message %d: %v", sent, err)
		} else if !strings.HasSuffix(string(got), "$5\r\nflood\r\n$16384\r\n"+msg+"\r\n") {
			t.Fatalf("fast subscriber, message %d: %.60q", sent, got)
		}
		if string(raw) == ":1\r\n" {
			cut = true // only the fast subscriber is left
			break
		}
		if sent%256 == 0 {
			other.send("PING\r\n")
			other.expect("+PONG\r\n")
		}
	}
	if !cut {
		t.Fatalf("the non-reading subscriber was not cut off after %d MB published", sent*len(msg)>>20)
	}
	t.Logf("cut off after %d messages (%d KB) in %v", sent, sent*len(msg)>>10, time.Since(startT))

	// The one cut off is the slow subscriber (its address in the log
	// line; the line comes before the reply that no longer counts it).
	found := false
	slowAddr := " addr=" + slow.LocalAddr().String() + " "
	for _, e := range logs.All() {
		if strings.HasPrefix(e.Message, "Client id=") && strings.HasSuffix(e.Message, " scheduled to be closed ASAP for overcoming of output buffer limits.") {
			if !strings.Contains(e.Message, slowAddr) {
				t.Fatalf("cut off a client other than the slow subscriber (%s): %s", slowAddr, e.Message)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("no output-limit log line; logged: %v", logs.All())
	}

	// The server closed the slow connection: its end belongs to no process
	// any more. (EOF on the client's side comes once the client has
	// drained what the kernel still had queued for it; the kernel may also
	// give up on such an orphan with a reset, or late, on a loaded machine.)
	// The event loop closes the descriptor right after OnClose, which the
	// :1 above shows has run; a failure shows where every goroutine of the
	// test binary (the server's loops included) is.
	closeBy := time.Now().Add(10 * time.Second)
	for peerSocketOpen(t, slow) {
		if time.Now().After(closeBy) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("the server did not close the slow subscriber's connection; goroutines:\n%s", buf)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = slow.SetDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	n, err := io.Copy(io.Discard, slowR)
	t.Logf("drained %d bytes from the slow subscriber in %v: %v", n, time.Since(start), err)
	pub.send("PUBLISH flood stop\r\n")
	pub.expect(":1\r\n")
	fast.expect("*3\r\n$7\r\nmessage\r\n$5\r\nflood\r\n$4\r\nstop\r\n")
	other.send("PUBSUB NUMSUB flood\r\n")
	other.expect("*2\r\n$5\r\nflood\r\n:1\r\n")
}
