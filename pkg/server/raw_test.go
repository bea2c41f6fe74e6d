package server

import (
	"io"
	"strings"
	"testing"
	"time"
)

// rawPipeline mixes multibulk and inline requests, binary values, errors
// and an empty request; every reply is the same each time it runs.
const rawPipeline = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\na\r\n\x00b\r\n\r\n" +
	"GET k\r\n" +
	"PING\r\n" +
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n" +
	"SET n 10\r\n" +
	"INCR n\r\n" +
	"\r\n" +
	"SET tmp \"with space\"\r\n" +
	"*2\r\n$3\r\nGET\r\n$3\r\ntmp\r\n" +
	"*2\r\n$3\r\nDEL\r\n$3\r\ntmp\r\n" +
	"NOSUCHCMD a b\r\n" +
	"*1\r\n$3\r\nGET\r\n" +
	"*3\r\n$4\r\nMSET\r\n$1\r\nx\r\n$1\r\ny\r\n" +
	"*1\r\n$4\r\nPING\r\n"

func TestRawPipelineSplitAtEveryByte(t *testing.T) {
	s := startServer(t, Options{})
	c := dialRaw(t, s.Addr())
	// The replies of the whole pipeline, read up to the final PONG.
	c.send(rawPipeline)
	want := readUntil(t, c, "+OK\r\n+PONG\r\n")
	if !strings.HasPrefix(want, "+OK\r\n$7\r\na\r\n\x00b\r\n\r\n+PONG\r\n$0\r\n\r\n+OK\r\n:11\r\n+OK\r\n$10\r\nwith space\r\n:1\r\n-ERR unknown command 'NOSUCHCMD'") {
		t.Fatalf("unexpected replies %q", want)
	}

	for p := 1; p < len(rawPipeline); p++ {
		c.send(rawPipeline[:p])
		time.Sleep(200 * time.Microsecond) // let the server read the first part alone
		c.send(rawPipeline[p:])
		c.expect(want)
	}
	// One byte per write.
	for i := range len(rawPipeline) {
		c.send(rawPipeline[i : i+1])
	}
	c.expect(want)
}

// readUntil reads until the data read ends with suffix.
func readUntil(t *testing.T, c *rawConn, suffix string) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, 1)
	for !strings.HasSuffix(b.String(), suffix) {
		if _, err := io.ReadFull(c.r, buf); err != nil {
			t.Fatalf("read: %v (got %q)", err, b.String())
		}
		b.WriteByte(buf[0])
	}
	return b.String()
}

func TestRawProtocolErrors(t *testing.T) {
	s := startServer(t, Options{})
	tests := []struct{ name, in, want string }{
		{"bad multibulk length", "PING\r\n*x\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
		{"bad bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"expected dollar", "*2\r\n$4\r\nECHO\r\n:1\r\n", "-ERR Protocol error: expected '$', got ':'\r\n"},
		{"unbalanced quotes", "SET a 'b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, s.Addr())
			c.send(tc.in + "PING\r\n")
			c.expect(tc.want)
			c.expectClosed()
		})
	}
	// The server is undisturbed.
	c := dialRaw(t, s.Addr())
	c.send("PING\r\n")
	c.expect("+PONG\r\n")
}

func TestRawQuit(t *testing.T) {
	s := startServer(t, Options{})
	c := dialRaw(t, s.Addr())
	c.send("SET a 1\r\nQUIT\r\nSET a 2\r\n")
	c.expect("+OK\r\n+OK\r\n")
	c.expectClosed()
	d := dialRaw(t, s.Addr())
	d.send("GET a\r\n")
	d.expect("$1\r\n1\r\n")
}

func TestRawInline(t *testing.T) {
	s := startServer(t, Options{})
	c := dialRaw(t, s.Addr())
	c.send("PING\r\nSET a b\r\nGET a\r\nPING hello\r\nECHO \"x\\ty\"\n")
	c.expect("+PONG\r\n+OK\r\n$1\r\nb\r\n$5\r\nhello\r\n$3\r\nx\ty\r\n")
}

func TestRawClientKillAcrossLoops(t *testing.T) {
	s := startServer(t, Options{Loops: 2})
	victims := make([]*rawConn, 4) // spread over both loops
	for i := range victims {
		victims[i] = dialRaw(t, s.Addr())
		victims[i].send("CLIENT SETNAME victim\r\nPING\r\n")
		victims[i].expect("+OK\r\n+PONG\r\n")
	}
	killer := dialRaw(t, s.Addr())
	killer.send("CLIENT KILL TYPE normal SKIPME yes\r\n")
	killer.expect(":4\r\n")
	for _, v := range victims {
		v.expectClosed()
	}
	killer.send("PING\r\n")
	killer.expect("+PONG\r\n")
}
