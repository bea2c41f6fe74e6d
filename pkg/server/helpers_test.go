package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/pkg/config"
)

// startServer starts a server on 127.0.0.1:0 over dir (a fresh temporary
// directory if empty) and closes it at the end of the test.
func startServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Loops == 0 {
		opts.Loops = 2
	}
	if opts.Config == nil {
		opts.Config = config.New()
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	waitReady(t, s)
	return s
}

// waitReady waits (at most 30 s) until s has loaded its dataset.
func waitReady(t testing.TB, s *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
}

type rawConn struct {
	t testing.TB
	net.Conn
	r *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, Conn: c, r: bufio.NewReader(c)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.Conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// expect reads exactly len(want) bytes and compares.
func (c *rawConn) expect(want string) {
	c.t.Helper()
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c.r, buf); err != nil {
		c.t.Fatalf("reading %q: %v (got %q)", want, err, buf)
	}
	if string(buf) != want {
		c.t.Fatalf("got %q\nwant %q", buf, want)
	}
}

// expectClosed checks that the server closed the connection with nothing
// more to read.
func (c *rawConn) expectClosed() {
	c.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := c.r.ReadByte()
	if err == nil {
		rest, _ := c.r.Peek(c.r.Buffered())
		c.t.Fatalf("read %q, want the connection closed", append([]byte{b}, rest...))
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.t.Fatalf("connection still open")
	}
}

// peerSocketOpen reports whether the server's end of the loopback
// connection c still belongs to a process: its /proc/net/tcp entry (local
// address c's remote one, remote address c's local one) has an inode. A
// socket its process closed is gone from the table, or an orphan (inode
// 0) while the kernel still sends what it had queued. The test process
// holds both ends, so the entry is visible.
func peerSocketOpen(t testing.TB, c net.Conn) bool {
	t.Helper()
	hexAddr := func(a net.Addr) string {
		ta := a.(*net.TCPAddr)
		ip := ta.IP.To4()
		return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ta.Port)
	}
	local, remote := hexAddr(c.RemoteAddr()), hexAddr(c.LocalAddr())
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Fatalf("peer socket: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && f[1] == local && f[2] == remote {
			return f[9] != "0"
		}
	}
	return false
}
