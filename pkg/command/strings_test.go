package command

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// Expectations in these tables were checked against redis-server 7.0.15.

// step is one command of a scripted test and its exact expected reply.
// A step with proto set switches the client's RESP version first.
type kvStep struct {
	args  []string
	want  string
	proto int
}

// a builds an argument list.
func kvA(args ...string) []string { return args }

// clockServer is a test server whose cache clock the test sets.
type kvClockServer struct {
	*Server
	now int64 // Unix ms returned by the cache clock
}

// newClockServer returns a server over a fresh store and a cache whose
// clock is cs.now (starting at a fixed instant), without active expiry.
func newKVClockServer(t *testing.T) *kvClockServer {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	cs := &kvClockServer{now: 1_700_000_000_000}
	c, err := cache.Open(st, cache.Options{Capacity: 1000, Now: func() int64 { return cs.now }, NoActiveExpiry: true})
	if err != nil {
		st.Close()
		t.Fatalf("cache.Open: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	cs.Server = NewServer(c, nil, nil)
	return cs
}

// run executes steps in order on one client and reports every mismatch.
func kvRun(t *testing.T, s *Server, steps []kvStep) {
	t.Helper()
	cl := s.NewClient()
	for i, st := range steps {
		if st.proto != 0 {
			cl.Proto = st.proto
		}
		if st.args == nil {
			continue
		}
		got := do(t, s, cl, st.args...)
		if got != st.want {
			t.Errorf("step %d %q: got %q, want %q", i, st.args, got, st.want)
		}
	}
}

// setKind stores a value of another type than string under key in db 0,
// as the collection commands would, for WRONGTYPE tests.
func kvSetKind(t *testing.T, s *Server, key string, kind store.Kind) {
	t.Helper()
	tx := s.Cache.Lock([]byte(key))
	err := tx.Set(0, []byte(key), cache.Value{Kind: kind, Str: []byte("x")})
	tx.Unlock()
	if err != nil {
		t.Fatalf("Set %s: %v", key, err)
	}
}

const (
	kvOK        = "+OK\r\n"
	kvNull2     = "$-1\r\n"
	kvNull3     = "_\r\n"
	kvEmpty     = "$0\r\n\r\n"
	kvWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	kvSyntax    = "-ERR syntax error\r\n"
	kvNotInt    = "-ERR value is not an integer or out of range\r\n"
	kvNotFloat  = "-ERR value is not a valid float\r\n"
)

func kvBulk(s string) string { return "$" + itoa(len(s)) + "\r\n" + s + "\r\n" }
func kvInt(n string) string  { return ":" + n + "\r\n" }
func kvErr(s string) string  { return "-" + s + "\r\n" }

func kvInvalidExpire(cmd string) string {
	return kvErr("ERR invalid expire time in '" + cmd + "' command")
}

func TestGetSet(t *testing.T) {
	s := newTestServer(t, nil)
	kvSetKind(t, s, "h", store.KindHash)
	kvRun(t, s, []kvStep{
		{args: kvA("GET", "k"), want: kvNull2},
		{args: kvA("SET", "k", "v"), want: kvOK},
		{args: kvA("GET", "k"), want: kvBulk("v")},
		{args: kvA("set", "k", "a\x00b\r\nc\xff"), want: kvOK},
		{args: kvA("get", "k"), want: kvBulk("a\x00b\r\nc\xff")},
		{args: kvA("SET", "e", ""), want: kvOK},
		{args: kvA("GET", "e"), want: kvEmpty},
		{args: kvA("GET", "h"), want: kvWrongType},
		{args: kvA("SET", "h", "v", "GET"), want: kvWrongType},
		{args: kvA("GET", "h"), want: kvWrongType}, // SET ... GET failed: nothing changed
		{args: kvA("SET", "h", "s"), want: kvOK},   // plain SET replaces any type
		{args: kvA("GET", "h"), want: kvBulk("s")},
		{args: kvA("GET"), want: kvErr("ERR wrong number of arguments for 'get' command")},
		{args: kvA("GET", "k", "x"), want: kvErr("ERR wrong number of arguments for 'get' command")},
		{args: kvA("SET", "k"), want: kvErr("ERR wrong number of arguments for 'set' command")},
		{proto: 3, args: kvA("GET", "nokey"), want: kvNull3},
	})
}

func TestSetOptions(t *testing.T) {
	cs := newKVClockServer(t)
	now := cs.now
	ms := func(d int64) string { return itoa(int(now + d)) }
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("SET", "k", "v", "EX"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "EX", "0"), want: kvInvalidExpire("set")},
		{args: kvA("SET", "k", "v", "EX", "-1"), want: kvInvalidExpire("set")},
		{args: kvA("SET", "k", "v", "PX", "0"), want: kvInvalidExpire("set")},
		{args: kvA("SET", "k", "v", "EXAT", "0"), want: kvInvalidExpire("set")},
		{args: kvA("SET", "k", "v", "EX", "abc"), want: kvNotInt},
		{args: kvA("SET", "k", "v", "EX", "9223372036854775"), want: kvInvalidExpire("set")}, // *1000 + now overflows
		{args: kvA("SET", "k", "v", "EX", "9223372036854776"), want: kvInvalidExpire("set")}, // > LLONG_MAX/1000
		{args: kvA("SET", "k", "v", "PX", "9223372036854775807"), want: kvInvalidExpire("set")},
		{args: kvA("SET", "k", "v", "NX", "XX"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "XX", "NX"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "EX", "10", "PX", "10"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "EX", "10", "KEEPTTL"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "KEEPTTL", "EX", "10"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "EXAT", "10", "PXAT", "10"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "PERSIST"), want: kvSyntax},
		{args: kvA("SET", "k", "v", "n\x00x"), want: kvSyntax},
		{args: kvA("GET", "k"), want: kvNull2},
		// NX / XX
		{args: kvA("SET", "k", "v", "XX"), want: kvNull2},
		{args: kvA("SET", "k", "v", "nx", "NX"), want: kvOK},
		{args: kvA("SET", "k", "w", "NX"), want: kvNull2},
		{args: kvA("SET", "k", "w", "xx"), want: kvOK},
		{args: kvA("GET", "k"), want: kvBulk("w")},
		// expiries
		{args: kvA("SET", "k", "v", "EX", "10", "EX", "20"), want: kvOK},
		{args: kvA("PTTL", "k"), want: kvInt("20000")},
		{args: kvA("SET", "k", "v", "PX", "1500"), want: kvOK},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt(ms(1500))},
		{args: kvA("SET", "k", "v", "pxat", ms(3000)), want: kvOK},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt(ms(3000))},
		{args: kvA("SET", "k", "v2", "KEEPTTL"), want: kvOK},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt(ms(3000))},
		{args: kvA("GET", "k"), want: kvBulk("v2")},
		{args: kvA("SET", "k", "v3"), want: kvOK},
		{args: kvA("TTL", "k"), want: kvInt("-1")},
		{args: kvA("SET", "k", "v", "EXAT", "1"), want: kvOK}, // in the past
		{args: kvA("EXISTS", "k"), want: kvInt("0")},
		{args: kvA("SET", "k", "v", "PXAT", "9223372036854775807"), want: kvOK},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt("9223372036854775807")},
		// GET
		{args: kvA("SET", "g", "1", "GET"), want: kvNull2},
		{args: kvA("SET", "g", "2", "get", "GET"), want: kvBulk("1")},
		{args: kvA("SET", "g", "3", "NX", "GET"), want: kvBulk("2")},
		{args: kvA("GET", "g"), want: kvBulk("2")},
		{args: kvA("SET", "g", "4", "XX", "GET", "PX", "5000"), want: kvBulk("2")},
		{args: kvA("PTTL", "g"), want: kvInt("5000")},
		{args: kvA("SET", "g", "5", "GET", "KEEPTTL"), want: kvBulk("4")},
		{args: kvA("PTTL", "g"), want: kvInt("5000")},
		{args: kvA("SET", "ng", "1", "XX", "GET"), want: kvNull2},
		{args: kvA("EXISTS", "ng"), want: kvInt("0")},
		{args: kvA("SET", "ng", "1", "NX", "GET"), want: kvNull2},
		{args: kvA("GET", "ng"), want: kvBulk("1")},
		{args: kvA("SET", "g", "x", "EXAT", "1", "GET"), want: kvBulk("5")},
		{args: kvA("GET", "g"), want: kvNull2},
		{proto: 3, args: kvA("SET", "k", "v", "NX"), want: kvNull3},
		{args: kvA("SET", "nk", "v", "XX", "GET"), want: kvNull3},
	})
}

func TestSetNXEXPSetEX(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindSet)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("SETNX", "k", "1"), want: kvInt("1")},
		{args: kvA("SETNX", "k", "2"), want: kvInt("0")},
		{args: kvA("GET", "k"), want: kvBulk("1")},
		{args: kvA("SETNX", "h", "2"), want: kvInt("0")},
		{args: kvA("SETEX", "k", "10", "v"), want: kvOK},
		{args: kvA("PTTL", "k"), want: kvInt("10000")},
		{args: kvA("GET", "k"), want: kvBulk("v")},
		{args: kvA("SETEX", "k", "0", "v"), want: kvInvalidExpire("setex")},
		{args: kvA("SETEX", "k", "-5", "v"), want: kvInvalidExpire("setex")},
		{args: kvA("SETEX", "k", "abc", "v"), want: kvNotInt},
		{args: kvA("SETEX", "k", "9223372036854776", "v"), want: kvInvalidExpire("setex")},
		{args: kvA("PSETEX", "k", "1500", "w"), want: kvOK},
		{args: kvA("PTTL", "k"), want: kvInt("1500")},
		{args: kvA("PSETEX", "k", "0", "w"), want: kvInvalidExpire("psetex")},
		{args: kvA("PSETEX", "k", "9223372036854775807", "w"), want: kvInvalidExpire("psetex")},
		{args: kvA("SETEX", "h", "10", "v"), want: kvOK},
		{args: kvA("GET", "h"), want: kvBulk("v")},
	})
}

func TestGetSetGetDel(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindList)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("GETSET", "k", "1"), want: kvNull2},
		{args: kvA("GETSET", "k", "2"), want: kvBulk("1")},
		{args: kvA("EXPIRE", "k", "100"), want: kvInt("1")},
		{args: kvA("GETSET", "k", "3"), want: kvBulk("2")},
		{args: kvA("TTL", "k"), want: kvInt("-1")}, // GETSET drops the TTL
		{args: kvA("GETSET", "h", "3"), want: kvWrongType},
		{args: kvA("GETDEL", "k"), want: kvBulk("3")},
		{args: kvA("GETDEL", "k"), want: kvNull2},
		{args: kvA("EXISTS", "k"), want: kvInt("0")},
		{args: kvA("GETDEL", "h"), want: kvWrongType},
		{proto: 3, args: kvA("GETDEL", "k"), want: kvNull3},
		{args: kvA("GETSET", "k", "1"), want: kvNull3},
	})
}

func TestGetEX(t *testing.T) {
	cs := newKVClockServer(t)
	now := cs.now
	kvSetKind(t, cs.Server, "h", store.KindHash)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("SET", "k", "v"), want: kvOK},
		{args: kvA("GETEX", "k"), want: kvBulk("v")},
		{args: kvA("GETEX", "k", "EX", "100"), want: kvBulk("v")},
		{args: kvA("PTTL", "k"), want: kvInt("100000")},
		{args: kvA("GETEX", "k", "px", "5000"), want: kvBulk("v")},
		{args: kvA("PTTL", "k"), want: kvInt("5000")},
		{args: kvA("GETEX", "k", "EXAT", itoa(int(now/1000+50))), want: kvBulk("v")},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt(itoa(int(now + 50000)))},
		{args: kvA("GETEX", "k", "PXAT", itoa(int(now+7))), want: kvBulk("v")},
		{args: kvA("PTTL", "k"), want: kvInt("7")},
		{args: kvA("GETEX", "k", "PERSIST"), want: kvBulk("v")},
		{args: kvA("TTL", "k"), want: kvInt("-1")},
		{args: kvA("GETEX", "k", "PERSIST"), want: kvBulk("v")},
		{args: kvA("GETEX", "k", "PERSIST", "EX", "10"), want: kvSyntax},
		{args: kvA("GETEX", "k", "EX", "10", "PERSIST"), want: kvSyntax},
		{args: kvA("GETEX", "k", "EX", "10", "PX", "10"), want: kvSyntax},
		{args: kvA("GETEX", "k", "KEEPTTL"), want: kvSyntax},
		{args: kvA("GETEX", "k", "NX"), want: kvSyntax},
		{args: kvA("GETEX", "k", "EX"), want: kvSyntax},
		{args: kvA("GETEX", "nokey", "FOO"), want: kvSyntax},
		{args: kvA("GETEX", "k", "EX", "0"), want: kvInvalidExpire("getex")},
		{args: kvA("GETEX", "k", "EX", "9223372036854775"), want: kvInvalidExpire("getex")},
		{args: kvA("GETEX", "k", "EX", "abc"), want: kvNotInt},
		{args: kvA("GETEX", "nokey", "EX", "0"), want: kvNull2}, // key checked before the value
		{args: kvA("GETEX", "nokey", "EX", "abc"), want: kvNull2},
		{args: kvA("GETEX", "h", "EX", "0"), want: kvWrongType},
		{args: kvA("GETEX", "k", "PXAT", "9223372036854775807"), want: kvBulk("v")},
		{args: kvA("PEXPIRETIME", "k"), want: kvInt("9223372036854775807")},
		{args: kvA("GETEX", "k", "EXAT", "1"), want: kvBulk("v")}, // past: deletes
		{args: kvA("EXISTS", "k"), want: kvInt("0")},
		{proto: 3, args: kvA("GETEX", "k"), want: kvNull3},
	})
}

func TestGetEXExpiresWithClock(t *testing.T) {
	cs := newKVClockServer(t)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("SET", "k", "v", "PX", "100"), want: kvOK},
		{args: kvA("GET", "k"), want: kvBulk("v")},
	})
	cs.now += 100
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("GET", "k"), want: kvNull2},
		{args: kvA("TTL", "k"), want: kvInt("-2")},
	})
}

func TestMGetMSet(t *testing.T) {
	s := newTestServer(t, nil)
	kvSetKind(t, s, "h", store.KindZSet)
	kvRun(t, s, []kvStep{
		{args: kvA("MSET", "a", "1", "b", "2"), want: kvOK},
		{args: kvA("MGET", "a", "b", "c", "h", "a"), want: "*5\r\n" + kvBulk("1") + kvBulk("2") + kvNull2 + kvNull2 + kvBulk("1")},
		{args: kvA("MSET", "a"), want: kvErr("ERR wrong number of arguments for 'mset' command")},
		{args: kvA("MSET", "a", "1", "b"), want: kvErr("ERR wrong number of arguments for 'mset' command")},
		{args: kvA("MSETNX", "a", "1", "b"), want: kvErr("ERR wrong number of arguments for 'msetnx' command")},
		{args: kvA("MSET", "a", "x", "a", "y"), want: kvOK},
		{args: kvA("GET", "a"), want: kvBulk("y")},
		{args: kvA("MSETNX", "c", "3", "a", "z"), want: kvInt("0")},
		{args: kvA("EXISTS", "c"), want: kvInt("0")},
		{args: kvA("MSETNX", "c", "3", "d", "4"), want: kvInt("1")},
		{args: kvA("MGET", "c", "d"), want: "*2\r\n" + kvBulk("3") + kvBulk("4")},
		{args: kvA("MSETNX", "h", "3"), want: kvInt("0")},
		{args: kvA("MSET", "h", "3"), want: kvOK},
		{args: kvA("GET", "h"), want: kvBulk("3")},
		{proto: 3, args: kvA("MGET", "zz", "a"), want: "*2\r\n" + kvNull3 + kvBulk("y")},
	})
}

func TestMSetDropsTTL(t *testing.T) {
	cs := newKVClockServer(t)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("SET", "a", "1", "EX", "100"), want: kvOK},
		{args: kvA("MSET", "a", "2"), want: kvOK},
		{args: kvA("TTL", "a"), want: kvInt("-1")},
	})
}

func TestAppendStrlen(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindHash)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("APPEND", "k", "ab"), want: kvInt("2")},
		{args: kvA("APPEND", "k", "\x00\xff"), want: kvInt("4")},
		{args: kvA("GET", "k"), want: kvBulk("ab\x00\xff")},
		{args: kvA("STRLEN", "k"), want: kvInt("4")},
		{args: kvA("STRLEN", "nokey"), want: kvInt("0")},
		{args: kvA("APPEND", "k", ""), want: kvInt("4")},
		{args: kvA("EXPIRE", "k", "100"), want: kvInt("1")},
		{args: kvA("APPEND", "k", "c"), want: kvInt("5")},
		{args: kvA("TTL", "k"), want: kvInt("100")}, // APPEND keeps the TTL
		{args: kvA("APPEND", "h", "c"), want: kvWrongType},
		{args: kvA("STRLEN", "h"), want: kvWrongType},
		{args: kvA("APPEND", "e", ""), want: kvInt("0")},
		{args: kvA("EXISTS", "e"), want: kvInt("1")},
	})
}

// fixedConfig is a Config that only answers Value.
type kvConfig map[string]string

func (c kvConfig) Get(string) [][2]string { return nil }
func (c kvConfig) Set([][2]string) error  { return nil }
func (c kvConfig) Value(name string) string {
	return c[name]
}

func TestStringLimit(t *testing.T) {
	s := newTestServer(t, kvConfig{"proto-max-bulk-len": "10"})
	kvRun(t, s, []kvStep{
		{args: kvA("APPEND", "k", "0123456789"), want: kvInt("10")},
		{args: kvA("APPEND", "k", "x"), want: kvErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
		{args: kvA("SETRANGE", "k", "10", "x"), want: kvErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
		{args: kvA("SETRANGE", "n", "10", "x"), want: kvErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
		{args: kvA("SETRANGE", "n", "9", "x"), want: kvInt("10")},
		{args: kvA("SETRANGE", "k", "9223372036854775807", "x"), want: kvErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
	})
	for in, want := range map[string]int64{"1kb": 1024, "2mb": 2 << 20, "1gb": 1 << 30, "3k": 3000, "7": 7, "18446744073709551615": math.MaxInt64, "x": 0} {
		got, ok := keyParseMemory(in)
		if got != want || ok != (want != 0) {
			t.Errorf("keyParseMemory(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	d := newTestServer(t, nil)
	kvRun(t, d, []kvStep{
		{args: kvA("SETRANGE", "k", "536870912", "x"), want: kvErr("ERR string exceeds maximum allowed size (proto-max-bulk-len)")},
		{args: kvA("SETRANGE", "k", "536870911", ""), want: kvInt("0")},
	})
}

func TestGetRange(t *testing.T) {
	s := newTestServer(t, nil)
	kvSetKind(t, s, "h", store.KindHash)
	kvRun(t, s, []kvStep{
		{args: kvA("SET", "s", "hello"), want: kvOK},
		{args: kvA("GETRANGE", "s", "0", "-1"), want: kvBulk("hello")},
		{args: kvA("GETRANGE", "s", "1", "3"), want: kvBulk("ell")},
		{args: kvA("GETRANGE", "s", "-3", "-1"), want: kvBulk("llo")},
		{args: kvA("GETRANGE", "s", "-1", "-5"), want: kvEmpty},
		{args: kvA("GETRANGE", "s", "10", "20"), want: kvEmpty},
		{args: kvA("GETRANGE", "s", "-100", "100"), want: kvBulk("hello")},
		{args: kvA("GETRANGE", "s", "3", "2"), want: kvEmpty},
		{args: kvA("GETRANGE", "s", "0", "-100"), want: kvBulk("h")},
		{args: kvA("GETRANGE", "s", "-9223372036854775808", "9223372036854775807"), want: kvBulk("hello")},
		{args: kvA("GETRANGE", "nokey", "0", "1"), want: kvEmpty},
		{args: kvA("GETRANGE", "s", "a", "1"), want: kvNotInt},
		{args: kvA("GETRANGE", "s", "0", "1.5"), want: kvNotInt},
		{args: kvA("GETRANGE", "nokey", "a", "1"), want: kvNotInt},
		{args: kvA("GETRANGE", "h", "0", "1"), want: kvWrongType},
		{args: kvA("SUBSTR", "s", "1", "2"), want: kvBulk("el")},
		{args: kvA("SET", "e", ""), want: kvOK},
		{args: kvA("GETRANGE", "e", "0", "-1"), want: kvEmpty},
		{proto: 3, args: kvA("GETRANGE", "nokey", "0", "1"), want: kvEmpty},
	})
}

func TestSetRange(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindHash)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("SETRANGE", "k", "5", "ab"), want: kvInt("7")},
		{args: kvA("GET", "k"), want: kvBulk("\x00\x00\x00\x00\x00ab")},
		{args: kvA("SETRANGE", "k", "1", "XY"), want: kvInt("7")},
		{args: kvA("GET", "k"), want: kvBulk("\x00XY\x00\x00ab")},
		{args: kvA("SETRANGE", "k", "0", ""), want: kvInt("7")},
		{args: kvA("SETRANGE", "nokey", "0", ""), want: kvInt("0")},
		{args: kvA("EXISTS", "nokey"), want: kvInt("0")},
		{args: kvA("SETRANGE", "k", "-1", "x"), want: kvErr("ERR offset is out of range")},
		{args: kvA("SETRANGE", "k", "a", "x"), want: kvNotInt},
		{args: kvA("SETRANGE", "h", "0", "x"), want: kvWrongType},
		{args: kvA("SETRANGE", "h", "0", ""), want: kvWrongType},
		{args: kvA("EXPIRE", "k", "100"), want: kvInt("1")},
		{args: kvA("SETRANGE", "k", "7", "!"), want: kvInt("8")},
		{args: kvA("TTL", "k"), want: kvInt("100")}, // SETRANGE keeps the TTL
	})
}

func TestIncrDecr(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindHash)
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("INCR", "n"), want: kvInt("1")},
		{args: kvA("INCR", "n"), want: kvInt("2")},
		{args: kvA("DECR", "n"), want: kvInt("1")},
		{args: kvA("INCRBY", "n", "10"), want: kvInt("11")},
		{args: kvA("DECRBY", "n", "20"), want: kvInt("-9")},
		{args: kvA("GET", "n"), want: kvBulk("-9")},
		{args: kvA("DECR", "m"), want: kvInt("-1")},
		{args: kvA("INCRBY", "n", "abc"), want: kvNotInt},
		{args: kvA("INCRBY", "n", "1.5"), want: kvNotInt},
		{args: kvA("DECRBY", "n", "-9223372036854775808"), want: kvErr("ERR decrement would overflow")},
		{args: kvA("SET", "n", "9223372036854775807"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvErr("ERR increment or decrement would overflow")},
		{args: kvA("DECRBY", "n", "1"), want: kvInt("9223372036854775806")},
		{args: kvA("SET", "n", "-9223372036854775808"), want: kvOK},
		{args: kvA("DECR", "n"), want: kvErr("ERR increment or decrement would overflow")},
		{args: kvA("INCRBY", "n", "-1"), want: kvErr("ERR increment or decrement would overflow")},
		{args: kvA("INCRBY", "n", "9223372036854775807"), want: kvInt("-1")},
		{args: kvA("SET", "n", " 1"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvNotInt},
		{args: kvA("SET", "n", "01"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvNotInt},
		{args: kvA("SET", "n", "+1"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvNotInt},
		{args: kvA("SET", "n", "-0"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvNotInt},
		{args: kvA("SET", "n", ""), want: kvOK},
		{args: kvA("INCR", "n"), want: kvNotInt},
		{args: kvA("SET", "n", "12345678901234567890"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvNotInt},
		{args: kvA("INCR", "h"), want: kvWrongType},
		{args: kvA("SET", "n", "5", "EX", "100"), want: kvOK},
		{args: kvA("INCR", "n"), want: kvInt("6")},
		{args: kvA("TTL", "n"), want: kvInt("100")}, // INCR keeps the TTL
	})
}

func TestIncrByFloat(t *testing.T) {
	cs := newKVClockServer(t)
	kvSetKind(t, cs.Server, "h", store.KindHash)
	nanInf := kvErr("ERR increment would produce NaN or Infinity")
	kvRun(t, cs.Server, []kvStep{
		{args: kvA("INCRBYFLOAT", "f", "10.5"), want: kvBulk("10.5")},
		{args: kvA("INCRBYFLOAT", "f", "0.1"), want: kvBulk("10.6")},
		{args: kvA("INCRBYFLOAT", "f", "5.0e3"), want: kvBulk("5010.60000000000000009")},
		{args: kvA("INCRBYFLOAT", "f", "abc"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "inf"), want: nanInf},
		{args: kvA("INCRBYFLOAT", "f", "-Infinity"), want: nanInf},
		{args: kvA("INCRBYFLOAT", "f", "infin"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "nan"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", " 1"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "1 "), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "1\x00"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", ""), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "1e"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "."), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "1_000"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "0xp1"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "f", "1e4933"), want: kvNotFloat},  // overflows long double
		{args: kvA("INCRBYFLOAT", "f", "1e-5000"), want: kvNotFloat}, // underflows to zero
		{args: kvA("INCRBYFLOAT", "f", "0x10"), want: kvBulk("5026.60000000000000009")},
		{args: kvA("SET", "f", "1"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "0x1p-3"), want: kvBulk("1.125")},
		{args: kvA("INCRBYFLOAT", "f", "0x.8"), want: kvBulk("1.625")},
		{args: kvA("INCRBYFLOAT", "f", "-1.625"), want: kvBulk("0")},
		{args: kvA("INCRBYFLOAT", "f", "+.5"), want: kvBulk("0.5")},
		{args: kvA("INCRBYFLOAT", "f", "-.5e1"), want: kvBulk("-4.5")},
		{args: kvA("SET", "f", "1.1"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1e30"), want: kvBulk("1000000000000000000024696061952")},
		{args: kvA("SET", "f", "10"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1e-17"), want: kvBulk("10.00000000000000001")},
		{args: kvA("SET", "f", "3.814697265625e-6"), want: kvOK}, // 2^-18: a tie at 17 places, to even
		{args: kvA("INCRBYFLOAT", "f", "0"), want: kvBulk("0.00000381469726562")},
		{args: kvA("SET", "f", "-0.000000000000000001"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "0"), want: kvBulk("0")},
		{args: kvA("SET", "f", "9007199254740993"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1"), want: kvBulk("9007199254740994")},
		{args: kvA("SET", "f", "123456789012345678901234567890"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1"), want: kvBulk("123456789012345678899921813504")},
		{args: kvA("SET", "f", "1e4932"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1e4932"), want: nanInf},
		{args: kvA("SET", "f", "inf"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1"), want: nanInf},
		{args: kvA("SET", "f", "x"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1"), want: kvNotFloat},
		{args: kvA("INCRBYFLOAT", "h", "1"), want: kvWrongType},
		{args: kvA("SET", "f", "1", "EX", "100"), want: kvOK},
		{args: kvA("INCRBYFLOAT", "f", "1"), want: kvBulk("2")},
		{args: kvA("TTL", "f"), want: kvInt("100")}, // INCRBYFLOAT keeps the TTL
	})
}

// TestIncrByFloatHuge checks a result of thousands of digits, printed
// exactly as glibc's %.17Lf does.
func TestIncrByFloatHuge(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	got := do(t, s, cl, "INCRBYFLOAT", "f", "1e4000")
	// Redis 7.0.15's reply: 1e4000 rounded to a 64-bit mantissa, in full.
	const head = "$4000\r\n99999999999999999999654638730996237849324925835069576"
	if !strings.HasPrefix(got, head) || strings.Contains(got, ".") {
		t.Fatalf("got %.60q..., want prefix %q and no point", got, head)
	}
}

// TestHotPathAllocs guards the allocation claims of the hot path, calling
// each command's Run as Execute does, with a pre-grown output buffer: GET
// and MGET of existing keys allocate nothing (they read strings in place,
// cache.Tx.View, and do not cache them); SET of a key that is not cached
// allocates nothing (writes go around the cache), which after GET is still
// the case; INCR of an uncached key (INCR reads in place and does not cache)
// allocates nothing either: its digits go through the client's scratch and
// SetCopy, which copies only what the cache keeps.
func TestHotPathAllocs(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	do(t, s, cl, "SET", "k", "value")
	do(t, s, cl, "SET", "n", "1000")
	do(t, s, cl, "SET", "k2", "v2")
	cases := []struct {
		name string
		args [][]byte
		want float64
	}{
		{"GET", [][]byte{[]byte("GET"), []byte("k")}, 0},
		{"MGET", [][]byte{[]byte("MGET"), []byte("k"), []byte("k2"), []byte("nokey")}, 0},
		{"SET after GET", [][]byte{[]byte("SET"), []byte("k"), []byte("value")}, 0},
		{"SET uncached", [][]byte{[]byte("SET"), []byte("fresh"), []byte("value")}, 0},
		{"INCR", [][]byte{[]byte("INCR"), []byte("n")}, 0},
		{"MSET uncached", [][]byte{[]byte("MSET"), []byte("m1"), []byte("a"), []byte("m2"), []byte("b")}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := &Ctx{S: s, C: cl, Cmd: s.Lookup(c.args[0]), Args: c.args, Out: make([]byte, 0, 4096)}
			x.Cmd.Run(x) // warm up
			allocs := testing.AllocsPerRun(200, func() {
				x.Out = x.Out[:0]
				x.Cmd.Run(x)
			})
			if x.Out[0] == '-' {
				t.Fatalf("%s replied %q", c.name, x.Out)
			}
			if allocs != c.want {
				t.Errorf("%s: %v allocs per call, want %v", c.name, allocs, c.want)
			}
		})
	}
}

func BenchmarkStrings(b *testing.B) {
	c, err := cache.New(b.TempDir(), 10000)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s := NewServer(c, nil, nil)
	cl := s.NewClient()
	s.Execute(cl, [][]byte{[]byte("SET"), []byte("k"), []byte("value")}, nil)
	s.Execute(cl, [][]byte{[]byte("SET"), []byte("n"), []byte("0")}, nil)
	out := make([]byte, 0, 4096)
	for _, bc := range []struct {
		name string
		args [][]byte
	}{
		{"cmd=GET", [][]byte{[]byte("GET"), []byte("k")}},
		{"cmd=SET", [][]byte{[]byte("SET"), []byte("k"), []byte("value")}},
		{"cmd=INCR", [][]byte{[]byte("INCR"), []byte("n")}},
		{"cmd=MGET", [][]byte{[]byte("MGET"), []byte("k"), []byte("n")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out = s.Execute(cl, bc.args, out[:0])
			}
		})
	}
}

// TestExecuteAllocs guards Execute's own part of the hot path (command
// lookup, including the per-client cache of the last command, last-command
// bookkeeping, INFO counters): GET of an existing key allocates nothing
// through Execute either, with the counters deferred as the event loop
// runs it and flushed per command as the tests run it.
func TestExecuteAllocs(t *testing.T) {
	s := newTestServer(t, nil)
	for _, deferred := range []bool{false, true} {
		cl := s.NewClient()
		cl.DeferStats = deferred
		do(t, s, cl, "SET", "k", "value")
		get := [][]byte{[]byte("GET"), []byte("k")}
		getLower := [][]byte{[]byte("get"), []byte("k")}
		out := make([]byte, 0, 4096)
		allocs := testing.AllocsPerRun(200, func() {
			out = s.Execute(cl, get, out[:0])
			out = s.Execute(cl, getLower, out)
			s.FlushStats(cl)
		})
		require_Equal(t, string(out), "$5\r\nvalue\r\n$5\r\nvalue\r\n")
		if allocs != 0 {
			t.Errorf("DeferStats=%v: Execute GET allocates %v times, want 0", deferred, allocs)
		}
	}
}

// TestBufferedReadAllocs: on a store that buffers writes (as tstd's does
// until the end of a round), commands that read a string written earlier
// in the same round (a pipeline of INCRs on one key, GET after SET, MGET
// of two such keys of one shard or several) allocate nothing: the record
// still in the write buffer is read through the cache shard's scratch.
func TestBufferedReadAllocs(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{Sync: store.SyncNo, BufferWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(st, cache.Options{Capacity: 1000, Shards: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := NewServer(c, nil, nil)
	cl := s.NewClient()
	cl.DeferStats = true
	out := make([]byte, 0, 4096)
	keys := []string{"a", "b", "c", "d", "e", "f"}
	for _, k := range keys {
		s.Execute(cl, [][]byte{[]byte("SET"), []byte(k), []byte("v-" + k)}, nil)
	}
	mget := [][]byte{[]byte("MGET")}
	var want strings.Builder
	fmt.Fprintf(&want, "*%d\r\n", len(keys))
	for _, k := range keys {
		mget = append(mget, []byte(k))
		fmt.Fprintf(&want, "$%d\r\nv-%s\r\n", len(k)+2, k)
	}
	for _, tc := range []struct {
		name string
		cmds [][][]byte
		want string
	}{
		{"INCR", [][][]byte{{[]byte("INCR"), []byte("n")}, {[]byte("INCR"), []byte("n")}}, ""},
		{"SET+GET", [][][]byte{{[]byte("SET"), []byte("k"), []byte("value")}, {[]byte("GET"), []byte("k")}}, "+OK\r\n$5\r\nvalue\r\n"},
		{"MGET", [][][]byte{mget}, want.String()},
	} {
		run := func() {
			out = out[:0]
			for _, args := range tc.cmds {
				out = s.Execute(cl, args, out)
			}
		}
		run()
		allocs := testing.AllocsPerRun(200, run)
		if tc.want != "" && string(out) != tc.want {
			t.Fatalf("%s replied %q, want %q", tc.name, out, tc.want)
		}
		if allocs != 0 {
			t.Errorf("%s of buffered records allocates %v times, want 0", tc.name, allocs)
		}
	}
	if got := string(s.Execute(cl, [][]byte{[]byte("GET"), []byte("n")}, nil)); got != "$3\r\n404\r\n" {
		t.Errorf("GET n = %q after 404 INCRs", got)
	}
	if st.Unflushed() == 0 {
		t.Error("nothing was buffered: the test read flushed records")
	}
	s.FlushStats(cl)
}

// BenchmarkExecute runs single commands through Execute on a store opened
// as tstd opens it (buffered writes, flushed once per 64 commands, a round
// at pipeline 64). The list case pushes and pops one element per
// iteration (the list stays short), so it times the pair.
func BenchmarkExecute(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{Sync: store.SyncNo, BufferWrites: true})
	if err != nil {
		b.Fatal(err)
	}
	c, err := cache.Open(st, cache.Options{Capacity: 10000})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s := NewServer(c, nil, nil)
	cl := s.NewClient()
	cl.DeferStats = true
	s.Execute(cl, [][]byte{[]byte("SET"), []byte("k"), []byte("value")}, nil)
	s.Execute(cl, [][]byte{[]byte("RPUSH"), []byte("l"), []byte("a"), []byte("b")}, nil)
	out := make([]byte, 0, 4096)
	cmd := func(a ...string) [][]byte {
		args := make([][]byte, len(a))
		for i, x := range a {
			args[i] = []byte(x)
		}
		return args
	}
	for _, bc := range []struct {
		name string
		cmds [][][]byte
	}{
		{"cmd=PING", [][][]byte{cmd("PING")}},
		{"cmd=GET", [][][]byte{cmd("GET", "k")}},
		{"cmd=INCR", [][][]byte{cmd("INCR", "n")}},
		{"cmd=HSET", [][][]byte{cmd("HSET", "h", "f", "value")}},
		{"cmd=SADD", [][][]byte{cmd("SADD", "s", "value")}},
		{"cmd=RPUSH+LPOP", [][][]byte{cmd("RPUSH", "l", "value"), cmd("LPOP", "l")}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for _, args := range bc.cmds {
					out = s.Execute(cl, args, out[:0])
				}
				if n++; n%64 == 0 {
					if err := st.FlushWrites(); err != nil {
						b.Fatal(err)
					}
				}
			}
			s.FlushStats(cl)
		})
	}
}

// TestMultiKeyPrefetch: in a database whose index is large enough for
// Prefetch (Server.PrefetchWorth), multi-key commands warm their keys
// first (Ctx.prefetchArgs): replies are unchanged, and MGET/MSET/DEL still
// allocate nothing once the client's scratch has grown.
func TestMultiKeyPrefetch(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	args := [][]byte{[]byte("MSET")}
	for i := range 60000 {
		args = append(args, []byte(fmt.Sprintf("key:%06d", i)), []byte(fmt.Sprint("v", i)))
		if len(args) > 2000 || i == 59999 {
			if out := string(s.Execute(cl, args, nil)); out != "+OK\r\n" {
				t.Fatalf("MSET: %q", out)
			}
			args = args[:1]
		}
	}
	if !s.PrefetchWorth(cl, nil, nil) {
		t.Fatal("PrefetchWorth is false with 60000 keys: the test would not exercise prefetchArgs")
	}
	require_Equal(t, do(t, s, cl, "MGET", "key:000001", "nokey", "key:059999", "key:000002", "key:030000"),
		"*5\r\n$2\r\nv1\r\n$-1\r\n$6\r\nv59999\r\n$2\r\nv2\r\n$6\r\nv30000\r\n")
	require_Equal(t, do(t, s, cl, "MSET", "key:000001", "a", "new1", "b", "key:000003", "c", "new2", "d"), "+OK\r\n")
	require_Equal(t, do(t, s, cl, "MGET", "key:000001", "new1", "key:000003", "new2"),
		"*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n")
	require_Equal(t, do(t, s, cl, "DEL", "new1", "new2", "nokey", "key:000004"), ":3\r\n")
	for _, c := range [][][]byte{
		{[]byte("MGET"), []byte("key:000010"), []byte("key:000011"), []byte("nokey"), []byte("key:050000")},
		{[]byte("MSET"), []byte("m1"), []byte("a"), []byte("m2"), []byte("b"), []byte("m3"), []byte("c"), []byte("m4"), []byte("d")},
		{[]byte("DEL"), []byte("gone1"), []byte("gone2"), []byte("gone3"), []byte("gone4")},
	} {
		x := &Ctx{S: s, C: cl, Cmd: s.Lookup(c[0]), Args: c, Out: make([]byte, 0, 4096)}
		x.Cmd.Run(x) // warm up (grows the scratch)
		allocs := testing.AllocsPerRun(100, func() {
			x.Out = x.Out[:0]
			x.Cmd.Run(x)
		})
		if x.Out[0] == '-' {
			t.Fatalf("%s replied %q", c[0], x.Out)
		}
		if allocs != 0 {
			t.Errorf("%s: %v allocs per call, want 0", c[0], allocs)
		}
		if cap(cl.pfKeys) == 0 {
			t.Errorf("%s did not use the prefetch scratch", c[0])
		}
	}
}
