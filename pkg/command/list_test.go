package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// lsArr is the RESP array of bulk strings elems.
func lsArr(elems ...string) string {
	s := "*" + itoa(len(elems)) + "\r\n"
	for _, e := range elems {
		s += kvBulk(e)
	}
	return s
}

// TestListCommands runs each list command's replies and every error
// string, in order on one client, as Redis 7.0.15 gives them (checked
// against redis-server, see test/diff/testdata/list.txt).
func TestListCommands(t *testing.T) {
	s := newTestServer(t, nil)
	nullArr3, null3 := "_\r\n", "_\r\n"
	steps := []kvStep{
		{args: kvA("RPUSH", "l", "a", "b", "c"), want: kvInt("3")},
		{args: kvA("LPUSH", "l", "x", "y"), want: kvInt("5")},
		{args: kvA("LRANGE", "l", "0", "-1"), want: lsArr("y", "x", "a", "b", "c")},
		{args: kvA("LPUSHX", "none", "a"), want: kvInt("0")},
		{args: kvA("RPUSHX", "l", "z"), want: kvInt("6")},
		{args: kvA("LPUSH", "l"), want: kvErr("ERR wrong number of arguments for 'lpush' command")},
		{args: kvA("LLEN", "l"), want: kvInt("6")},
		{args: kvA("LLEN", "none"), want: kvInt("0")},
		{args: kvA("LINDEX", "l", "-1"), want: kvBulk("z")},
		{args: kvA("LINDEX", "l", "6"), want: "$-1\r\n"},
		{args: kvA("LINDEX", "l", "abc"), want: kvErr(ErrNotInteger)},
		{args: kvA("LINDEX", "none", "abc"), want: "$-1\r\n"},
		{args: kvA("LRANGE", "l", "abc", "0"), want: kvErr(ErrNotInteger)},
		{args: kvA("LRANGE", "l", "-2", "100"), want: lsArr("c", "z")},
		{args: kvA("LSET", "none", "0", "v"), want: kvErr("ERR no such key")},
		{args: kvA("LSET", "l", "abc", "v"), want: kvErr(ErrNotInteger)},
		{args: kvA("LSET", "l", "6", "v"), want: kvErr("ERR index out of range")},
		{args: kvA("LSET", "l", "-6", "Y"), want: "+OK\r\n"},
		{args: kvA("LINSERT", "l", "MIDDLE", "a", "v"), want: kvErr(ErrSyntax)},
		{args: kvA("LINSERT", "l", "BEFORE", "nopivot", "v"), want: kvInt("-1")},
		{args: kvA("LINSERT", "none", "BEFORE", "a", "v"), want: kvInt("0")},
		{args: kvA("LINSERT", "l", "after", "a", "a2"), want: kvInt("7")},
		{args: kvA("LRANGE", "l", "0", "-1"), want: lsArr("Y", "x", "a", "a2", "b", "c", "z")},
		{args: kvA("LREM", "l", "abc", "a"), want: kvErr(ErrNotInteger)},
		{args: kvA("LREM", "l", "-9223372036854775808", "a2"), want: kvInt("1")},
		{args: kvA("LTRIM", "l", "1", "abc"), want: kvErr(ErrNotInteger)},
		{args: kvA("LTRIM", "l", "1", "-2"), want: "+OK\r\n"},
		{args: kvA("LRANGE", "l", "0", "-1"), want: lsArr("x", "a", "b", "c")},
		{args: kvA("LPOS", "l", "a", "RANK", "0"), want: kvErr("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")},
		{args: kvA("LPOS", "l", "a", "RANK", "x"), want: kvErr(ErrNotInteger)},
		{args: kvA("LPOS", "l", "a", "COUNT", "-1"), want: kvErr("ERR COUNT can't be negative")},
		{args: kvA("LPOS", "l", "a", "COUNT", "x"), want: kvErr("ERR COUNT can't be negative")},
		{args: kvA("LPOS", "l", "a", "MAXLEN", "-1"), want: kvErr("ERR MAXLEN can't be negative")},
		{args: kvA("LPOS", "l", "a", "MAXLEN"), want: kvErr(ErrSyntax)},
		{args: kvA("LPOS", "l", "a"), want: kvInt("1")},
		{args: kvA("LPOS", "l", "a", "COUNT", "0"), want: "*1\r\n" + kvInt("1")},
		{args: kvA("LPOS", "l", "q"), want: "$-1\r\n"},
		{args: kvA("LPOS", "none", "q", "COUNT", "2"), want: "*0\r\n"},
		{args: kvA("LPOP", "l", "-1"), want: kvErr("ERR value is out of range, must be positive")},
		{args: kvA("LPOP", "l", "x"), want: kvErr("ERR value is out of range, must be positive")},
		{args: kvA("LPOP", "l", "1", "2"), want: kvErr("ERR wrong number of arguments for 'lpop' command")},
		{args: kvA("LPOP", "l", "0"), want: "*0\r\n"},
		{args: kvA("LPOP", "none", "0"), want: "*-1\r\n"},
		{args: kvA("LPOP", "none"), want: "$-1\r\n"},
		{args: kvA("LPOP", "l"), want: kvBulk("x")},
		{args: kvA("RPOP", "l", "2"), want: lsArr("c", "b")},
		{args: kvA("LMOVE", "l", "d", "UP", "LEFT"), want: kvErr(ErrSyntax)},
		{args: kvA("LMOVE", "l", "d", "LEFT", "RIGHT"), want: kvBulk("a")},
		{args: kvA("EXISTS", "l"), want: kvInt("0")},
		{args: kvA("RPOPLPUSH", "l", "d"), want: "$-1\r\n"},
		{args: kvA("RPUSH", "d", "b"), want: kvInt("2")},
		{args: kvA("RPOPLPUSH", "d", "d"), want: kvBulk("b")},
		{args: kvA("LRANGE", "d", "0", "-1"), want: lsArr("b", "a")},
		{args: kvA("LMPOP", "0", "d", "LEFT"), want: kvErr("ERR numkeys should be greater than 0")},
		{args: kvA("LMPOP", "x", "d", "LEFT"), want: kvErr("ERR numkeys should be greater than 0")},
		{args: kvA("LMPOP", "3", "d", "LEFT"), want: kvErr(ErrSyntax)},
		{args: kvA("LMPOP", "1", "d", "UP"), want: kvErr(ErrSyntax)},
		{args: kvA("LMPOP", "1", "d", "LEFT", "COUNT", "0"), want: kvErr("ERR count should be greater than 0")},
		{args: kvA("LMPOP", "1", "d", "LEFT", "COUNT", "1", "COUNT", "1"), want: kvErr(ErrSyntax)},
		{args: kvA("LMPOP", "2", "none", "d", "RIGHT", "COUNT", "5"), want: "*2\r\n" + kvBulk("d") + lsArr("a", "b")},
		{args: kvA("LMPOP", "1", "d", "LEFT"), want: "*-1\r\n"},
		{args: kvA("SET", "s", "v"), want: "+OK\r\n"},
		{args: kvA("LPUSH", "s", "a"), want: kvErr(ErrWrongType)},
		{args: kvA("LRANGE", "s", "0", "1"), want: kvErr(ErrWrongType)},
		{args: kvA("LMPOP", "2", "none", "s", "LEFT"), want: kvErr(ErrWrongType)},
		{args: kvA("RPUSH", "l2", "a"), want: kvInt("1")},
		{args: kvA("LMOVE", "l2", "s", "LEFT", "LEFT"), want: kvErr(ErrWrongType)},
		{args: kvA("GET", "l2"), want: kvErr(ErrWrongType)},
		{args: kvA("TYPE", "l2"), want: "+list\r\n"},
		{proto: 3},
		{args: kvA("LPOP", "none", "1"), want: nullArr3},
		{args: kvA("LPOP", "none"), want: null3},
		{args: kvA("LMPOP", "1", "none", "LEFT"), want: nullArr3},
		{args: kvA("LPOS", "none", "a"), want: null3},
	}
	kvRun(t, s, steps)
}

// TestListPersistence checks that a list built by many writes (pushes and
// pops at both ends, LSET, LINSERT, LREM, LTRIM, LMOVE: chained
// operations and folds) reads the same after a restart of the cache over
// the same directory, and that a tiny cache (evicting the decoded list
// between commands) sees the same.
func TestListPersistence(t *testing.T) {
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
			for i := range 3000 {
				v := fmt.Sprintf("v%d\r\n\x00", i%97)
				switch i % 11 {
				case 0, 1, 2:
					do(t, s, cl, "RPUSH", "l", v, "x"+v)
				case 3, 4:
					do(t, s, cl, "LPUSH", "l", v)
				case 5:
					do(t, s, cl, "LPOP", "l")
				case 6:
					do(t, s, cl, "RPOP", "l", "2")
				case 7:
					do(t, s, cl, "LSET", "l", fmt.Sprint(i%13-6), "set"+v)
				case 8:
					do(t, s, cl, "LINSERT", "l", "AFTER", fmt.Sprintf("v%d\r\n\x00", (i+5)%97), "ins")
				case 9:
					do(t, s, cl, "LREM", "l", fmt.Sprint(i%5-2), "ins")
				case 10:
					do(t, s, cl, "LMOVE", "l", "l", "LEFT", "RIGHT")
				}
				if i%500 == 499 {
					do(t, s, cl, "LTRIM", "l", "3", "-4")
				}
				if i%50 == 0 {
					do(t, s, cl, "SET", fmt.Sprintf("other%d", i), "x") // churn the cache
					do(t, s, cl, "GET", fmt.Sprintf("other%d", i))
				}
			}
			do(t, s, cl, "RPUSH", "gone", "a", "b")
			do(t, s, cl, "LMOVE", "gone", "m", "LEFT", "LEFT")
			do(t, s, cl, "RPOPLPUSH", "gone", "m")
			do(t, s, cl, "RPUSH", "t", "a", "b", "c", "d")
			do(t, s, cl, "LTRIM", "t", "1", "2")
			all := do(t, s, cl, "LRANGE", "l", "0", "-1")
			llen := do(t, s, cl, "LLEN", "l")
			if len(all) < 5000 {
				t.Fatalf("list too small: LLEN %q", llen)
			}
			m := do(t, s, cl, "LRANGE", "m", "0", "-1")
			require_Equal(t, m, lsArr("b", "a"))
			require_Equal(t, do(t, s, cl, "LRANGE", "t", "0", "-1"), lsArr("b", "c"))
			if err := s.Cache.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
			defer s.Cache.Close()
			cl = s.NewClient()
			require_Equal(t, do(t, s, cl, "LRANGE", "l", "0", "-1"), all)
			require_Equal(t, do(t, s, cl, "LLEN", "l"), llen)
			require_Equal(t, do(t, s, cl, "LRANGE", "m", "0", "-1"), m)
			require_Equal(t, do(t, s, cl, "LRANGE", "t", "0", "-1"), lsArr("b", "c"))
			require_Equal(t, do(t, s, cl, "EXISTS", "gone"), kvInt("0"))
			require_Equal(t, do(t, s, cl, "TYPE", "l"), "+list\r\n")
			require_Equal(t, do(t, s, cl, "GET", "l"), kvErr(ErrWrongType))
		})
	}
}

// TestListKeyspaceStats checks that the read commands (LLEN LRANGE
// LINDEX LPOS) count keyspace_hits and keyspace_misses and the writes do
// not, as in Redis 7.0.15.
func TestListKeyspaceStats(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	steps := []struct {
		cmd          string
		hits, misses uint64
	}{
		{"RPUSH l a b", 0, 0},
		{"LLEN l", 1, 0},
		{"LLEN n", 1, 1},
		{"LRANGE l 0 -1", 2, 1},
		{"LINDEX n 0", 2, 2},
		{"LPOS l a", 3, 2},
		{"LPOS n a COUNT 0", 3, 3},
		{"LSET l 0 x", 3, 3},
		{"LPOP n", 3, 3},
		{"LMOVE l l LEFT RIGHT", 3, 3},
		{"LMPOP 2 n l LEFT", 3, 3},
		{"LINSERT l BEFORE a b", 3, 3},
		{"LREM l 0 a", 3, 3},
		{"LTRIM n 0 1", 3, 3},
	}
	for _, st := range steps {
		do(t, s, cl, strings.Fields(st.cmd)...)
		h, m := s.Stats.KeyspaceHits.Load(), s.Stats.KeyspaceMisses.Load()
		if h != st.hits || m != st.misses {
			t.Fatalf("after %s: hits %d misses %d, want %d %d", st.cmd, h, m, st.hits, st.misses)
		}
	}
}

// TestListConcurrentMove moves elements between two lists (and rotates
// each) from several clients at once: with both keys locked up front no
// element is lost or duplicated. Run with -race.
func TestListConcurrentMove(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	const n = 200
	for i := range n {
		do(t, s, cl, "RPUSH", "a", fmt.Sprint(i))
	}
	cmds := [][]string{
		{"LMOVE", "a", "b", "LEFT", "RIGHT"},
		{"LMOVE", "b", "a", "RIGHT", "LEFT"},
		{"RPOPLPUSH", "a", "b"},
		{"RPOPLPUSH", "b", "a"},
		{"LMOVE", "a", "a", "LEFT", "RIGHT"},
		{"RPOPLPUSH", "b", "b"},
	}
	done := make(chan string, 4)
	for g := range 4 {
		go func() {
			c := s.NewClient()
			for i := range 500 {
				r := do(t, s, c, cmds[(i*7+g)%len(cmds)]...)
				if strings.HasPrefix(r, "-") {
					done <- r
					return
				}
			}
			done <- ""
		}()
	}
	for range 4 {
		if r := <-done; r != "" {
			t.Fatalf("error reply %q", r)
		}
	}
	seen := make(map[string]bool)
	for _, k := range []string{"a", "b"} {
		for _, e := range kvParseBulks(t, do(t, s, cl, "LRANGE", k, "0", "-1")) {
			if seen[e] {
				t.Fatalf("element %q twice", e)
			}
			seen[e] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("%d elements after the moves, want %d", len(seen), n)
	}
}
