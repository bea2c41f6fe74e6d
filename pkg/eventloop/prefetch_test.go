package eventloop

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/command"
)

// resp encodes one command as a RESP multibulk request.
func resp(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// prefetchPipeline is a pipeline of real commands, mixing lookups whose
// keys the pre-pass prefetches with everything that must not change:
// MULTI/EXEC (and an aborted one), errors (unknown commands, arity, wrong
// type, not an integer), SELECT between lookups of one key name, inline
// requests (quoted keys), commands with more arguments than the pre-pass
// parses, commands without keys, a blocking command and more commands
// than one pre-pass covers.
func prefetchPipeline() string {
	var b strings.Builder
	for i := range 100 {
		b.WriteString(resp("SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("v%d", i)))
		b.WriteString(resp("GET", fmt.Sprintf("key:%d", (i*7)%130)))
		if i%30 == 29 {
			b.WriteString("*0\r\n") // an empty request, which Redis skips
		}
	}
	for _, c := range [][]string{
		{"INCR", "n"}, {"INCR", "n"}, {"INCR", "key:1"}, {"GET", "n"},
		{"MULTI"}, {"GET", "key:1"}, {"INCR", "n"}, {"SET", "key:2", "x"}, {"EXEC"},
		{"MULTI"}, {"GETX", "key:1"}, {"GET", "key:3"}, {"EXEC"},
		{"LPUSH", "l", "a"}, {"GET", "l"}, {"INCR", "l"},
		{"SELECT", "1"}, {"GET", "key:1"}, {"SET", "key:1", "db1"}, {"GET", "key:1"},
		{"SELECT", "0"}, {"GET", "key:1"},
		{"GET"}, {"GET", "a", "b"}, {"NOSUCH", "key:1"}, {"PING"}, {"ECHO", "key:5"},
		{"MSET", "m1", "1", "m2", "2", "m3", "3", "m4", "4", "m5", "5", "m6", "6", "m7", "7", "m8", "8", "m9", "9"},
		{"GET", "m9"}, {"MGET", "m1", "key:4", "nokey"}, {"DEL", "key:4"}, {"GET", "key:4"},
		{"tblock"}, {"GET", "key:6"}, {"EXISTS", "key:6"},
		{"HSET", "h", "f", "v"}, {"HGET", "h", "f"}, {"GET", "h"},
		{"SET", "e", "1", "EX", "100"}, {"TTL", "e"}, {"APPEND", "e", "2"}, {"GET", "e"},
	} {
		b.WriteString(resp(c...))
	}
	// An inline request's arguments with escapes are built in the reader's
	// scratch: the next such request's overwrite them (once the ECHO has
	// grown it).
	b.WriteString("ECHO \"\\x30123456789abcdefghijklmnopqrstuvwxyz\"\r\nGET key:7\r\n" +
		"SET \"k\\x65y 8\" 'quoted'\r\nGET \"\\x61bcde\"\r\nGET \"key 8\"\r\n\r\nGET key:9\r\n")
	return b.String()
}

// prefetchServer is a real server with tblock: a command that blocks and
// is served at once, as if by another loop.
func prefetchServer(t *testing.T) *command.Server {
	t.Helper()
	s := realServer(t)
	s.Table()["tblock"] = &command.Command{Name: "tblock", Arity: 1, Run: func(x *command.Ctx) {
		x.C.Block()
		x.C.Deliver([]byte("+served\r\n"), true)
	}}
	return s
}

// drive runs OnTraffic until a call changes neither f's input nor its
// output (a blocked command leaves input buffered until its wake; an
// incomplete command stays buffered).
func drive(t *testing.T, h *handler, f *fakeConn) {
	t.Helper()
	for range 100 {
		in, out := len(f.in), len(f.out)
		h.OnTraffic(f)
		if len(f.in) == in && len(f.out) == out {
			return
		}
	}
	t.Fatalf("OnTraffic keeps making progress: %q left", f.in[:min(len(f.in), 100)])
}

// TestPrefetchSameReplies checks that the pre-pass over a pipeline changes
// no reply: the pipeline sent at once (prefetching) is answered exactly as
// when it arrives one byte at a time (never two commands buffered, so
// nothing is prefetched).
func TestPrefetchSameReplies(t *testing.T) {
	in := prefetchPipeline()

	h := newTestHandler(t, Options{Server: prefetchServer(t)})
	h.prefetchAlways = true // the database is small
	f := open(t, h)
	f.in = append(f.in, in...)
	drive(t, h, f)
	if len(f.in) != 0 {
		t.Fatalf("left %q unconsumed", f.in[:min(len(f.in), 100)])
	}
	whole := string(f.out)
	if st := f.ctx.(*connState); cap(st.keys) < 2 || cap(st.parsed.cmds) < 2 {
		t.Fatalf("the whole pipeline prefetched nothing (keys cap %d, commands kept cap %d)",
			cap(st.keys), cap(st.parsed.cmds))
	}
	if st := f.ctx.(*connState); slices.ContainsFunc(st.parsed.args[:cap(st.parsed.args)], func(b []byte) bool { return b != nil }) {
		t.Fatal("the arguments the pre-pass kept still point into the input buffer")
	}

	h = newTestHandler(t, Options{Server: prefetchServer(t)})
	h.prefetchAlways = true
	f = open(t, h)
	for i := range len(in) {
		f.in = append(f.in, in[i])
		drive(t, h, f)
	}
	if st := f.ctx.(*connState); cap(st.keys) != 0 {
		t.Fatalf("byte by byte prefetched (keys cap %d)", cap(st.keys))
	}
	if whole != string(f.out) {
		t.Fatalf("pipelined replies differ from byte-by-byte ones:\n got %q\nwant %q", whole, f.out)
	}
	for _, want := range []string{
		"$2\r\nv7\r\n", ":3\r\n", "-ERR value is not an integer or out of range\r\n",
		"*3\r\n$2\r\nv1\r\n:3\r\n+OK\r\n", "-EXECABORT", "$3\r\ndb1\r\n", "+served\r\n",
		"-WRONGTYPE", "$6\r\nquoted\r\n", "$2\r\n12\r\n",
	} {
		if !strings.Contains(whole, want) {
			t.Errorf("replies lack %q", want)
		}
	}
}

// passConfig is a server configuration with a requirepass.
type passConfig struct{ command.Config }

func (passConfig) Value(name string) string {
	if name == "requirepass" {
		return "pw"
	}
	return ""
}

// TestPrefetchParsedUnauthenticated checks that the commands the pre-pass
// parsed are parsed again once a command of the batch deauthenticates the
// client (RESET): the request after it has 11 elements, which the limits
// for a client that has not authenticated refuse, as redis-server does.
func TestPrefetchParsedUnauthenticated(t *testing.T) {
	s := realServer(t)
	s.Config = passConfig{}
	h := newTestHandler(t, Options{Server: s, RequirePass: true})
	h.prefetchAlways = true
	f := open(t, h)
	in := resp("AUTH", "pw") + strings.Repeat(resp("GET", "k"), 5) + resp("RESET") +
		resp("MGET", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j") + resp("GET", "k")
	f.in = append(f.in, in...)
	drive(t, h, f)
	want := "+OK\r\n" + strings.Repeat("$-1\r\n", 5) + "+RESET\r\n" +
		"-ERR Protocol error: unauthenticated multibulk length\r\n"
	if string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
	if st := f.ctx.(*connState); cap(st.parsed.cmds) == 0 {
		t.Fatal("the pre-pass parsed nothing")
	}

	// Authenticated again in the same pipeline: the commands after the
	// AUTH are parsed afresh, in order.
	f = open(t, h)
	f.in = append(f.in, resp("AUTH", "pw")+resp("GET", "k")+resp("RESET")+resp("AUTH", "pw")+
		resp("ECHO", "a")+resp("ECHO", "b")...)
	drive(t, h, f)
	if want := "+OK\r\n$-1\r\n+RESET\r\n+OK\r\n$1\r\na\r\n$1\r\nb\r\n"; string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
}

// TestPrefetchParsedLimits checks that the pre-pass applies the
// connection reader's own limits to the commands it parses for batch: with
// at most two elements per request, the SET after two GETs is refused.
func TestPrefetchParsedLimits(t *testing.T) {
	h := newTestHandler(t, Options{Server: realServer(t)})
	h.prefetchAlways = true
	f := open(t, h)
	f.ctx.(*connState).r.MaxArgs = 2
	f.in = append(f.in, resp("GET", "k")+resp("GET", "k")+resp("SET", "k", "v")...)
	drive(t, h, f)
	if want := "$-1\r\n$-1\r\n-ERR Protocol error: invalid multibulk length\r\n"; string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
}

// TestPrefetchSmallDB checks that a pipeline on a small database (whose
// index stays in the CPU caches) collects no keys.
func TestPrefetchSmallDB(t *testing.T) {
	h := newTestHandler(t, Options{Server: realServer(t)})
	f := open(t, h)
	f.in = append(f.in, strings.Repeat(resp("GET", "k"), 10)...)
	h.OnTraffic(f)
	if want := strings.Repeat("$-1\r\n", 10); string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
	if st := f.ctx.(*connState); cap(st.keys) != 0 {
		t.Fatalf("keys collected for a small database (cap %d)", cap(st.keys))
	}
}

// TestPrefetchAllocs checks that a pipeline of lookups allocates nothing,
// the pre-pass included.
func TestPrefetchAllocs(t *testing.T) {
	h := newTestHandler(t, Options{Server: realServer(t)})
	h.prefetchAlways = true
	f := open(t, h)
	var set, get strings.Builder
	for i := range 64 {
		set.WriteString(resp("SET", fmt.Sprintf("key:%d", i), "value"))
		get.WriteString(resp("GET", fmt.Sprintf("key:%d", i)))
	}
	f.in = append(f.in, set.String()...)
	h.OnTraffic(f)
	req := []byte(get.String())
	run := func() {
		f.in = append(f.in[:0], req...)
		f.out = f.out[:0]
		h.OnTraffic(f)
	}
	run()
	if want := strings.Repeat("$5\r\nvalue\r\n", 64); string(f.out) != want {
		t.Fatalf("replies %q, want %q", f.out, want)
	}
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("a pipeline of 64 GETs allocates %.1f times, want 0", n)
	}
}

// BenchmarkPipelineGet runs a pipeline of 64 GETs of a small keyspace,
// whose lines stay cached: without the pre-pass, with it forced, and as
// configured (the index is small, so it is skipped after one
// Server.PrefetchWorth per batch).
func BenchmarkPipelineGet(b *testing.B) {
	for _, mode := range []string{"off", "forced", "auto"} {
		b.Run("prefetch="+mode, func(b *testing.B) {
			h := newTestHandler(b, Options{Server: realServer(b)})
			h.noPrefetch, h.prefetchAlways = mode == "off", mode == "forced"
			f := open(b, h)
			var set, get strings.Builder
			for i := range 64 {
				set.WriteString(resp("SET", fmt.Sprintf("key:%d", i%8), "value"))
				get.WriteString(resp("GET", fmt.Sprintf("key:%d", i%8)))
			}
			f.in = append(f.in, set.String()...)
			h.OnTraffic(f)
			benchTraffic(b, h, f, []byte(get.String()))
		})
	}
}

// TestPrefetchLargeCollection checks that a pipeline on a small database
// whose commands look into a large hash runs the pre-pass for the hash's
// fields (Server.PrefetchWorth asks about the collection too) and that it
// changes no reply: the same pipeline with the pre-pass off answers the
// same.
func TestPrefetchLargeCollection(t *testing.T) {
	var setup strings.Builder
	for c := range 20 {
		args := []string{"HSET", "big"}
		for i := c * 1000; i < (c+1)*1000; i++ {
			args = append(args, fmt.Sprintf("f%d", i), fmt.Sprintf("v%d", i))
		}
		setup.WriteString(resp(args...))
	}
	setup.WriteString(resp("HLEN", "big"))
	var pipe strings.Builder
	for i := range 200 {
		f := fmt.Sprintf("f%d", (i*7919)%21000)
		switch i % 5 {
		case 0, 1:
			pipe.WriteString(resp("HGET", "big", f))
		case 2:
			pipe.WriteString(resp("HSET", "big", f, fmt.Sprintf("x%d", i)))
		case 3:
			pipe.WriteString(resp("HDEL", "big", f))
		case 4:
			pipe.WriteString(resp("HEXISTS", "big", f))
		}
		if i%50 == 49 {
			pipe.WriteString(resp("GET", "big") + resp("HLEN", "big") + resp("SADD", "small", f))
		}
	}
	run := func(noPrefetch bool) (string, *connState) {
		h := newTestHandler(t, Options{Server: realServer(t)})
		h.noPrefetch = noPrefetch
		f := open(t, h)
		f.in = append(f.in, setup.String()...)
		drive(t, h, f)
		if !strings.HasSuffix(string(f.out), ":20000\r\n") {
			t.Fatalf("setup replied %q", f.out[max(0, len(f.out)-100):])
		}
		st := f.ctx.(*connState)
		if cap(st.keys) != 0 {
			t.Fatalf("the setup prefetched (keys cap %d)", cap(st.keys))
		}
		f.out = f.out[:0]
		f.in = append(f.in, pipe.String()...)
		drive(t, h, f)
		return string(f.out), st
	}
	with, st := run(false)
	if cap(st.members) < 2 {
		t.Fatalf("the pipeline on a large hash collected no members (cap %d)", cap(st.members))
	}
	if slices.ContainsFunc(st.members[:cap(st.members)], func(b []byte) bool { return b != nil }) {
		t.Fatal("the members the pre-pass collected still point into the input buffer")
	}
	without, _ := run(true)
	if with != without {
		t.Fatalf("replies with the pre-pass differ:\n got %q\nwant %q", with, without)
	}
	for _, want := range []string{"$2\r\nv0\r\n", "-WRONGTYPE", ":1\r\n"} {
		if !strings.Contains(with, want) {
			t.Errorf("replies lack %q", want)
		}
	}
}
