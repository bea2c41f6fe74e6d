package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/toonstore/toonstore/pkg/command"
	"github.com/toonstore/toonstore/pkg/store"
)

// startHeld starts a server over dir whose load blocks until the returned
// release function is called (at the latest at the end of the test).
func startHeld(t *testing.T, dir string, opts Options) (*Server, func()) {
	t.Helper()
	gate := make(chan struct{})
	released := false
	release := func() {
		if !released {
			released = true
			close(gate)
		}
	}
	opts.Addr, opts.Dir, opts.Loops = "127.0.0.1:0", dir, 2
	opts.BeforeLoad = func() { <-gate }
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		release()
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("Close: %v", err)
		}
	})
	return s, release
}

// seedDir writes n keys k0..k(n-1) = v0.. into dir through a server.
func seedDir(t *testing.T, dir string, n int) {
	t.Helper()
	s := startServer(t, Options{Dir: dir})
	c := dialRaw(t, s.Addr())
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "SET k%d v%d\r\n", i, i)
	}
	c.send(b.String())
	c.expect(strings.Repeat("+OK\r\n", n))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLoading holds a server in its load: it listens, answers -LOADING to
// commands without the loading flag and serves the flagged ones (INFO
// reports the load), then serves the data once the load ends.
func TestLoading(t *testing.T) {
	dir := t.TempDir()
	seedDir(t, dir, 100)
	s, release := startHeld(t, dir, Options{})
	if !s.Loading() || s.Keys() != 0 {
		t.Fatalf("Loading() = %v, Keys() = %d before the load", s.Loading(), s.Keys())
	}
	loadingErr := "-" + command.ErrLoading + "\r\n"
	c := dialRaw(t, s.Addr())
	c.send("PING\r\nGET k1\r\nSET k1 x\r\nECHO hi\r\nSELECT 2\r\nSELECT 0\r\nCONFIG SET capacity 50\r\n")
	c.expect(loadingErr + loadingErr + loadingErr + "$2\r\nhi\r\n+OK\r\n+OK\r\n+OK\r\n")
	info := infoOf(t, c, "persistence")
	for _, want := range []string{"loading:1\r\n", "loading_start_time:", "loading_total_bytes:", "loading_loaded_bytes:", "loading_loaded_perc:", "loading_eta_seconds:"} {
		if !strings.Contains(info, want) {
			t.Fatalf("INFO persistence during the load lacks %q:\n%s", want, info)
		}
	}

	// go-redis retries a command answered -LOADING (its shouldRetry): a
	// GET sent during the load returns the value once the load is over.
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr(), Protocol: 2, DisableIdentity: true, MaxRetries: 150, MaxRetryBackoff: 200 * time.Millisecond})
	defer rdb.Close()
	before := s.Command().Stats.CommandsProcessed.Load()
	got := make(chan string, 1)
	go func() {
		v, err := rdb.Get(context.Background(), "k7").Result()
		if err != nil {
			v = "error: " + err.Error()
		}
		got <- v
	}()
	for s.Command().Stats.CommandsProcessed.Load() == before { // the GET met -LOADING at least once
		time.Sleep(time.Millisecond)
	}
	release()
	waitReady(t, s)
	if v := <-got; v != "v7" {
		t.Fatalf("go-redis GET across the load = %q, want v7", v)
	}

	if s.Loading() || s.Keys() != 100 || s.LoadTime() <= 0 {
		t.Fatalf("after the load: Loading() = %v, Keys() = %d, LoadTime() = %v", s.Loading(), s.Keys(), s.LoadTime())
	}
	c.send("PING\r\nGET k1\r\nCONFIG GET capacity\r\n")
	c.expect("+PONG\r\n$2\r\nv1\r\n*2\r\n$8\r\ncapacity\r\n$2\r\n50\r\n")
	if got := s.cache.Capacity(); got != 50 {
		t.Fatalf("CONFIG SET capacity during the load: cache capacity %d, want 50", got)
	}
	if info := infoOf(t, c, "persistence"); !strings.Contains(info, "loading:0\r\n") || strings.Contains(info, "loading_") {
		t.Fatalf("INFO persistence after the load:\n%s", info)
	}
}

// TestShutdownWhileLoading: SHUTDOWN during the load is accepted (without
// saving, as Redis); the server stops once the load is over and the store
// closes cleanly.
func TestShutdownWhileLoading(t *testing.T) {
	dir := t.TempDir()
	seedDir(t, dir, 10)
	s, release := startHeld(t, dir, Options{})
	c := dialRaw(t, s.Addr())
	c.send("SHUTDOWN\r\n")
	c.expectClosed()
	release()
	select {
	case <-s.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after SHUTDOWN during the load")
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err after SHUTDOWN during the load: %v", err)
	}
	s2 := startServer(t, Options{Dir: dir})
	r := dialRaw(t, s2.Addr())
	r.send("GET k9\r\n")
	r.expect("$2\r\nv9\r\n")
}

// TestLoadFailure: a data directory that cannot be loaded stops the
// server after Start returned; WaitReady, Err and Close report why.
func TestLoadFailure(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"data-000001.toon", "data-000003.toon"} { // a segment missing between
		if err := os.WriteFile(filepath.Join(dir, name), make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, release := startHeld(t, dir, Options{})
	c := dialRaw(t, s.Addr())
	c.send("GET k\r\n")
	c.expect("-" + command.ErrLoading + "\r\n")
	release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("WaitReady = %v, want store.ErrCorrupt", err)
	}
	select {
	case <-s.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after its load failed")
	}
	if err := s.Err(); !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Err = %v, want store.ErrCorrupt", err)
	}
	c.expectClosed()
}

// infoOf sends INFO section on c and returns the bulk string's text.
func infoOf(t *testing.T, c *rawConn, section string) string {
	t.Helper()
	c.send("INFO " + section + "\r\n")
	line, err := c.r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "$") {
		t.Fatalf("INFO %s: %q, %v", section, line, err)
	}
	var n int
	fmt.Sscanf(line, "$%d", &n)
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, buf); err != nil {
		t.Fatalf("INFO %s body: %v", section, err)
	}
	return string(buf[:n])
}

// TestPipelineAcrossLoadEnd: pipelines sent while the load ends get, for
// each command, -LOADING or the value, never anything else. The event
// loop's pipeline pre-pass asks, for every buffered pipeline, whether a
// prefetch is worth it; that must read the cache only once the load has
// published it (go test -race caught it reading Server.Cache while
// FinishLoading wrote it).
func TestPipelineAcrossLoadEnd(t *testing.T) {
	dir := t.TempDir()
	seedDir(t, dir, 10)
	s, release := startHeld(t, dir, Options{})
	c := dialRaw(t, s.Addr())
	const n = 8
	pipe := strings.Repeat("GET k1\r\n", n)
	loading := "-" + command.ErrLoading + "\r\n"
	line := func() string {
		l, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return l
	}
	deadline := time.Now().Add(20 * time.Second)
	var sawLoading, sawValues bool
	for round := 0; !sawValues || round < 50; round++ {
		if round == 5 {
			go release() // the load ends while pipelines keep coming
		}
		if time.Now().After(deadline) {
			t.Fatalf("no value after %d pipelines", round)
		}
		c.send(pipe)
		values := 0
		for range n {
			switch l := line(); l {
			case loading:
				sawLoading = true
			case "$2\r\n":
				if v := line(); v != "v1\r\n" {
					t.Fatalf("GET k1 = %q", v)
				}
				values++
			default:
				t.Fatalf("round %d: reply %q", round, l)
			}
		}
		sawValues = sawValues || values == n
	}
	if !sawLoading {
		t.Fatal("no -LOADING before the load ended")
	}
}
