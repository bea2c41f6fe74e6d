package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// TestHashPersistence checks that a hash built by many writes (chained
// operations and folds), partly deleted, renamed and given a TTL, reads
// the same after a restart of the cache over the same directory, and that
// a tiny cache (evicting the decoded hash between commands) sees the same.
func TestHashPersistence(t *testing.T) {
	for _, capacity := range []int{1, 1000} {
		t.Run(fmt.Sprintf("capacity%d", capacity), func(t *testing.T) {
			dir := t.TempDir()
			open := func() *Server {
				st, err := store.Open(dir, store.Options{})
				if err != nil {
					t.Fatalf("store.Open: %v", err)
				}
				c, err := cache.Open(st, cache.Options{Capacity: capacity, Shards: 1, NoActiveExpiry: true})
				if err != nil {
					t.Fatalf("cache.Open: %v", err)
				}
				return NewServer(c, nil, nil)
			}
			s := open()
			cl := s.NewClient()
			for i := range 2000 {
				f, v := fmt.Sprintf("f%d", i%300), fmt.Sprintf("v%d\r\n\x00", i)
				do(t, s, cl, "HSET", "h", f, v)
				if i%7 == 0 {
					do(t, s, cl, "HDEL", "h", fmt.Sprintf("f%d", (i+11)%300))
				}
				if i%50 == 0 {
					do(t, s, cl, "SET", fmt.Sprintf("other%d", i), "x") // churn the cache
					do(t, s, cl, "GET", fmt.Sprintf("other%d", i))
				}
			}
			do(t, s, cl, "HINCRBY", "h", "n", "41")
			do(t, s, cl, "HINCRBYFLOAT", "h", "x", "0.5")
			do(t, s, cl, "HSET", "gone", "a", "1")
			do(t, s, cl, "HDEL", "gone", "a")
			do(t, s, cl, "HSET", "r", "a", "1", "b", "2")
			do(t, s, cl, "RENAME", "r", "r2")
			do(t, s, cl, "HSET", "r2", "c", "3")
			require_Equal(t, do(t, s, cl, "EXPIRE", "h", "1000"), kvInt("1"))
			all := do(t, s, cl, "HGETALL", "h")
			hlen := do(t, s, cl, "HLEN", "h")
			if len(all) < 5000 || hlen == kvInt("0") {
				t.Fatalf("hash too small: HLEN %q", hlen)
			}
			r2 := do(t, s, cl, "HGETALL", "r2")
			require_Equal(t, r2, "*6\r\n"+kvBulk("a")+kvBulk("1")+kvBulk("b")+kvBulk("2")+kvBulk("c")+kvBulk("3"))
			if err := s.Cache.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
			defer s.Cache.Close()
			cl = s.NewClient()
			require_Equal(t, do(t, s, cl, "HGETALL", "h"), all)
			require_Equal(t, do(t, s, cl, "HLEN", "h"), hlen)
			require_Equal(t, do(t, s, cl, "HGETALL", "r2"), r2)
			require_Equal(t, do(t, s, cl, "EXISTS", "gone", "r"), kvInt("0"))
			require_Equal(t, do(t, s, cl, "TYPE", "h"), "+hash\r\n")
			require_Equal(t, do(t, s, cl, "HGET", "h", "n"), kvBulk("41"))
			require_Equal(t, do(t, s, cl, "HGET", "h", "x"), kvBulk("0.5"))
			if ttl := do(t, s, cl, "TTL", "h"); ttl == kvInt("-1") || ttl == kvInt("-2") {
				t.Fatalf("TTL after restart: %q", ttl)
			}
			require_Equal(t, do(t, s, cl, "GET", "h"), kvErr(ErrWrongType))
		})
	}
}

// TestHashKeyspaceStats checks which hash commands count keyspace_hits
// and keyspace_misses: Redis 7.0.15's counters after each command of the
// same sequence (reads count, writes and HSETNX/HDEL/HINCRBY* do not).
func TestHashKeyspaceStats(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	steps := []struct {
		cmd          string
		hits, misses uint64
	}{
		{"HSET h a 1", 0, 0},
		{"HGET h a", 1, 0},
		{"HGET n a", 1, 1},
		{"HMGET h a b", 2, 1},
		{"HMGET n a", 2, 2},
		{"HSETNX h b 2", 2, 2},
		{"HDEL h zz", 2, 2},
		{"HEXISTS h a", 3, 2},
		{"HLEN n", 3, 3},
		{"HSTRLEN h a", 4, 3},
		{"HKEYS h", 5, 3},
		{"HVALS n", 5, 4},
		{"HGETALL h", 6, 4},
		{"HINCRBY h c 1", 6, 4},
		{"HINCRBYFLOAT h c 1", 6, 4},
		{"HRANDFIELD h", 7, 4},
		{"HRANDFIELD n 2", 7, 5},
		{"HSCAN h 0", 8, 5},
		{"HSCAN n 0", 8, 6},
		{"SET s v", 8, 6},
		{"HGET s a", 9, 6},
	}
	for _, st := range steps {
		do(t, s, cl, strings.Fields(st.cmd)...)
		h, m := s.Stats.KeyspaceHits.Load(), s.Stats.KeyspaceMisses.Load()
		if h != st.hits || m != st.misses {
			t.Fatalf("after %s: hits %d misses %d, want %d %d", st.cmd, h, m, st.hits, st.misses)
		}
	}
}
