package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/toonstore/toonstore/pkg/config"
	"github.com/toonstore/toonstore/pkg/store"
)

func newClient(t testing.TB, addr string, proto int) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, Protocol: proto, DisableIdentity: true,
		DialTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		PoolSize: 64,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestGoRedis(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("proto=%d", proto), func(t *testing.T) {
			s := startServer(t, Options{})
			ctx := context.Background()
			rdb := newClient(t, s.Addr(), proto)

			if got, err := rdb.Ping(ctx).Result(); err != nil || got != "PONG" {
				t.Fatalf("PING = %q, %v", got, err)
			}

			t.Run("binary values", func(t *testing.T) {
				values := map[string][]byte{
					"crlf":  []byte("line1\r\nline2\r\n"),
					"nul":   {0, 1, 2, 0, '\r', '\n', 0},
					"empty": {},
					"resp":  []byte("*1\r\n$4\r\nPING\r\n"),
					"big":   bytes.Repeat([]byte("ab\r\n\x00"), 200_000),
				}
				for k, v := range values {
					if err := rdb.Set(ctx, "bin:"+k, v, 0).Err(); err != nil {
						t.Fatalf("SET %s: %v", k, err)
					}
				}
				for k, v := range values {
					got, err := rdb.Get(ctx, "bin:"+k).Bytes()
					if err != nil || !bytes.Equal(got, v) {
						t.Fatalf("GET %s = %q (%d bytes), %v; want %d bytes", k, trunc(got), len(got), err, len(v))
					}
				}
				if _, err := rdb.Get(ctx, "bin:missing").Result(); !errors.Is(err, redis.Nil) {
					t.Fatalf("GET missing: %v, want redis.Nil", err)
				}
			})

			t.Run("pipeline of 1000", func(t *testing.T) {
				pipe := rdb.Pipeline()
				var sets []*redis.StatusCmd
				var gets []*redis.StringCmd
				for i := range 1000 {
					if i%2 == 0 {
						sets = append(sets, pipe.Set(ctx, fmt.Sprintf("p:%d", i), fmt.Sprintf("v%d", i), 0))
					} else {
						gets = append(gets, pipe.Get(ctx, fmt.Sprintf("p:%d", i-1)))
					}
				}
				if _, err := pipe.Exec(ctx); err != nil {
					t.Fatalf("Exec: %v", err)
				}
				for _, c := range sets {
					if c.Val() != "OK" {
						t.Fatalf("%v = %q", c.Args(), c.Val())
					}
				}
				for i, c := range gets {
					if want := fmt.Sprintf("v%d", 2*i); c.Val() != want {
						t.Fatalf("%v = %q, want %q", c.Args(), c.Val(), want)
					}
				}
			})

			t.Run("50 concurrent clients", func(t *testing.T) {
				var wg sync.WaitGroup
				errs := make(chan error, 50)
				for g := range 50 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c := newClient(t, s.Addr(), proto)
						for i := range 100 {
							k, v := fmt.Sprintf("c:%d:%d", g, i), fmt.Sprintf("%d-%d", g, i)
							if err := c.Set(ctx, k, v, 0).Err(); err != nil {
								errs <- err
								return
							}
							if got, err := c.Get(ctx, k).Result(); err != nil || got != v {
								errs <- fmt.Errorf("GET %s = %q, %v; want %q", k, got, err, v)
								return
							}
						}
						if n, err := c.Incr(ctx, "c:counter").Result(); err != nil || n < 1 {
							errs <- fmt.Errorf("INCR = %d, %v", n, err)
						}
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Fatal(err)
				}
				if got, err := rdb.Get(ctx, "c:counter").Result(); err != nil || got != "50" {
					t.Fatalf("counter = %q, %v; want 50", got, err)
				}
			})
		})
	}
}

func trunc(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

func TestPersistenceAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, s) // Start returns once listening; SETs before the load get -LOADING
	rdb := newClient(t, s.Addr(), 2)
	want := map[int]map[string]string{}
	for db := range 3 {
		want[db] = map[string]string{}
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), DB: db, DisableIdentity: true})
		for i := range 100 {
			k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("db%d\r\n\x00v%d", db, i)
			if err := c.Set(ctx, k, v, 0).Err(); err != nil {
				t.Fatal(err)
			}
			want[db][k] = v
		}
		if err := c.Set(ctx, "ttl", "x", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	}
	if err := rdb.Del(ctx, "k0").Err(); err != nil {
		t.Fatal(err)
	}
	delete(want[0], "k0")
	_ = rdb.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Close")
	}

	s2, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 2})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer s2.Close()
	waitReady(t, s2)
	if got, wantKeys := s2.Keys(), 99+100+100+3; got != wantKeys {
		t.Fatalf("Keys() = %d, want %d", got, wantKeys)
	}
	for db, kv := range want {
		c := redis.NewClient(&redis.Options{Addr: s2.Addr(), DB: db, DisableIdentity: true})
		for k, v := range kv {
			if got, err := c.Get(ctx, k).Result(); err != nil || got != v {
				t.Fatalf("db %d GET %s = %q, %v; want %q", db, k, got, err, v)
			}
		}
		if ttl, err := c.TTL(ctx, "ttl").Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
			t.Fatalf("db %d TTL = %v, %v", db, ttl, err)
		}
		if n, err := c.Exists(ctx, "k0").Result(); db == 0 && (err != nil || n != 0) {
			t.Fatalf("deleted key k0 is back: %d, %v", n, err)
		}
		_ = c.Close()
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Options{Dir: dir})
	if _, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second Start on the same dir: %v, want store.ErrLocked", err)
	}
	if _, err := Start(Options{Addr: s.Addr(), Dir: t.TempDir()}); err == nil {
		t.Fatalf("Start on a used address succeeded")
	}
	if _, err := Start(Options{Addr: "nonsense", Dir: t.TempDir()}); !errors.Is(err, ErrBadAddr) {
		t.Fatalf("bad address: %v, want ErrBadAddr", err)
	}
	if _, err := Start(Options{Addr: "127.0.0.1:0", Dir: t.TempDir(), AppendFsync: "sometimes"}); err == nil {
		t.Fatalf("bad appendfsync accepted")
	}
}

func TestShutdownCommand(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 2, Config: config.New()})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	c := dialRaw(t, s.Addr())
	c.send("SET k v\r\nSHUTDOWN\r\nSET after x\r\n")
	c.expect("+OK\r\n")
	c.expectClosed()
	select {
	case <-s.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("server still running 30s after SHUTDOWN")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close after SHUTDOWN: %v", err)
	}
	s2 := startServer(t, Options{Dir: dir})
	r := dialRaw(t, s2.Addr())
	r.send("GET k\r\nEXISTS after\r\n")
	r.expect("$1\r\nv\r\n:0\r\n")
}

func TestConfigSetLive(t *testing.T) {
	s := startServer(t, Options{})
	c := dialRaw(t, s.Addr())
	c.send("CONFIG SET appendfsync always\r\nSET a 1\r\nCONFIG GET appendfsync\r\n")
	c.expect("+OK\r\n+OK\r\n*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n")
	syncs := s.store.Stats().Syncs
	c.send("SET a 2\r\n")
	c.expect("+OK\r\n")
	if got := s.store.Stats().Syncs; got <= syncs {
		t.Fatalf("appendfsync always: syncs %d -> %d after a SET, want more", syncs, got)
	}
	c.send("CONFIG SET appendfsync no\r\n")
	c.expect("+OK\r\n")

	// requirepass: this connection stays authenticated, a new one is not.
	c.send("CONFIG SET requirepass secret\r\nGET a\r\n")
	c.expect("+OK\r\n$1\r\n2\r\n")
	n := dialRaw(t, s.Addr())
	n.send("GET a\r\nAUTH secret\r\nGET a\r\n")
	n.expect("-NOAUTH Authentication required.\r\n+OK\r\n$1\r\n2\r\n")
	u := dialRaw(t, s.Addr())
	u.send("*11\r\n")
	u.expect("-ERR Protocol error: unauthenticated multibulk length\r\n")
	u.expectClosed()

	// maxclients
	c.send("CONFIG SET maxclients 2\r\n")
	c.expect("+OK\r\n")
	x := dialRaw(t, s.Addr())
	x.expect("-ERR max number of clients reached\r\n")
	x.expectClosed()
	c.send("CONFIG SET port 1\r\n")
	c.expect("-ERR CONFIG SET failed (possibly related to argument 'port') - " + errRuntimeListen.Error() + "\r\n")

	// capacity resizes the cache live.
	c.send("CONFIG SET capacity 64\r\nCONFIG GET capacity\r\n")
	c.expect("+OK\r\n*2\r\n$8\r\ncapacity\r\n$2\r\n64\r\n")
	if got := s.cache.Capacity(); got != 64 {
		t.Fatalf("cache capacity = %d after CONFIG SET capacity 64", got)
	}
}

func TestSaveAndBGSave(t *testing.T) {
	s := startServer(t, Options{AppendFsync: "no"})
	c := dialRaw(t, s.Addr())
	c.send("SET a 1\r\n")
	c.expect("+OK\r\n")
	syncs := s.store.Stats().Syncs
	c.send("SAVE\r\n")
	c.expect("+OK\r\n")
	if got := s.store.Stats().Syncs; got != syncs+1 {
		t.Fatalf("SAVE: syncs %d -> %d, want one more", syncs, got)
	}
	c.send("SET a 2\r\nBGSAVE\r\n")
	c.expect("+OK\r\n+Background saving started\r\n")
	deadline := time.Now().Add(10 * time.Second)
	for s.store.Stats().Syncs != syncs+2 {
		if time.Now().After(deadline) {
			t.Fatalf("BGSAVE did not sync")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEverysecSyncs(t *testing.T) {
	s := startServer(t, Options{AppendFsync: "everysec"})
	c := dialRaw(t, s.Addr())
	c.send("SET a 1\r\n")
	c.expect("+OK\r\n")
	syncs := s.store.Stats().Syncs
	deadline := time.Now().Add(10 * time.Second)
	for s.store.Stats().Syncs == syncs {
		if time.Now().After(deadline) {
			t.Fatalf("everysec: no sync within 10s of a write")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestIdleTimeoutDirective(t *testing.T) {
	s := startServer(t, Options{})
	c := dialRaw(t, s.Addr())
	c.send("CONFIG SET timeout 1\r\n")
	c.expect("+OK\r\n")
	c.expectClosed() // idle for over a second
}

// TestBGRewriteAOF: BGREWRITEAOF runs the store's compaction in the
// background; the overwritten records' space is reclaimed, INFO counts the
// rewrite, and every live value is intact afterwards and after a restart.
func TestBGRewriteAOF(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Options{Dir: dir, SegmentSize: 1 << 20})
	c := dialRaw(t, s.Addr())
	var batch strings.Builder
	var want strings.Builder
	for round := 0; round < 5; round++ {
		batch.Reset()
		want.Reset()
		for i := 0; i < 500; i++ {
			fmt.Fprintf(&batch, "SET key:%d %s\r\n", i, strings.Repeat(strconv.Itoa(round), 900))
			want.WriteString("+OK\r\n")
		}
		c.send(batch.String())
		c.expect(want.String())
	}
	c.send("BGREWRITEAOF\r\n")
	c.expect("+Background append only file rewriting started\r\n")
	deadline := time.Now().Add(30 * time.Second)
	for s.store.Stats().Compactions == 0 {
		if time.Now().After(deadline) {
			t.Fatal("compaction did not complete within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := s.store.Stats(); st.Reclaimed <= 0 {
		t.Fatalf("reclaimed %d bytes after rewriting 5 generations of values, want > 0", st.Reclaimed)
	}
	c.send("GET key:7\r\nDBSIZE\r\n")
	c.expect("$900\r\n" + strings.Repeat("4", 900) + "\r\n:500\r\n")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, Options{Dir: dir, SegmentSize: 1 << 20})
	c = dialRaw(t, s.Addr())
	c.send("GET key:499\r\nDBSIZE\r\n")
	c.expect("$900\r\n" + strings.Repeat("4", 900) + "\r\n:500\r\n")
}

// Options.RoundSpin and RoundWait: 0 is the default, negative is off.
func TestRoundOptions(t *testing.T) {
	for _, tc := range []struct{ opt, def, want time.Duration }{
		{0, DefaultRoundSpin, DefaultRoundSpin},
		{0, DefaultRoundWait, DefaultRoundWait},
		{-1, DefaultRoundWait, 0},
		{5 * time.Microsecond, DefaultRoundSpin, 5 * time.Microsecond},
	} {
		if got := orDefault(tc.opt, tc.def); got != tc.want {
			t.Errorf("orDefault(%v, %v) = %v, want %v", tc.opt, tc.def, got, tc.want)
		}
	}
}
