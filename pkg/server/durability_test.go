package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/toonstore/toonstore/pkg/store"
)

// The tests of the durability table (ARCHITECTURE.md, "Durability"): the
// whole server over a store.MemFS, whose Crash keeps only what was synced
// (a power loss) and whose hook blocks or fails file operations.

// isSegment reports whether name is a data segment (not metadata, the
// index snapshot or the lock).
func isSegment(name string) bool { return strings.HasPrefix(filepath.Base(name), "data-") }

// crashedGet opens the store of a power-loss image of fs (only synced
// bytes) and returns the value of key in database 0.
func crashedGet(t *testing.T, fs *store.MemFS, dir string, keys ...string) map[string]string {
	t.Helper()
	st, err := store.Open(dir, store.Options{FS: fs.Crash(store.CrashOptions{}), Sync: store.SyncNo, CompactRatio: -1})
	if err != nil {
		t.Fatalf("open the power-loss image: %v", err)
	}
	defer st.Close()
	got := map[string]string{}
	for _, k := range keys {
		e, ok, err := st.DB(0).Get([]byte(k))
		if err != nil {
			t.Fatalf("Get %s in the power-loss image: %v", k, err)
		}
		if ok {
			got[k] = string(e.Value)
		}
	}
	return got
}

// TestDurabilityAlwaysNoReplyBeforeFsync: with appendfsync always, the
// reply to a write is held while the fsync covering it runs (the fsync is
// blocked in the filesystem: no reply arrives), and every acknowledged
// write is in the synced bytes the moment its reply arrives (a power-loss
// image taken right after each reply holds it).
func TestDurabilityAlwaysNoReplyBeforeFsync(t *testing.T) {
	fs := store.NewMemFS()
	dir := t.TempDir() // a path in fs
	entered, release := make(chan struct{}, 1), make(chan struct{})
	var gate atomic.Bool
	fs.SetHook(func(op, name string) error {
		if op == "sync" && isSegment(name) && gate.Load() {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
		}
		return nil
	})
	s := startServer(t, Options{Dir: dir, FS: fs, AppendFsync: "always", SegmentSize: 1 << 20})
	var once sync.Once
	open := func() { gate.Store(false); once.Do(func() { close(release) }) }
	t.Cleanup(open) // runs before startServer's Close, even if the test fails
	c := dialRaw(t, s.Addr())

	gate.Store(true)
	c.send("SET gated v\r\n")
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no fsync of the segment within 30s of a write under appendfsync always")
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if b, err := c.r.ReadByte(); err == nil {
		t.Fatalf("a reply (%q...) arrived while the fsync covering the write was blocked", b)
	}
	open()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	c.expect("+OK\r\n")

	for i := range 30 {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		c.send("SET " + k + " " + v + "\r\n")
		c.expect("+OK\r\n")
		if got := crashedGet(t, fs, dir, k, "gated"); got[k] != v || got["gated"] != "v" {
			t.Fatalf("power loss right after the reply to SET %s: image holds %v", k, got)
		}
	}
}

// TestDurabilityEverySecPowerLoss: with appendfsync everysec, a power loss
// loses at most the writes of about the last second: every write
// acknowledged more than 2 s (1 s period, plus slack for a loaded machine)
// before the power-loss image was taken is in it.
func TestDurabilityEverySecPowerLoss(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping under -race: MemFS.Sync copies a segment while the event loops write its mapping; the non-race run covers it")
	}
	fs := store.NewMemFS()
	dir := t.TempDir()
	// One segment holds every write: rotating to a new segment syncs the
	// sealed one, which would hide a missing everysec fsync.
	s := startServer(t, Options{Dir: dir, FS: fs, AppendFsync: "everysec", SegmentSize: 32 << 20})
	c := dialRaw(t, s.Addr())
	type ack struct {
		key string
		at  time.Time
	}
	var acks []ack
	for start := time.Now(); time.Since(start) < 3500*time.Millisecond; {
		k := fmt.Sprintf("k%d", len(acks))
		c.send("SET " + k + " v\r\n")
		c.expect("+OK\r\n")
		acks = append(acks, ack{k, time.Now()})
		if len(acks)%64 == 0 {
			time.Sleep(time.Millisecond) // a few thousand writes are plenty
		}
		if len(acks) == 200000 {
			t.Fatal("200000 writes would outgrow the segment")
		}
	}
	crashAt := time.Now()
	keys := make([]string, len(acks))
	for i, a := range acks {
		keys[i] = a.key
	}
	got := crashedGet(t, fs, dir, keys...)
	lost := 0
	for _, a := range acks {
		if _, ok := got[a.key]; ok {
			continue
		}
		lost++
		if age := crashAt.Sub(a.at); age > 2*time.Second {
			t.Fatalf("%s, acknowledged %v before the power loss, is lost (everysec promises about 1 s)", a.key, age)
		}
	}
	t.Logf("%d writes acknowledged over 3.5 s; a power loss lost the last %d", len(acks), lost)
}

// TestDurabilityFailedFsyncOrWrite: a failed fsync or write is never
// followed by an acknowledgement: the write that needed it gets no +OK
// (with always its connection is closed without the reply), every later
// write gets -MISCONF, and reads keep working, as in Redis.
func TestDurabilityFailedFsyncOrWrite(t *testing.T) {
	tests := []struct {
		policy  string
		failOp  string // the file operation that fails once armed
		errno   syscall.Errno
		misconf string
	}{
		{"always", "sync", syscall.EIO, "-MISCONF Errors writing to the AOF file: Input/output error"},
		{"everysec", "sync", syscall.EIO, "-MISCONF Errors writing to the AOF file: Input/output error"},
		{"everysec", "write", syscall.EIO, "-MISCONF Errors writing to the AOF file: Input/output error"},
		{"no", "allocate", syscall.ENOSPC, "-MISCONF Errors writing to the AOF file: No space left on device"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("appendfsync=%s/fail=%s", tc.policy, tc.failOp), func(t *testing.T) {
			fs := store.NewMemFS()
			var armed atomic.Bool
			fs.SetHook(func(op, name string) error {
				if armed.Load() && op == tc.failOp && (isSegment(name) || strings.HasSuffix(name, ".tmp")) {
					return tc.errno
				}
				return nil
			})
			s, err := Start(Options{Addr: "127.0.0.1:0", Dir: t.TempDir(), FS: fs, AppendFsync: tc.policy, SegmentSize: 1 << 20, Loops: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := s.Close(); err != nil && !errors.Is(err, store.ErrReadOnly) {
					t.Errorf("Close: %v", err)
				}
			})
			waitReady(t, s)
			c := dialRaw(t, s.Addr())
			c.send("SET before v\r\n")
			c.expect("+OK\r\n")
			armed.Store(true)

			value := strings.Repeat("x", 4000) // fills a 1 MiB segment in ~260 writes
			switch {
			case tc.policy == "always":
				c.send("SET lost " + value + "\r\n")
				c.expectClosed() // the reply waited for the fsync, which failed
				c = dialRaw(t, s.Addr())
			case tc.failOp == "write":
				c.send("SET lost " + value + "\r\n")
				c.expectClosed() // the log write before the reply failed
				c = dialRaw(t, s.Addr())
			default:
				// Writes are acknowledged until the failure (the background
				// fsync of everysec, or a new segment's allocation); from
				// the first refusal on, no write is acknowledged.
				deadline := time.Now().Add(30 * time.Second)
				for i := 0; ; i++ {
					c.send(fmt.Sprintf("SET k%d %s\r\n", i, value))
					line := c.readLine()
					if line == tc.misconf {
						break
					}
					if line != "+OK" || time.Now().After(deadline) {
						t.Fatalf("SET k%d: %q (want +OK until the failure, then %q)", i, line, tc.misconf)
					}
					if tc.policy == "everysec" {
						time.Sleep(10 * time.Millisecond) // the fsync runs once a second
					}
				}
			}
			for i := range 5 {
				c.send(fmt.Sprintf("SET after%d %s\r\n", i, value))
				if line := c.readLine(); line != tc.misconf {
					t.Fatalf("write after the failure: %q, want %q", line, tc.misconf)
				}
			}
			c.send("GET before\r\nEXISTS after0\r\n")
			c.expect("$1\r\nv\r\n:0\r\n")
			if info := infoOf(t, c, "persistence"); tc.failOp == "sync" && !strings.Contains(info, "aof_last_write_status:err\r\n") {
				t.Fatalf("INFO persistence after the failure:\n%s", info)
			}
		})
	}
}

// TestBufferedWritesWithoutReplyReachTheFile: the store buffers writes
// until a reply flushes them. A write no reply follows (here active
// expiry's delete of a key) still reaches the file within about a second
// under appendfsync no, where no fsync runs: a kill then keeps it. The
// store itself owns no clock, so the killed image shows the key if the
// delete is missing.
func TestBufferedWritesWithoutReplyReachTheFile(t *testing.T) {
	if raceEnabled {
		t.Skip("skipping under -race: MemFS.Kill copies a segment that a flush may write through its mapping; the non-race run covers it")
	}
	fs := store.NewMemFS()
	dir := t.TempDir()
	s := startServer(t, Options{Dir: dir, FS: fs, AppendFsync: "no"})
	c := dialRaw(t, s.Addr())
	c.send("SET gone v PX 50\r\n")
	c.expect("+OK\r\n")
	c.send("SET kept v\r\n")
	c.expect("+OK\r\n")
	// No command from here on: a reply would flush the delete itself.
	time.Sleep(2500 * time.Millisecond)
	st, err := store.Open(dir, store.Options{FS: fs.Kill(), Sync: store.SyncNo, CompactRatio: -1})
	if err != nil {
		t.Fatalf("open the killed image: %v", err)
	}
	defer st.Close()
	if _, ok, err := st.DB(0).Get([]byte("kept")); err != nil || !ok {
		t.Fatalf("kept after the kill: ok=%v err=%v", ok, err)
	}
	if _, ok, err := st.DB(0).Get([]byte("gone")); err != nil || ok {
		t.Fatalf("the expired key is still in the killed image (ok=%v err=%v): active expiry's delete did not reach the file", ok, err)
	}
}
