package command

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// blockClient returns a new registered client of s with a Wake that
// counts, for tests that take its inbox by hand.
func blockClient(t *testing.T, s *Server) *Client {
	t.Helper()
	c := s.NewClient()
	c.Wake = func() {}
	s.Clients.Add(c)
	return c
}

// takeInbox takes c's inbox and reports whether c is still blocked.
func takeInbox(c *Client) (string, bool) {
	out, blocked := c.TakeInbox(nil)
	return string(out), blocked
}

func TestBlockTimeoutMs(t *testing.T) {
	// Expectations from Redis 7.0.15 on x86-64 (BLPOP k <timeout>).
	for _, tc := range []struct {
		arg  string
		ms   int64
		want string // error, "" if none
	}{
		{"0", 0, ""},
		{"1", 1000, ""},
		{"0.1", 100, ""},
		{"0.0001", 1, ""},      // ceill: a tiny positive timeout still expires
		{"1e-10", 1, ""},       // likewise
		{"-0", 0, ""},          // forever
		{"-0.0001", 0, ""},     // ceill(-0.1) is 0: forever
		{"-1e-10", 0, ""},      // likewise
		{"0x10", 16000, ""},    // strtold reads hexadecimal
		{"1.5e3", 1500000, ""}, // exponent
		{"9223372036854775", 9223372036854775000, ""},
		{"-1", 0, errTimeoutNeg},
		{"-0.5", 0, errTimeoutNeg},
		{"inf", 0, errTimeoutNeg},                 // LLONG_MIN after the conversion
		{"-inf", 0, errTimeoutNeg},                //
		{"1e400", 0, errTimeoutNeg},               // a long double, too big for long long
		{"1e16", 0, errTimeoutNeg},                //
		{"9223372036854775807", 0, errTimeoutNeg}, //
		{"abc", 0, errTimeoutFloat},
		{"0.5x", 0, errTimeoutFloat},
		{"nan", 0, errTimeoutFloat},
		{"", 0, errTimeoutFloat},
		{" 1", 0, errTimeoutFloat},
		{"1 ", 0, errTimeoutFloat},
		{"1e5000", 0, errTimeoutFloat}, // overflows a long double: ERANGE
	} {
		t.Run(tc.arg, func(t *testing.T) {
			ms, msg := blockTimeoutMs([]byte(tc.arg))
			require_Equal(t, msg, tc.want)
			require_Equal(t, ms, tc.ms)
		})
	}
}

func TestBlockingImmediate(t *testing.T) {
	s := newTestServer(t, nil)
	c := blockClient(t, s)
	for _, tc := range []struct {
		name string
		cmd  []string
		want string
	}{
		{"setup list", []string{"RPUSH", "l", "a", "b", "c"}, ":3\r\n"},
		{"setup zset", []string{"ZADD", "z", "1", "x", "2", "y", "3", "w"}, ":3\r\n"},
		{"setup string", []string{"SET", "s", "v"}, "+OK\r\n"},
		{"blpop", []string{"BLPOP", "none", "l", "0"}, "*2\r\n$1\r\nl\r\n$1\r\na\r\n"},
		{"brpop", []string{"BRPOP", "l", "0"}, "*2\r\n$1\r\nl\r\n$1\r\nc\r\n"},
		{"wrongtype first", []string{"BLPOP", "s", "l", "0"}, "-" + ErrWrongType + "\r\n"},
		{"served before wrongtype", []string{"BLPOP", "l", "s", "0"}, "*2\r\n$1\r\nl\r\n$1\r\nb\r\n"},
		{"refill", []string{"RPUSH", "l", "a", "b"}, ":2\r\n"},
		{"blmpop", []string{"BLMPOP", "0", "2", "none", "l", "RIGHT", "COUNT", "5"}, "*2\r\n$1\r\nl\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{"refill2", []string{"RPUSH", "l", "a", "b"}, ":2\r\n"},
		{"blmove", []string{"BLMOVE", "l", "d", "LEFT", "RIGHT", "0"}, "$1\r\na\r\n"},
		{"brpoplpush", []string{"BRPOPLPUSH", "l", "d", "0"}, "$1\r\nb\r\n"},
		{"lrange", []string{"LRANGE", "d", "0", "-1"}, "*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
		{"blmove wrongtype dst", []string{"BLMOVE", "d", "s", "LEFT", "RIGHT", "0"}, "-" + ErrWrongType + "\r\n"},
		{"bzpopmin", []string{"BZPOPMIN", "z", "0"}, "*3\r\n$1\r\nz\r\n$1\r\nx\r\n$1\r\n1\r\n"},
		{"bzpopmax", []string{"BZPOPMAX", "none", "z", "0"}, "*3\r\n$1\r\nz\r\n$1\r\nw\r\n$1\r\n3\r\n"},
		{"bzmpop", []string{"BZMPOP", "0", "1", "z", "MIN", "COUNT", "9"}, "*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n"},
		{"bzpop wrongtype", []string{"BZPOPMIN", "l2", "s", "0"}, "-" + ErrWrongType + "\r\n"},
		{"timeout negative", []string{"BLPOP", "l", "-1"}, "-" + errTimeoutNeg + "\r\n"},
		{"timeout float", []string{"BZPOPMIN", "z", "x"}, "-" + errTimeoutFloat + "\r\n"},
		{"blmove syntax before timeout", []string{"BLMOVE", "a", "b", "UP", "LEFT", "x"}, "-" + ErrSyntax + "\r\n"},
		{"blmpop numkeys before timeout", []string{"BLMPOP", "x", "0", "a", "LEFT"}, "-" + errListNumkeys + "\r\n"},
		{"blmpop timeout", []string{"BLMPOP", "x", "1", "a", "LEFT"}, "-" + errTimeoutFloat + "\r\n"},
		{"bzmpop syntax", []string{"BZMPOP", "0", "1", "a", "UP"}, "-" + ErrSyntax + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require_Equal(t, do(t, s, c, tc.cmd...), tc.want)
			require_Equal(t, c.Blocked(), false)
		})
	}
}

func TestBlockingServeFIFO(t *testing.T) {
	s := newTestServer(t, nil)
	pusher := blockClient(t, s)
	var waiters []*Client
	for i := 0; i < 3; i++ {
		c := blockClient(t, s)
		require_Equal(t, do(t, s, c, "BLPOP", "k", "0"), "")
		require_Equal(t, c.Blocked(), true)
		waiters = append(waiters, c)
	}
	blocked, _ := s.blockedCounts()
	require_Equal(t, blocked, 3)
	require_Equal(t, do(t, s, pusher, "RPUSH", "k", "a", "b"), ":2\r\n")
	for i, want := range []string{"*2\r\n$1\r\nk\r\n$1\r\na\r\n", "*2\r\n$1\r\nk\r\n$1\r\nb\r\n"} {
		got, still := takeInbox(waiters[i])
		require_Equal(t, got, want)
		require_Equal(t, still, false)
	}
	got, still := takeInbox(waiters[2])
	require_Equal(t, got, "")
	require_Equal(t, still, true)
	require_Equal(t, do(t, s, pusher, "EXISTS", "k"), ":0\r\n")
	require_Equal(t, strings.Contains(string(s.Info("clients")), "blocked_clients:1\r\n"), true)
}

func TestBlockingMultiKeyAndTypes(t *testing.T) {
	s := newTestServer(t, nil)
	p := blockClient(t, s)
	a := blockClient(t, s) // BLPOP k1 k2
	z := blockClient(t, s) // BZPOPMIN k2
	require_Equal(t, do(t, s, a, "BLPOP", "k1", "k2", "0"), "")
	require_Equal(t, do(t, s, z, "BZPOPMIN", "k2", "0"), "")
	// A zset at k2 serves the zset waiter only; the list waiter stays.
	require_Equal(t, do(t, s, p, "ZADD", "k2", "5", "m"), ":1\r\n")
	got, _ := takeInbox(z)
	require_Equal(t, got, "*3\r\n$2\r\nk2\r\n$1\r\nm\r\n$1\r\n5\r\n")
	// A string at k1: nothing to serve, still blocked.
	require_Equal(t, do(t, s, p, "SET", "k1", "v"), "+OK\r\n")
	_, still := takeInbox(a)
	require_Equal(t, still, true)
	require_Equal(t, do(t, s, p, "RPUSH", "k2", "x"), ":1\r\n")
	got, still = takeInbox(a)
	require_Equal(t, got, "*2\r\n$2\r\nk2\r\n$1\r\nx\r\n")
	require_Equal(t, still, false)
	blocked, _ := s.blockedCounts()
	require_Equal(t, blocked, 0)
	require_Equal(t, len(s.blk.queues), 0)
}

func TestBlockingMoveChain(t *testing.T) {
	s := newTestServer(t, nil)
	p := blockClient(t, s)
	m := blockClient(t, s)
	b := blockClient(t, s)
	require_Equal(t, do(t, s, m, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0"), "")
	require_Equal(t, do(t, s, b, "BRPOP", "dst", "0"), "")
	require_Equal(t, do(t, s, p, "LPUSH", "src", "e"), ":1\r\n")
	got, _ := takeInbox(m)
	require_Equal(t, got, "$1\r\ne\r\n")
	got, _ = takeInbox(b)
	require_Equal(t, got, "*2\r\n$3\r\ndst\r\n$1\r\ne\r\n")
	require_Equal(t, do(t, s, p, "EXISTS", "src", "dst"), ":0\r\n")

	// A destination of the wrong type: the waiter gets WRONGTYPE and
	// nothing is popped.
	require_Equal(t, do(t, s, p, "SET", "str", "v"), "+OK\r\n")
	require_Equal(t, do(t, s, m, "BLMOVE", "src", "str", "LEFT", "LEFT", "0"), "")
	require_Equal(t, do(t, s, p, "LPUSH", "src", "e"), ":1\r\n")
	got, _ = takeInbox(m)
	require_Equal(t, got, "-"+ErrWrongType+"\r\n")
	require_Equal(t, do(t, s, p, "LLEN", "src"), ":1\r\n")
}

func TestBlockingTimeoutAndUnblock(t *testing.T) {
	s := newTestServer(t, nil)
	p := blockClient(t, s)
	c := blockClient(t, s)
	woke := make(chan struct{}, 4)
	c.Wake = func() { woke <- struct{}{} }
	require_Equal(t, do(t, s, c, "HELLO", "3")[:1], "%")
	require_Equal(t, do(t, s, c, "BLMOVE", "a", "b", "LEFT", "LEFT", "0.05"), "")
	_, inTimeout := s.blockedCounts()
	require_Equal(t, inTimeout, 1)
	select {
	case <-woke:
	case <-time.After(10 * time.Second):
		t.Fatal("no timeout reply after 10 s")
	}
	got, still := takeInbox(c)
	require_Equal(t, got, "_\r\n")
	require_Equal(t, still, false)

	id := fmt.Sprint(c.ID)
	for _, tc := range []struct{ why, want string }{
		{"TIMEOUT", "_\r\n"},
		{"ERROR", replyUnblocked},
	} {
		require_Equal(t, do(t, s, c, "BZPOPMIN", "z", "0"), "")
		require_Equal(t, do(t, s, p, "CLIENT", "UNBLOCK", id, tc.why), ":1\r\n")
		got, still = takeInbox(c)
		require_Equal(t, got, tc.want)
		require_Equal(t, still, false)
		require_Equal(t, do(t, s, p, "CLIENT", "UNBLOCK", id, tc.why), ":0\r\n")
	}
	require_Equal(t, do(t, s, p, "CLIENT", "UNBLOCK", id, "x"), "-"+errUnblockWhy+"\r\n")
	require_Equal(t, do(t, s, p, "CLIENT", "UNBLOCK", "x"), "-"+ErrNotInteger+"\r\n")

	// Disconnection removes the waiter: a push is not consumed.
	require_Equal(t, do(t, s, c, "BLPOP", "k", "0"), "")
	s.Disconnected(c)
	require_Equal(t, do(t, s, p, "RPUSH", "k", "v"), ":1\r\n")
	require_Equal(t, do(t, s, p, "LLEN", "k"), ":1\r\n")
	blocked, inTimeout := s.blockedCounts()
	require_Equal(t, blocked+inTimeout, 0)
}

func TestBlockingSwapDB(t *testing.T) {
	s := newTestServer(t, nil)
	p := blockClient(t, s)
	c := blockClient(t, s)
	require_Equal(t, do(t, s, c, "BLPOP", "k", "0"), "")
	require_Equal(t, do(t, s, p, "SELECT", "1"), "+OK\r\n")
	require_Equal(t, do(t, s, p, "RPUSH", "k", "v"), ":1\r\n")
	_, still := takeInbox(c)
	require_Equal(t, still, true)
	require_Equal(t, do(t, s, p, "SWAPDB", "0", "1"), "+OK\r\n")
	got, _ := takeInbox(c)
	require_Equal(t, got, "*2\r\n$1\r\nk\r\n$1\r\nv\r\n")
}

func TestBlockingMustNotBlock(t *testing.T) {
	s := newTestServer(t, nil)
	c := blockClient(t, s)
	all := s.Cache.LockAll()
	defer all.Unlock()
	for _, tc := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"BLPOP", "k", "0"}, "*-1\r\n"},
		{[]string{"BLMOVE", "k", "d", "LEFT", "LEFT", "0"}, "$-1\r\n"},
		{[]string{"BRPOPLPUSH", "k", "d", "0"}, "$-1\r\n"},
		{[]string{"BZMPOP", "0", "1", "k", "MIN"}, "*-1\r\n"},
	} {
		x := &Ctx{S: s, C: c, Args: toArgs(tc.cmd), held: &all}
		x.Cmd = s.Lookup(x.Args[0])
		x.Cmd.Run(x)
		require_Equal(t, string(x.Out), tc.want)
		require_Equal(t, c.Blocked(), false)
	}
}

func toArgs(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// TestBlockingConcurrent pushes from several goroutines while others
// block and pop: every element is consumed exactly once.
func TestBlockingConcurrent(t *testing.T) {
	s := newTestServer(t, nil)
	const producers, consumers, per = 4, 4, 200
	total := producers * per
	got := make(chan string, total)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < consumers; i++ {
		c := s.NewClient()
		woke := make(chan struct{}, 1)
		c.Wake = func() {
			select {
			case woke <- struct{}{}:
			default:
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				out := do(t, s, c, "BLPOP", "q1", "q2", "0")
				for out == "" {
					select {
					case <-woke:
					case <-stop:
						return
					}
					var blocked bool
					var b []byte
					b, blocked = c.TakeInbox(nil)
					out = string(b)
					if blocked && out == "" {
						continue
					}
				}
				got <- out[strings.LastIndex(out[:len(out)-2], "\n")+1 : len(out)-2]
			}
		}()
	}
	var pw sync.WaitGroup
	for i := 0; i < producers; i++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			c := s.NewClient()
			for j := 0; j < per; j++ {
				do(t, s, c, "RPUSH", fmt.Sprintf("q%d", 1+j%2), fmt.Sprintf("%d-%d", i, j))
			}
		}()
	}
	pw.Wait()
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < total {
		select {
		case v := <-got:
			if seen[v] {
				t.Fatalf("element %q consumed twice", v)
			}
			seen[v] = true
		case <-deadline:
			t.Fatalf("consumed %d of %d elements", len(seen), total)
		}
	}
	close(stop)
	wg.Wait()
}
