package command

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Most transaction replies are checked byte for byte against redis-server
// by test/diff/testdata/multi.txt; these tests cover what a script cannot
// see: the registry's bookkeeping, CLIENT LIST fields, the queue limit,
// argument copies, InExec, and atomicity under concurrency.

// doB runs one command given as byte slices (the caller keeps them).
func doB(s *Server, cl *Client, args ...[]byte) string { return string(s.Execute(cl, args, nil)) }

func TestMultiSequences(t *testing.T) {
	cases := []struct {
		name string
		cmds []string // run in order on one client
		want string   // reply of the last
	}{
		{"queued", []string{"multi", "set a 1"}, "+QUEUED\r\n"},
		{"exec", []string{"multi", "set a 1", "incr a", "exec"}, "*2\r\n+OK\r\n:2\r\n"},
		{"empty exec", []string{"multi", "exec"}, "*0\r\n"},
		{"nested", []string{"multi", "multi"}, "-ERR MULTI calls can not be nested\r\n"},
		{"nested does not abort", []string{"multi", "multi", "ping", "exec"}, "*1\r\n+PONG\r\n"},
		{"exec without multi", []string{"exec"}, "-ERR EXEC without MULTI\r\n"},
		{"discard without multi", []string{"discard"}, "-ERR DISCARD without MULTI\r\n"},
		{"watch inside multi", []string{"multi", "watch k"}, "-ERR WATCH inside MULTI is not allowed\r\n"},
		{"no_multi", []string{"multi", "save"}, "-ERR Command not allowed inside a transaction\r\n"},
		{"no_multi aborts", []string{"multi", "save", "exec"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{"unknown aborts", []string{"multi", "nosuch", "ping", "exec"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{"arity aborts", []string{"multi", "get", "exec"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{"exec arity", []string{"multi", "exec x"}, "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n"},
		{"exec arity discards", []string{"multi", "exec x", "exec"}, "-ERR EXEC without MULTI\r\n"},
		{"runtime error", []string{"set s x", "multi", "incr s", "get s", "exec"}, "*2\r\n-ERR value is not an integer or out of range\r\n$1\r\nx\r\n"},
		{"discard", []string{"multi", "set d 1", "discard", "get d"}, "$-1\r\n"},
		{"reset", []string{"multi", "set r 1", "reset", "exec"}, "-ERR EXEC without MULTI\r\n"},
		{"own write before multi", []string{"watch k", "set k 1", "multi", "ping", "exec"}, "*-1\r\n"},
		{"own write inside", []string{"watch k", "multi", "set k 1", "exec"}, "*1\r\n+OK\r\n"},
		{"unwatch", []string{"watch k", "set k 1", "unwatch", "multi", "ping", "exec"}, "*1\r\n+PONG\r\n"},
		{"select inside", []string{"multi", "select 2", "set k 1", "exec", "get k"}, "$1\r\n1\r\n"},
		{"hello 3 inside", []string{"multi", "hello 3", "exec", "get nokey"}, "_\r\n"},
		{"resp3 null array", []string{"hello 3", "watch k", "set k 1", "multi", "exec"}, "_\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			cl := s.NewClient()
			var got string
			for _, c := range tc.cmds {
				got = do(t, s, cl, strings.Fields(c)...)
			}
			require_Equal(t, got, tc.want)
		})
	}
}

// TestMultiCopiesArgs: queued arguments alias the connection's input
// buffer, which is reused once Execute returns.
func TestMultiCopiesArgs(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	require_Equal(t, do(t, s, cl, "multi"), "+OK\r\n")
	buf := []byte("setkeyvalue")
	require_Equal(t, doB(s, cl, buf[0:3], buf[3:6], buf[6:11]), "+QUEUED\r\n")
	copy(buf, "xxxxxxxxxxx")
	require_Equal(t, do(t, s, cl, "exec"), "*1\r\n+OK\r\n")
	require_Equal(t, do(t, s, cl, "get", "key"), "$5\r\nvalue\r\n")
}

// TestMultiQueueLimit: past MaxQueuedBytes a command is refused and the
// transaction fails; the client stays usable.
func TestMultiQueueLimit(t *testing.T) {
	s := newTestServer(t, nil)
	s.MaxQueuedBytes = 100
	cl := s.NewClient()
	do(t, s, cl, "multi")
	// "set k <40 bytes>": 3+1+40 bytes + 8 per argument = 68.
	require_Equal(t, do(t, s, cl, "set", "k", strings.Repeat("a", 40)), "+QUEUED\r\n")
	require_Equal(t, do(t, s, cl, "set", "k", strings.Repeat("b", 40)),
		"-ERR Transaction queue limit of 100 bytes reached (MULTI); the transaction is discarded at EXEC\r\n")
	require_Equal(t, len(cl.tx.queue), 0) // freed at once
	require_Equal(t, do(t, s, cl, "ping"), "+QUEUED\r\n")
	require_Equal(t, do(t, s, cl, "exec"), "-EXECABORT Transaction discarded because of previous errors.\r\n")
	require_Equal(t, do(t, s, cl, "get", "k"), "$-1\r\n")
	// The limit is per transaction.
	do(t, s, cl, "multi")
	require_Equal(t, do(t, s, cl, "set", "k", strings.Repeat("c", 40)), "+QUEUED\r\n")
	require_Equal(t, do(t, s, cl, "exec"), "*1\r\n+OK\r\n")
}

// clientField returns field name of c's CLIENT LIST line.
func clientField(t *testing.T, s *Server, c *Client, name string) string {
	t.Helper()
	line := string(appendClientInfo(nil, c, nil, 0))
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s= in %q", name, line)
	return ""
}

func TestMultiClientList(t *testing.T) {
	s := newTestServer(t, nil)
	a, b := s.NewClient(), s.NewClient()
	check := func(flags, multi, mem string) {
		t.Helper()
		require_Equal(t, clientField(t, s, a, "flags"), flags)
		require_Equal(t, clientField(t, s, a, "multi"), multi)
		require_Equal(t, clientField(t, s, a, "multi-mem"), mem)
	}
	check("N", "-1", "0")
	do(t, s, a, "multi")
	check("x", "0", "0")
	do(t, s, a, "set", "a", "1") // Redis: argument bytes + 8 per argument
	check("x", "1", "29")
	do(t, s, a, "exec")
	check("N", "-1", "0")
	do(t, s, a, "watch", "k")
	check("N", "-1", "0")
	do(t, s, b, "set", "k", "1")
	check("d", "-1", "0")
	do(t, s, a, "multi")
	check("xd", "0", "0")
	require_Equal(t, do(t, s, a, "exec"), "*-1\r\n")
	check("N", "-1", "0")
	// Inside EXEC the client is still in MULTI, as in Redis.
	do(t, s, a, "multi")
	do(t, s, a, "client", "info")
	got := do(t, s, a, "exec")
	if !strings.Contains(got, " flags=x ") || !strings.Contains(got, " multi=1 ") {
		t.Fatalf("CLIENT INFO inside EXEC: %q", got)
	}
}

// TestWatchRegistry checks the registry's entry count, which lets the
// keyspace hooks skip the lock when nothing is watched, after every way
// of leaving a watch.
func TestWatchRegistry(t *testing.T) {
	s := newTestServer(t, nil)
	a, b := s.NewClient(), s.NewClient()
	n := func() int64 { return s.watch.n.Load() }
	do(t, s, a, "watch", "k1", "k2", "k1")
	require_Equal(t, n(), int64(2))
	do(t, s, a, "watch", "k2", "k3")
	require_Equal(t, n(), int64(3))
	do(t, s, b, "watch", "k1")
	require_Equal(t, n(), int64(4))
	do(t, s, a, "unwatch")
	require_Equal(t, n(), int64(1))
	do(t, s, a, "watch", "k1")
	do(t, s, a, "multi")
	do(t, s, a, "exec")
	require_Equal(t, n(), int64(1))
	do(t, s, a, "watch", "k1")
	do(t, s, a, "multi")
	do(t, s, a, "discard")
	require_Equal(t, n(), int64(1))
	do(t, s, a, "watch", "k1")
	do(t, s, a, "reset")
	require_Equal(t, n(), int64(1))
	do(t, s, a, "watch", "k1")
	s.Disconnected(a)
	require_Equal(t, n(), int64(1))
	// b is still watching k1, in its own db 0 only.
	do(t, s, a, "select", "1")
	do(t, s, a, "set", "k1", "x")
	require_Equal(t, b.tx.dirty.Load(), false)
	s.Disconnected(b)
	require_Equal(t, n(), int64(0))
	require_Equal(t, len(s.watch.dbs), 0)
}

// TestInExec: a command queued in MULTI runs with InExec true (blocking
// commands check it so as never to block inside EXEC); outside, false.
func TestInExec(t *testing.T) {
	s := newTestServer(t, nil)
	s.table["inexec"] = &Command{Name: "inexec", Arity: 1, Run: func(x *Ctx) {
		x.Int(map[bool]int64{false: 0, true: 1}[x.InExec()])
	}}
	cl := s.NewClient()
	require_Equal(t, do(t, s, cl, "inexec"), ":0\r\n")
	do(t, s, cl, "multi")
	require_Equal(t, do(t, s, cl, "inexec"), "+QUEUED\r\n")
	require_Equal(t, do(t, s, cl, "exec"), "*1\r\n:1\r\n")
	require_Equal(t, do(t, s, cl, "inexec"), ":0\r\n")
}

// TestExecAtomic: a reader reading two keys together never sees half of
// an EXEC that sets both, whatever the shards of the keys.
func TestExecAtomic(t *testing.T) {
	s := newTestServer(t, nil)
	const rounds = 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		w := s.NewClient()
		for i := range rounds {
			v := strconv.Itoa(i)
			do(t, s, w, "multi")
			do(t, s, w, "set", "x", v)
			do(t, s, w, "set", "y", v)
			if got := do(t, s, w, "exec"); got != "*2\r\n+OK\r\n+OK\r\n" {
				t.Errorf("exec: %q", got)
				return
			}
		}
	}()
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.NewClient()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got := do(t, s, c, "mget", "x", "y")
				parts := strings.Split(got, "\r\n")
				if len(parts) == 6 && parts[2] != parts[4] {
					t.Errorf("half an EXEC seen: %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestWatchCounter: optimistic locking. Each goroutine increments a
// counter with WATCH/GET/MULTI/SET/EXEC, retrying on a null EXEC; the
// total must be exact.
func TestWatchCounter(t *testing.T) {
	s := newTestServer(t, nil)
	const workers, each = 4, 200
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.NewClient()
			for done := 0; done < each; {
				do(t, s, c, "watch", "counter")
				n := 0
				if got := do(t, s, c, "get", "counter"); got != "$-1\r\n" {
					n, _ = strconv.Atoi(strings.Split(got, "\r\n")[1])
				}
				do(t, s, c, "multi")
				do(t, s, c, "set", "counter", strconv.Itoa(n+1))
				switch got := do(t, s, c, "exec"); got {
				case "*1\r\n+OK\r\n":
					done++
				case "*-1\r\n":
				default:
					t.Errorf("exec: %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
	require_Equal(t, do(t, s, s.NewClient(), "get", "counter"), "$3\r\n800\r\n")
}

// TestExecEveryCommand queues every command and subcommand of the table
// (with placeholder arguments, so many fail at run time) and checks that
// EXEC completes: a command that took a shard lock outside its Ctx would
// deadlock against EXEC's held shards.
func TestExecEveryCommand(t *testing.T) {
	s := newTestServer(t, nil)
	var lines [][]string
	for name, cmd := range s.table {
		if cmd.Subcommands == nil {
			lines = append(lines, placeholderArgs([]string{name}, cmd.Arity))
			continue
		}
		for sub, sc := range cmd.Subcommands {
			lines = append(lines, placeholderArgs([]string{name, sub}, sc.Arity))
		}
	}
	for _, args := range lines {
		if args[0] == "quit" || args[0] == "reset" || args[0] == "exec" || args[0] == "multi" || args[0] == "discard" || args[0] == "watch" {
			continue // run at once, not queued
		}
		done := make(chan string, 1)
		go func() {
			cl := s.NewClient()
			do(t, s, cl, "multi")
			do(t, s, cl, args...)
			done <- do(t, s, cl, "exec")
		}()
		select {
		case got := <-done:
			if !strings.HasPrefix(got, "*1\r\n") && !strings.HasPrefix(got, "-EXECABORT") {
				t.Errorf("%v: EXEC replied %q", args, got)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v inside EXEC did not finish (deadlock?)", args)
		}
	}
}

// placeholderArgs completes name to the command's minimum arity with
// placeholder arguments.
func placeholderArgs(name []string, arity int) []string {
	n := arity
	if n < 0 {
		n = -n
	}
	args := append([]string(nil), name...)
	for len(args) < n {
		args = append(args, "1")
	}
	return args
}

// TestExecWithoutCache: keyless commands run inside EXEC on a server
// without a cache (the connection commands' tests use one).
func TestExecWithoutCache(t *testing.T) {
	s, cl := newConnServer(t, nil)
	require_Equal(t, doAll(t, s, cl, "multi", "ping", "echo hi", "exec"), "*2\r\n+PONG\r\n$2\r\nhi\r\n")
}

// TestWatchWhileLoading: WATCH and EXEC run while the dataset loads (they
// have Redis's loading flag); a WATCH then fails the EXEC, since the keys
// are about to change, and a queued command without the flag fails the
// transaction.
func TestWatchWhileLoading(t *testing.T) {
	s, cl := newConnServer(t, nil)
	s.BeginLoading(nil)
	require_Equal(t, doAll(t, s, cl, "multi", "echo hi", "exec"), "*1\r\n$2\r\nhi\r\n")
	require_Equal(t, doAll(t, s, cl, "multi", "get k"), "-"+ErrLoading+"\r\n")
	require_Equal(t, do(t, s, cl, "exec"), "-EXECABORT Transaction discarded because of previous errors.\r\n")
	require_Equal(t, do(t, s, cl, "watch", "k"), "+OK\r\n")
	require_Equal(t, doAll(t, s, cl, "multi", "echo hi", "exec"), "*-1\r\n")
}
