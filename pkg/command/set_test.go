package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// TestSetErrors checks every error reply of the set commands against the
// strings Redis 7.0.15 gives for the same commands (s is a set, str a
// string).
func TestSetErrors(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	do(t, s, cl, "SADD", "s", "a", "b", "c")
	do(t, s, cl, "SET", "str", "x")
	arity := func(name string) string { return kvErr("ERR wrong number of arguments for '" + name + "' command") }
	tests := []struct {
		name, cmd, want string
	}{
		{"sadd arity", "SADD s", arity("sadd")},
		{"srem arity", "SREM s", arity("srem")},
		{"sismember arity", "SISMEMBER s", arity("sismember")},
		{"smismember arity", "SMISMEMBER s", arity("smismember")},
		{"smembers arity", "SMEMBERS s x", arity("smembers")},
		{"scard arity", "SCARD", arity("scard")},
		{"smove arity", "SMOVE s d", arity("smove")},
		{"sinter arity", "SINTER", arity("sinter")},
		{"sintercard arity", "SINTERCARD 1", arity("sintercard")},
		{"sunionstore arity", "SUNIONSTORE d", arity("sunionstore")},
		{"sscan arity", "SSCAN s", arity("sscan")},
		{"sadd wrongtype", "SADD str a", kvErr(ErrWrongType)},
		{"srem wrongtype", "SREM str a", kvErr(ErrWrongType)},
		{"smembers wrongtype", "SMEMBERS str", kvErr(ErrWrongType)},
		{"sinter wrongtype after missing", "SINTER nokey str", kvErr(ErrWrongType)},
		{"sdiffstore wrongtype", "SDIFFSTORE d nokey str", kvErr(ErrWrongType)},
		{"smove dst wrongtype", "SMOVE s str a", kvErr(ErrWrongType)},
		{"smove missing src", "SMOVE nokey str a", kvInt("0")},
		{"spop not integer", "SPOP s x", kvErr("ERR value is out of range, must be positive")},
		{"spop negative", "SPOP s -1", kvErr("ERR value is out of range, must be positive")},
		{"spop syntax", "SPOP s 1 2", kvErr(ErrSyntax)},
		{"srandmember not integer", "SRANDMEMBER s x", kvErr(ErrNotInteger)},
		{"srandmember min", "SRANDMEMBER s -9223372036854775808", kvErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
		{"srandmember syntax", "SRANDMEMBER s 1 2", kvErr(ErrSyntax)},
		{"sintercard numkeys zero", "SINTERCARD 0 s", kvErr("ERR numkeys should be greater than 0")},
		{"sintercard numkeys text", "SINTERCARD x s", kvErr("ERR numkeys should be greater than 0")},
		{"sintercard too many", "SINTERCARD 3 s", kvErr("ERR Number of keys can't be greater than number of args")},
		{"sintercard limit negative", "SINTERCARD 1 s LIMIT -1", kvErr("ERR LIMIT can't be negative")},
		{"sintercard limit text", "SINTERCARD 1 s LIMIT x", kvErr("ERR LIMIT can't be negative")},
		{"sintercard limit missing", "SINTERCARD 1 s LIMIT", kvErr(ErrSyntax)},
		{"sintercard unknown option", "SINTERCARD 1 s FOO", kvErr(ErrSyntax)},
		{"sintercard limit", "SINTERCARD 1 s LIMIT 2", kvInt("2")},
		{"sintercard wrongtype", "SINTERCARD 2 nokey str", kvErr(ErrWrongType)},
		{"sscan cursor", "SSCAN s x", kvErr("ERR invalid cursor")},
		{"sscan count zero", "SSCAN s 0 COUNT 0", kvErr(ErrSyntax)},
		{"sscan count text", "SSCAN s 0 COUNT x", kvErr(ErrNotInteger)},
		{"sscan option", "SSCAN s 0 FOO bar", kvErr(ErrSyntax)},
		{"sscan wrongtype", "SSCAN str 0", kvErr(ErrWrongType)},
		{"get of a set", "GET s", kvErr(ErrWrongType)},
		{"type", "TYPE s", "+set\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require_Equal(t, do(t, s, cl, strings.Fields(tc.cmd)...), tc.want)
		})
	}
}

// TestSetPersistence checks that sets built by many writes (chained
// operations and folds), popped, moved and stored read the same after a
// restart of the cache over the same directory, with a tiny cache
// (evicting the decoded set between commands) and a large one.
func TestSetPersistence(t *testing.T) {
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
				do(t, s, cl, "SADD", "s", fmt.Sprintf("m%d\r\n\x00", i%500))
				if i%7 == 0 {
					do(t, s, cl, "SREM", "s", fmt.Sprintf("m%d\r\n\x00", (i+11)%500))
				}
				if i%50 == 0 {
					do(t, s, cl, "SET", fmt.Sprintf("other%d", i), "x") // churn the cache
					do(t, s, cl, "GET", fmt.Sprintf("other%d", i))
					do(t, s, cl, "SPOP", "s")
					do(t, s, cl, "SMOVE", "s", "moved", fmt.Sprintf("m%d\r\n\x00", i%500))
				}
			}
			do(t, s, cl, "SPOP", "s", "3")
			do(t, s, cl, "SADD", "gone", "a")
			do(t, s, cl, "SREM", "gone", "a")
			do(t, s, cl, "SADD", "t", "a", "b", "c")
			do(t, s, cl, "SUNIONSTORE", "u", "t", "moved")
			do(t, s, cl, "SINTERSTORE", "t", "t", "nokey")
			require_Equal(t, do(t, s, cl, "EXPIRE", "s", "1000"), kvInt("1"))
			members := do(t, s, cl, "SMEMBERS", "s")
			card := do(t, s, cl, "SCARD", "s")
			if len(members) < 1000 || card == kvInt("0") {
				t.Fatalf("set too small: SCARD %q", card)
			}
			moved := do(t, s, cl, "SMEMBERS", "moved")
			u := do(t, s, cl, "SMEMBERS", "u")
			if err := s.Cache.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
			defer s.Cache.Close()
			cl = s.NewClient()
			require_Equal(t, do(t, s, cl, "SMEMBERS", "s"), members)
			require_Equal(t, do(t, s, cl, "SCARD", "s"), card)
			require_Equal(t, do(t, s, cl, "SMEMBERS", "moved"), moved)
			require_Equal(t, do(t, s, cl, "SMEMBERS", "u"), u)
			require_Equal(t, do(t, s, cl, "EXISTS", "gone", "t"), kvInt("0"))
			require_Equal(t, do(t, s, cl, "TYPE", "s"), "+set\r\n")
			if ttl := do(t, s, cl, "TTL", "s"); ttl == kvInt("-1") || ttl == kvInt("-2") {
				t.Fatalf("TTL after restart: %q", ttl)
			}
			require_Equal(t, do(t, s, cl, "GET", "s"), kvErr(ErrWrongType))
		})
	}
}

// TestSetKeyspaceStats checks which set commands count keyspace_hits and
// keyspace_misses: Redis 7.0.15's counters after each command of the same
// sequence (reads and the sources of *STORE count, writes do not).
func TestSetKeyspaceStats(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	steps := []struct {
		cmd          string
		hits, misses uint64
	}{
		{"SADD s a b", 0, 0},
		{"SISMEMBER s a", 1, 0},
		{"SISMEMBER n a", 1, 1},
		{"SMISMEMBER s a", 2, 1},
		{"SMEMBERS n", 2, 2},
		{"SCARD s", 3, 2},
		{"SREM s zz", 3, 2},
		{"SPOP n", 3, 2},
		{"SPOP s 0", 3, 2},
		{"SRANDMEMBER s", 4, 2},
		{"SRANDMEMBER n 2", 4, 3},
		{"SMOVE s d zz", 4, 3},
		{"SINTER s n", 5, 4},
		{"SUNION s n", 6, 5},
		{"SDIFF s", 7, 5},
		{"SINTERSTORE d s n", 8, 6},
		{"SUNIONSTORE d s n", 9, 7},
		{"SDIFFSTORE d s", 10, 7},
		{"SINTERCARD 2 s n", 11, 8},
		{"SSCAN s 0", 12, 8},
		{"SSCAN n 0", 12, 9},
		{"SET str v", 12, 9},
		{"SISMEMBER str a", 13, 9},
	}
	for _, st := range steps {
		do(t, s, cl, strings.Fields(st.cmd)...)
		h, m := s.Stats.KeyspaceHits.Load(), s.Stats.KeyspaceMisses.Load()
		if h != st.hits || m != st.misses {
			t.Fatalf("after %s: hits %d misses %d, want %d %d", st.cmd, h, m, st.hits, st.misses)
		}
	}
}
