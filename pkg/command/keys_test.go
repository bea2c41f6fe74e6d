package command

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// cacheOpen opens a cache over st with active expiry off.
func cacheOpen(st *store.Store) (*cache.Cache, error) {
	return cache.Open(st, cache.Options{Capacity: 1000, NoActiveExpiry: true})
}

// Expectations in these tables were checked against redis-server 7.0.15.

// kvParseBulks decodes a RESP array of bulk strings.
func kvParseBulks(t *testing.T, r string) []string {
	t.Helper()
	if !strings.HasPrefix(r, "*") {
		t.Fatalf("not an array: %q", r)
	}
	i := strings.Index(r, "\r\n")
	n, err := strconv.Atoi(r[1:i])
	if err != nil {
		t.Fatalf("bad array header in %q", r)
	}
	r = r[i+2:]
	out := make([]string, 0, n)
	for range n {
		if !strings.HasPrefix(r, "$") {
			t.Fatalf("not a bulk: %q", r)
		}
		i = strings.Index(r, "\r\n")
		l, err := strconv.Atoi(r[1:i])
		if err != nil {
			t.Fatalf("bad bulk header in %q", r)
		}
		out = append(out, r[i+2:i+2+l])
		r = r[i+2+l+2:]
	}
	if r != "" {
		t.Fatalf("trailing bytes %q", r)
	}
	return out
}

func TestDelExistsTouch(t *testing.T) {
	s := newTestServer(t, nil)
	kvRun(t, s, []kvStep{
		{args: kvA("MSET", "a", "1", "b", "2", "c", "3"), want: kvOK},
		{args: kvA("EXISTS", "a", "b", "c", "c", "c", "zz"), want: kvInt("5")},
		{args: kvA("TOUCH", "c", "c", "zz"), want: kvInt("2")},
		{args: kvA("DEL", "a", "a", "b", "zz"), want: kvInt("2")},
		{args: kvA("EXISTS", "a", "b"), want: kvInt("0")},
		{args: kvA("UNLINK", "c", "zz"), want: kvInt("1")},
		{args: kvA("DEL", "c"), want: kvInt("0")},
		{args: kvA("DEL"), want: kvErr("ERR wrong number of arguments for 'del' command")},
		{args: kvA("EXISTS"), want: kvErr("ERR wrong number of arguments for 'exists' command")},
		{args: kvA("TOUCH"), want: kvErr("ERR wrong number of arguments for 'touch' command")},
		{args: kvA("UNLINK"), want: kvErr("ERR wrong number of arguments for 'unlink' command")},
	})
}

func TestType(t *testing.T) {
	s := newTestServer(t, nil)
	for key, kind := range map[string]store.Kind{"h": store.KindHash, "l": store.KindList, "s": store.KindSet, "z": store.KindZSet} {
		kvSetKind(t, s, key, kind)
	}
	kvRun(t, s, []kvStep{
		{args: kvA("SET", "k", "v"), want: kvOK},
		{args: kvA("TYPE", "k"), want: "+string\r\n"},
		{args: kvA("TYPE", "h"), want: "+hash\r\n"},
		{args: kvA("TYPE", "l"), want: "+list\r\n"},
		{args: kvA("TYPE", "s"), want: "+set\r\n"},
		{args: kvA("TYPE", "z"), want: "+zset\r\n"},
		{args: kvA("TYPE", "nokey"), want: "+none\r\n"},
		{proto: 3, args: kvA("TYPE", "nokey"), want: "+none\r\n"},
	})
}

func TestRename(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindHash)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("RENAME", "zz", "y"), want: kvErr("ERR no such key")},
		{args: kvA("RENAMENX", "zz", "y"), want: kvErr("ERR no such key")},
		{args: kvA("RENAME", "zz", "zz"), want: kvErr("ERR no such key")},
		{args: kvA("SET", "c", "3", "EX", "100"), want: kvOK},
		{args: kvA("RENAME", "c", "c"), want: kvOK},
		{args: kvA("RENAMENX", "c", "c"), want: kvInt("0")},
		{args: kvA("SET", "d", "4"), want: kvOK},
		{args: kvA("RENAMENX", "c", "d"), want: kvInt("0")},
		{args: kvA("RENAME", "c", "d"), want: kvOK},
		{args: kvA("GET", "d"), want: kvBulk("3")},
		{args: kvA("TTL", "d"), want: kvInt("100")}, // the TTL moves with the value
		{args: kvA("EXISTS", "c"), want: kvInt("0")},
		{args: kvA("RENAMENX", "d", "e"), want: kvInt("1")},
		{args: kvA("TTL", "e"), want: kvInt("100")},
		{args: kvA("RENAME", "h", "e"), want: kvOK},
		{args: kvA("TYPE", "e"), want: "+hash\r\n"},
		{args: kvA("RENAME", "e", "a\x00"), want: kvOK},
		{args: kvA("TYPE", "a\x00"), want: "+hash\r\n"},
		{args: kvA("SET", "p", "1"), want: kvOK},
		{args: kvA("RENAME", "p", "a\x00"), want: kvOK},
		{args: kvA("TTL", "a\x00"), want: kvInt("-1")}, // the replaced key's TTL does not survive
	})
}

func TestKeys(t *testing.T) {
	s := newTestServer(t, nil)
	do(t, s, s.NewClient(), "MSET", "one", "1", "two", "2", "three", "3", "four", "4", "a\x00b", "5")
	cases := []struct {
		pat  string
		want []string
	}{
		{"*", []string{"a\x00b", "four", "one", "three", "two"}},
		{"t*", []string{"three", "two"}},
		{"*o*", []string{"four", "one", "two"}},
		{"???", []string{"a\x00b", "one", "two"}},
		{"[a-f]*", []string{"a\x00b", "four"}},
		{"a\x00*", []string{"a\x00b"}},
		{"nomatch", []string{}},
	}
	for _, c := range cases {
		t.Run(strconv.Quote(c.pat), func(t *testing.T) {
			got := kvParseBulks(t, do(t, s, s.NewClient(), "KEYS", c.pat))
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Fatalf("KEYS %q = %q, want %q", c.pat, got, c.want)
			}
		})
	}
}

func TestKeysSkipsExpired(t *testing.T) {
	cs := newKVClockServer(t)
	cl := cs.NewClient()
	do(t, cs.Server, cl, "SET", "a", "1", "PX", "10")
	do(t, cs.Server, cl, "SET", "b", "1")
	cs.now += 10
	require_Equal(t, do(t, cs.Server, cl, "KEYS", "*"), "*1\r\n"+kvBulk("b"))
}

func TestScanErrors(t *testing.T) {
	s := newTestServer(t, nil)
	empty := "*2\r\n" + kvBulk("0") + "*0\r\n"
	kvRun(t, s, []kvStep{
		{args: kvA("SCAN", "x"), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", "18446744073709551616"), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", " 0"), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", "0 "), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", "+"), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", "-"), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", "0x1"), want: kvErr("ERR invalid cursor")},
		{args: kvA("SCAN", "x", "COUNT", "0"), want: kvErr("ERR invalid cursor")}, // the cursor first
		{args: kvA("SCAN", "0", "COUNT", "0"), want: kvSyntax},
		{args: kvA("SCAN", "0", "COUNT", "-1"), want: kvSyntax},
		{args: kvA("SCAN", "0", "COUNT", "x"), want: kvNotInt},
		{args: kvA("SCAN", "0", "MATCH"), want: kvSyntax},
		{args: kvA("SCAN", "0", "TYPE"), want: kvSyntax},
		{args: kvA("SCAN", "0", "COUNT", "5", "COUNT"), want: kvSyntax},
		{args: kvA("SCAN", "0", "foo", "bar"), want: kvSyntax},
		{args: kvA("SCAN"), want: kvErr("ERR wrong number of arguments for 'scan' command")},
		{args: kvA("SCAN", "0"), want: empty},
		{args: kvA("SCAN", ""), want: empty},
		{args: kvA("SCAN", "+0"), want: empty},
		{args: kvA("SCAN", "0", "TYPE", "nosuchtype"), want: empty},
		{args: kvA("SCAN", "0", "count", "9223372036854775807", "match", "*", "type", "string"), want: empty},
	})
}

// TestScanIteration checks SCAN's guarantee: a full iteration returns
// every key present throughout, and the filters apply.
func TestScanIteration(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	want := map[string]bool{}
	for i := range 300 {
		k := "key:" + strconv.Itoa(i)
		do(t, s, cl, "SET", k, "v")
		want[k] = true
	}
	kvSetKind(t, s, "key:hash", store.KindHash)
	for _, c := range []struct {
		name  string
		opts  []string
		match func(string) bool
	}{
		{"all", nil, func(string) bool { return true }},
		{"count", []string{"COUNT", "7"}, func(string) bool { return true }},
		{"match", []string{"MATCH", "key:1*", "COUNT", "50"}, func(k string) bool { return strings.HasPrefix(k, "key:1") }},
		{"type", []string{"TYPE", "HASH"}, func(k string) bool { return k == "key:hash" }},
		{"type-string", []string{"TYPE", "string", "MATCH", "*"}, func(k string) bool { return k != "key:hash" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			seen := map[string]bool{}
			cursor := "0"
			for calls := 0; ; calls++ {
				if calls > 10000 {
					t.Fatal("SCAN does not terminate")
				}
				r := do(t, s, cl, append([]string{"SCAN", cursor}, c.opts...)...)
				// *2 $n cursor *m keys...
				rest := strings.SplitN(r, "\r\n", 4)
				if rest[0] != "*2" {
					t.Fatalf("bad reply %q", r)
				}
				cursor = rest[2]
				for _, k := range kvParseBulks(t, rest[3]) {
					if !c.match(k) {
						t.Fatalf("SCAN %v returned %q", c.opts, k)
					}
					seen[k] = true
				}
				if cursor == "0" {
					break
				}
			}
			for k := range want {
				if c.match(k) && !seen[k] {
					t.Fatalf("SCAN %v missed %q", c.opts, k)
				}
			}
			if c.match("key:hash") && !seen["key:hash"] {
				t.Fatalf("SCAN %v missed key:hash", c.opts)
			}
		})
	}
}

func TestRandomKey(t *testing.T) {
	s := newTestServer(t, nil)
	kvRun(t, s, []kvStep{
		{args: kvA("RANDOMKEY"), want: kvNull2},
		{proto: 3, args: kvA("RANDOMKEY"), want: kvNull3},
		{proto: 2, args: kvA("SET", "only", "1"), want: kvOK},
		{args: kvA("RANDOMKEY"), want: kvBulk("only")},
	})
}

func TestExpire(t *testing.T) {
	cs := newKVClockServer(t)
	nowS := cs.now / 1000
	nx := kvErr("ERR NX and XX, GT or LT options at the same time are not compatible")
	gtlt := kvErr("ERR GT and LT options at the same time are not compatible")
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("EXPIRE", "zz", "10"), want: kvInt("0")},
		{args: kvA("SET", "f", "v"), want: kvOK},
		{args: kvA("EXPIRE", "f", "10", "foo"), want: kvErr("ERR Unsupported option foo")},
		{args: kvA("EXPIRE", "f", "10", "foo\x00bar"), want: kvErr("ERR Unsupported option foo")},
		{args: kvA("EXPIRE", "zz", "abc", "foo"), want: kvErr("ERR Unsupported option foo")}, // options first
		{args: kvA("EXPIRE", "f", "10", "NX", "XX"), want: nx},
		{args: kvA("EXPIRE", "f", "10", "nx", "gt"), want: nx},
		{args: kvA("EXPIRE", "f", "10", "NX", "LT"), want: nx},
		{args: kvA("EXPIRE", "f", "10", "GT", "LT"), want: gtlt},
		{args: kvA("EXPIRE", "f", "10", "XX", "GT", "LT"), want: gtlt},
		{args: kvA("EXPIRE", "f", "abc"), want: kvNotInt},
		{args: kvA("EXPIRE", "f", "1.5"), want: kvNotInt},
		{args: kvA("EXPIRE", "f", "9223372036854775"), want: kvInvalidExpire("expire")},
		{args: kvA("EXPIRE", "f", "9223372036854776"), want: kvInvalidExpire("expire")},
		{args: kvA("EXPIRE", "f", "-9223372036854776"), want: kvInvalidExpire("expire")},
		{args: kvA("PEXPIRE", "f", "9223372036854775807"), want: kvInvalidExpire("pexpire")},
		{args: kvA("EXPIREAT", "f", "9223372036854776"), want: kvInvalidExpire("expireat")},
		{args: kvA("PEXPIREAT", "zz", "9223372036854775807"), want: kvInt("0")},
		// NX XX GT LT
		{args: kvA("EXPIRE", "f", "100", "XX"), want: kvInt("0")},
		{args: kvA("EXPIRE", "f", "100", "GT"), want: kvInt("0")}, // no TTL counts as infinite
		{args: kvA("EXPIRE", "f", "100", "NX"), want: kvInt("1")},
		{args: kvA("EXPIRE", "f", "100", "NX"), want: kvInt("0")},
		{args: kvA("EXPIRE", "f", "50", "XX"), want: kvInt("1")},
		{args: kvA("TTL", "f"), want: kvInt("50")},
		{args: kvA("EXPIRE", "f", "50", "GT"), want: kvInt("0")},
		{args: kvA("EXPIRE", "f", "60", "gt"), want: kvInt("1")},
		{args: kvA("EXPIRE", "f", "60", "LT"), want: kvInt("0")},
		{args: kvA("EXPIRE", "f", "40", "lt", "xx"), want: kvInt("1")},
		{args: kvA("TTL", "f"), want: kvInt("40")},
		{args: kvA("SET", "g", "v"), want: kvOK},
		{args: kvA("EXPIRE", "g", "40", "LT"), want: kvInt("1")}, // no TTL: LT applies
		{args: kvA("PTTL", "g"), want: kvInt("40000")},
		// units and bases
		{args: kvA("PEXPIRE", "g", "1500"), want: kvInt("1")},
		{args: kvA("PTTL", "g"), want: kvInt("1500")},
		{args: kvA("TTL", "g"), want: kvInt("2")}, // rounded to nearest
		{args: kvA("EXPIREAT", "g", itoa(int(nowS+70))), want: kvInt("1")},
		{args: kvA("PEXPIRETIME", "g"), want: kvInt(itoa(int((nowS + 70) * 1000)))},
		{args: kvA("PEXPIREAT", "g", itoa(int(cs.now+1234))), want: kvInt("1")},
		{args: kvA("PTTL", "g"), want: kvInt("1234")},
		{args: kvA("EXPIRETIME", "g"), want: kvInt(itoa(int((cs.now + 1234 + 500) / 1000)))},
		// an expiry at or before now deletes and replies 1
		{args: kvA("EXPIRE", "g", "0"), want: kvInt("1")},
		{args: kvA("EXISTS", "g"), want: kvInt("0")},
		{args: kvA("SET", "g", "v"), want: kvOK},
		{args: kvA("PEXPIREAT", "g", itoa(int(cs.now))), want: kvInt("1")},
		{args: kvA("EXISTS", "g"), want: kvInt("0")},
		{args: kvA("SET", "g", "v"), want: kvOK},
		{args: kvA("EXPIRE", "g", "-9223372036854775"), want: kvInt("1")},
		{args: kvA("EXISTS", "g"), want: kvInt("0")},
		{args: kvA("SET", "g", "v", "EX", "100"), want: kvOK},
		{args: kvA("EXPIRE", "g", "-1", "LT"), want: kvInt("1")},
		{args: kvA("EXISTS", "g"), want: kvInt("0")},
		{args: kvA("EXPIRE", "g"), want: kvErr("ERR wrong number of arguments for 'expire' command")},
	})
}

func TestExpireOtherTypes(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindHash)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("EXPIRE", "h", "10"), want: kvInt("1")},
		{args: kvA("TTL", "h"), want: kvInt("10")},
		{args: kvA("PERSIST", "h"), want: kvInt("1")},
		{args: kvA("TYPE", "h"), want: "+hash\r\n"},
	})
}

func TestTTLPersist(t *testing.T) {
	cs := newKVClockServer(t)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("TTL", "zz"), want: kvInt("-2")},
		{args: kvA("PTTL", "zz"), want: kvInt("-2")},
		{args: kvA("EXPIRETIME", "zz"), want: kvInt("-2")},
		{args: kvA("PEXPIRETIME", "zz"), want: kvInt("-2")},
		{args: kvA("PERSIST", "zz"), want: kvInt("0")},
		{args: kvA("SET", "k", "v"), want: kvOK},
		{args: kvA("TTL", "k"), want: kvInt("-1")},
		{args: kvA("PTTL", "k"), want: kvInt("-1")},
		{args: kvA("EXPIRETIME", "k"), want: kvInt("-1")},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt("-1")},
		{args: kvA("PERSIST", "k"), want: kvInt("0")},
		{args: kvA("PEXPIRE", "k", "2499"), want: kvInt("1")},
		{args: kvA("TTL", "k"), want: kvInt("2")},
		{args: kvA("PEXPIRE", "k", "2500"), want: kvInt("1")},
		{args: kvA("TTL", "k"), want: kvInt("3")},
		{args: kvA("PERSIST", "k"), want: kvInt("1")},
		{args: kvA("PERSIST", "k"), want: kvInt("0")},
		{args: kvA("TTL", "k"), want: kvInt("-1")},
		{args: kvA("PEXPIREAT", "k", "9223372036854775807"), want: kvInt("1")},
		{args: kvA("EXPIRETIME", "k"), want: kvInt("9223372036854776")},
		{args: kvA("TTL", "k"), want: kvInt(itoa(int((9223372036854775807 - cs.now + 500) / 1000)))},
		{args: kvA("PEXPIRE", "k", "10"), want: kvInt("1")},
	})
	cs.now += 9
	kvRun(t, cs.Server, []kvStep{{args: kvA("PTTL", "k"), want: kvInt("1")}})
	cs.now++
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("PTTL", "k"), want: kvInt("-2")},
		{args: kvA("PERSIST", "k"), want: kvInt("0")},
	})
}

func TestSelectDBs(t *testing.T) {
	s := newTestServer(t, nil)
	n := s.Cache.Databases()
	kvRun(t, s, []kvStep{
		{args: kvA("SET", "k", "db0"), want: kvOK},
		{args: kvA("SELECT", "1"), want: kvOK},
		{args: kvA("GET", "k"), want: kvNull2},
		{args: kvA("SET", "k", "db1"), want: kvOK},
		{args: kvA("SET", "k1", "x"), want: kvOK},
		{args: kvA("DBSIZE"), want: kvInt("2")},
		{args: kvA("SELECT", "0"), want: kvOK},
		{args: kvA("GET", "k"), want: kvBulk("db0")},
		{args: kvA("DBSIZE"), want: kvInt("1")},
		{args: kvA("SELECT", itoa(n)), want: kvErr("ERR DB index is out of range")},
		{args: kvA("SELECT", "-1"), want: kvErr("ERR DB index is out of range")},
		{args: kvA("SELECT", "abc"), want: kvNotInt},
		{args: kvA("SELECT", "2147483648"), want: kvErr("ERR value is out of range, value must between -2147483648 and 2147483647")},
		{args: kvA("SELECT"), want: kvErr("ERR wrong number of arguments for 'select' command")},
		// SWAPDB
		{args: kvA("SWAPDB", "0", "1"), want: kvOK},
		{args: kvA("GET", "k"), want: kvBulk("db1")},
		{args: kvA("DBSIZE"), want: kvInt("2")},
		{args: kvA("SWAPDB", "1", "0"), want: kvOK},
		{args: kvA("GET", "k"), want: kvBulk("db0")},
		{args: kvA("SWAPDB", "0", "0"), want: kvOK},
		{args: kvA("SWAPDB", "0", itoa(n)), want: kvErr("ERR DB index is out of range")},
		{args: kvA("SWAPDB", "-1", "0"), want: kvErr("ERR DB index is out of range")},
		{args: kvA("SWAPDB", "x", "y"), want: kvErr("ERR invalid first DB index")},
		{args: kvA("SWAPDB", "0", "y"), want: kvErr("ERR invalid second DB index")},
		{args: kvA("SWAPDB", "2147483648", "0"), want: kvErr("ERR invalid first DB index")},
		{args: kvA("SWAPDB", "0", "-2147483649"), want: kvErr("ERR invalid second DB index")},
		// FLUSHDB / FLUSHALL
		{args: kvA("FLUSHDB", "foo"), want: kvSyntax},
		{args: kvA("FLUSHDB", "SYNC", "ASYNC"), want: kvSyntax},
		{args: kvA("FLUSHALL", "x"), want: kvSyntax},
		{args: kvA("FLUSHDB", "async"), want: kvOK},
		{args: kvA("DBSIZE"), want: kvInt("0")},
		{args: kvA("SELECT", "1"), want: kvOK},
		{args: kvA("DBSIZE"), want: kvInt("2")},
		{args: kvA("FLUSHDB"), want: kvOK},
		{args: kvA("DBSIZE"), want: kvInt("0")},
		{args: kvA("SET", "a", "1"), want: kvOK},
		{args: kvA("SELECT", "2"), want: kvOK},
		{args: kvA("SET", "b", "1"), want: kvOK},
		{args: kvA("FLUSHALL", "SYNC"), want: kvOK},
		{args: kvA("DBSIZE"), want: kvInt("0")},
		{args: kvA("SELECT", "1"), want: kvOK},
		{args: kvA("DBSIZE"), want: kvInt("0")},
		{args: kvA("FLUSHALL"), want: kvOK},
	})
}

// TestPersistence checks that what the commands write survives a restart
// of the cache over the same directory.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	open := func() *Server {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatalf("store.Open: %v", err)
		}
		c, err := cacheOpen(st)
		if err != nil {
			t.Fatalf("cache.Open: %v", err)
		}
		return NewServer(c, nil, nil)
	}
	s := open()
	kvRun(t, s, []kvStep{
		{args: kvA("MSET", "a", "1", "b", "2", "c", "3"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1.5"), want: kvBulk("1.5")},
		{args: kvA("APPEND", "a", "x"), want: kvInt("2")},
		{args: kvA("SETRANGE", "b", "2", "y"), want: kvInt("3")},
		{args: kvA("DEL", "c"), want: kvInt("1")},
		{args: kvA("RENAME", "b", "d"), want: kvOK},
		{args: kvA("EXPIRE", "d", "1000"), want: kvInt("1")},
		{args: kvA("SET", "e", "v", "EX", "1000"), want: kvOK},
		{args: kvA("PERSIST", "e"), want: kvInt("1")},
		{args: kvA("SELECT", "3"), want: kvOK},
		{args: kvA("SET", "x", "db3"), want: kvOK},
	})
	expireAt := do(t, s, s.NewClient(), "PEXPIRETIME", "d")
	if err := s.Cache.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	defer s.Cache.Close()
	kvRun(t, s, []kvStep{
		{args: kvA("MGET", "a", "b", "c", "d", "e", "f"), want: "*6\r\n" + kvBulk("1x") + kvNull2 + kvNull2 + kvBulk("2\x00y") + kvBulk("v") + kvBulk("1.5")},
		{args: kvA("PEXPIRETIME", "d"), want: expireAt},
		{args: kvA("TTL", "e"), want: kvInt("-1")},
		{args: kvA("SELECT", "3"), want: kvOK},
		{args: kvA("GET", "x"), want: kvBulk("db3")},
	})
}

// TestKeyspaceStats checks which commands count keyspace_hits and
// keyspace_misses: Redis 7.0.15's counters after each command of the
// same sequence.
func TestKeyspaceStats(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	steps := []struct {
		cmd          string
		hits, misses uint64
	}{
		{"SET a 1", 0, 0},
		{"EXISTS a b a", 2, 1},
		{"TYPE a", 3, 1},
		{"TYPE b", 3, 2},
		{"TTL a", 4, 2},
		{"PTTL b", 4, 3},
		{"EXPIRETIME a", 5, 3},
		{"TOUCH a b", 6, 4},
		{"GETRANGE a 0 1", 7, 4},
		{"STRLEN b", 7, 5},
		{"GETSET a 2", 8, 5},
		{"GETDEL zz", 8, 6},
		{"GETEX a", 9, 6},
		{"SET a 3 GET", 10, 6},
		{"MGET a b c", 11, 8},
		{"INCR a", 11, 8},
		{"SETNX a 1", 11, 8},
		{"RENAME a b", 11, 8},
		{"EXPIRE b 10", 11, 8},
		{"PERSIST b", 11, 8},
		{"SCAN 0 TYPE string", 12, 8},
		{"SCAN 0 TYPE hash", 13, 8},
		{"RANDOMKEY", 13, 8},
		{"KEYS *", 13, 8},
		{"GET b", 14, 8},
		{"GET a", 14, 9},
	}
	for _, st := range steps {
		do(t, s, cl, strings.Fields(st.cmd)...)
		h, m := s.Stats.KeyspaceHits.Load(), s.Stats.KeyspaceMisses.Load()
		if h != st.hits || m != st.misses {
			t.Fatalf("after %s: hits %d misses %d, want %d %d", st.cmd, h, m, st.hits, st.misses)
		}
	}
}

func TestReplyStoreErrors(t *testing.T) {
	s := newTestServer(t, nil)
	cases := []struct {
		err  error
		want string
	}{
		{store.ErrNoSpace, "-MISCONF Errors writing to the AOF file: No space left on device\r\n"},
		{fmt.Errorf("append: %w", syscall.ENOSPC), "-MISCONF Errors writing to the AOF file: No space left on device\r\n"},
		{store.ErrReadOnly, "-MISCONF Errors writing to the AOF file: Input/output error\r\n"},
		{fmt.Errorf("%w: %w", store.ErrReadOnly, syscall.EROFS), "-MISCONF Errors writing to the AOF file: Read-only file system\r\n"},
		{store.ErrValueTooLarge, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"},
		{fmt.Errorf("%w: segment 3 offset 9", store.ErrCorrupt), "-ERR store: corrupt data: segment 3 offset 9\r\n"},
	}
	for _, c := range cases {
		x := &Ctx{S: s, C: s.NewClient()}
		keyReplyErr(x, c.err)
		require_Equal(t, string(x.Out), c.want)
	}
}
