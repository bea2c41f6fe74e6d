package server

import (
	"testing"
)

// TestExecConfigSetCapacity: CONFIG SET capacity resizes every cache
// shard; inside EXEC, which holds every shard, it must neither deadlock
// nor wait (the dial deadline fails the test if it hangs).
func TestExecConfigSetCapacity(t *testing.T) {
	s := startServer(t, Options{})
	c := dialRaw(t, s.Addr())
	c.send("SET k v\r\nMULTI\r\nCONFIG SET capacity 500\r\nGET k\r\nEXEC\r\nCONFIG GET capacity\r\n")
	c.expect("+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n+OK\r\n$1\r\nv\r\n")
	c.expect("*2\r\n$8\r\ncapacity\r\n$3\r\n500\r\n")
}

// TestExecAppendfsyncAlways: under appendfsync always EXEC's reply waits
// for the sync covering its writes, and the writes survive a restart;
// MULTI..EXEC pipelined in one packet works (queued arguments are copies
// of the input buffer).
func TestExecAppendfsyncAlways(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Options{Dir: dir, AppendFsync: "always"})
	c := dialRaw(t, s.Addr())
	c.send("MULTI\r\nSET a 1\r\nRPUSH l x y\r\nINCR a\r\nEXEC\r\n")
	c.expect("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n:2\r\n")
	_ = c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := startServer(t, Options{Dir: dir})
	c2 := dialRaw(t, s2.Addr())
	c2.send("GET a\r\nLRANGE l 0 -1\r\n")
	c2.expect("$1\r\n2\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n")
}

// TestWatchAcrossLoops: a write on one connection (possibly on another
// event loop) aborts another connection's EXEC; a disconnected watcher
// leaves nothing behind.
func TestWatchAcrossLoops(t *testing.T) {
	s := startServer(t, Options{Loops: 2})
	a, b := dialRaw(t, s.Addr()), dialRaw(t, s.Addr())
	a.send("WATCH k\r\n")
	a.expect("+OK\r\n")
	b.send("SET k 1\r\n")
	b.expect("+OK\r\n")
	a.send("MULTI\r\nSET k 2\r\nEXEC\r\nGET k\r\n")
	a.expect("+OK\r\n+QUEUED\r\n*-1\r\n$1\r\n1\r\n")
	a.send("WATCH k x y\r\nMULTI\r\nSET q 1\r\n")
	a.expect("+OK\r\n+OK\r\n+QUEUED\r\n")
	_ = a.Close()
	b.send("SET k 3\r\nMULTI\r\nGET q\r\nEXEC\r\n")
	b.expect("+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n$-1\r\n")
}
