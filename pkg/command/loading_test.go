package command

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
)

// TestLoadingGate checks what a client sees while the dataset loads
// (replies checked against redis-server 7.0.15 loading an RDB): -LOADING
// for commands without the loading flag, after the unknown-command and
// arity checks; flagged commands work; after FinishLoading everything runs.
func TestLoadingGate(t *testing.T) {
	s, cl := newConnServer(t, newFakeConfig("databases", "16", "port", "6379"))
	s.BeginLoading(func() (int64, int64) { return 250, 1000 })
	cases := []struct{ cmd, want string }{
		{"GET a", "-" + ErrLoading + "\r\n"},
		{"SET a b", "-" + ErrLoading + "\r\n"},
		{"DBSIZE", "-" + ErrLoading + "\r\n"},
		{"PING", "-" + ErrLoading + "\r\n"}, // PING has no loading flag in 7.0
		{"GET", "-ERR wrong number of arguments for 'get' command\r\n"},
		{"FOO", "-ERR unknown command 'FOO', with args beginning with: \r\n"},
		{"ECHO x", "$1\r\nx\r\n"},
		{"SELECT 1", "+OK\r\n"},
		{"SELECT 16", "-ERR DB index is out of range\r\n"},
		{"CONFIG GET port", "*2\r\n$4\r\nport\r\n$4\r\n6379\r\n"},
		{"CLIENT SETNAME x", "+OK\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.cmd, func(t *testing.T) {
			require_Equal(t, do(t, s, cl, strings.Fields(tc.cmd)...), tc.want)
		})
	}

	info := do(t, s, cl, "INFO", "persistence")
	for _, want := range []string{"\r\nloading:1\r\n", "\r\nloading_total_bytes:1000\r\n", "\r\nloading_loaded_bytes:250\r\n",
		"\r\nloading_loaded_perc:24.98\r\n", "\r\nloading_rdb_used_mem:0\r\n", "\r\nloading_eta_seconds:"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO persistence lacks %q:\n%s", want, info)
		}
	}
	if !strings.HasSuffix(info, "\r\n") || !strings.Contains(info, "aof_current_size:0\r\nloading_start_time:") {
		t.Errorf("loading_* fields must close the section, as in Redis:\n%s", info)
	}
	if all := do(t, s, cl, "INFO", "everything"); !strings.Contains(all, "# Keyspace\r\n") {
		t.Errorf("INFO everything while loading:\n%s", all)
	}

	c, err := cache.New(t.TempDir(), 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s.FinishLoading(c)
	require_Equal(t, s.Loading(), false)
	require_Equal(t, do(t, s, cl, "SET", "a", "b"), "+OK\r\n")
	require_Equal(t, do(t, s, cl, "GET", "a"), "$1\r\nb\r\n")
	require_Equal(t, do(t, s, cl, "PING"), "+PONG\r\n")
	info = do(t, s, cl, "INFO", "persistence")
	if !strings.Contains(info, "\r\nloading:0\r\n") || strings.Contains(info, "loading_") {
		t.Errorf("INFO persistence after the load:\n%s", info)
	}
}

// TestLoadingEveryCommand runs every command and subcommand of the table
// while loading, with a nil cache, with 0 to 3 arguments: none may panic
// (command code that runs during a load must not touch the missing
// keyspace), every command without the loading flag that passes the arity
// check must answer -LOADING, and no flagged one may.
func TestLoadingEveryCommand(t *testing.T) {
	s, _ := newConnServer(t, newFakeConfig("databases", "16", "port", "6379"))
	s.BeginLoading(nil)
	var cmds []*Command
	for _, c := range s.Table() {
		if c.Subcommands == nil {
			cmds = append(cmds, c)
		}
		for _, sub := range c.Subcommands {
			cmds = append(cmds, sub)
		}
	}
	slices.SortFunc(cmds, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	skip := map[string]bool{"shutdown": true, "monitor": true, "subscribe": true, "psubscribe": true, "ssubscribe": true, "quit": true}
	for _, c := range cmds {
		if skip[c.Name] {
			continue
		}
		for extra := 0; extra <= 3; extra++ {
			args := strings.Split(c.Name, "|")
			for i := range extra {
				args = append(args, fmt.Sprint(i))
			}
			if (c.Arity > 0 && len(args) != c.Arity) || len(args) < -c.Arity {
				continue
			}
			cl := s.NewClient()
			var reply string
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%q panicked while loading: %v", args, r)
					}
				}()
				reply = do(t, s, cl, args...)
			}()
			loading := reply == "-"+ErrLoading+"\r\n"
			if flagged := c.Flags&FlagLoading != 0; flagged == loading {
				t.Errorf("%q (loading flag %v) replied %q while loading", args, flagged, reply)
			}
		}
	}
}
