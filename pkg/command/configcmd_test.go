package command

import (
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/config"
)

func TestConfigCommands(t *testing.T) {
	cases := []connCase{
		{name: "get", cmd: "config get maxmemory", want: "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{name: "get resp3", proto: 3, cmd: "config get maxmemory", want: "%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{name: "get none", cmd: "config get nosuch", want: "*0\r\n"},
		{name: "get none resp3", proto: 3, cmd: "config get nosuch", want: "%0\r\n"},
		{name: "get dedup", cmd: "config get maxmemory max* maxmemory", want: "*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{name: "get many", cmd: "config get hz maxmemory", want: "*4\r\n$2\r\nhz\r\n$2\r\n10\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"},
		{name: "get arity", cmd: "config get", want: "-ERR wrong number of arguments for 'config|get' command\r\n"},
		{name: "set", cmd: "config set hz 20", want: "+OK\r\n"},
		{name: "set applied", pre: []string{"config set hz 20 maxmemory 5"}, cmd: "config get hz", want: "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"},
		{name: "set odd", cmd: "config set maxmemory 1 hz", want: "-ERR syntax error\r\n"},
		{name: "set arity", cmd: "config set maxmemory", want: "-ERR wrong number of arguments for 'config|set' command\r\n"},
		{name: "set error", cmd: "config set nosuch 1", want: "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'\r\n"},
		{name: "set atomic", pre: []string{"config set hz 30 nosuch 1"}, cmd: "config get hz", want: "*2\r\n$2\r\nhz\r\n$2\r\n10\r\n"},
		{name: "resetstat", cmd: "config resetstat", want: "+OK\r\n"},
		{name: "resetstat arity", cmd: "config resetstat x", want: "-ERR wrong number of arguments for 'config|resetstat' command\r\n"},
		{name: "rewrite no file", cmd: "config rewrite", want: "-ERR The server is running without a config file\r\n"},
		{name: "unknown", cmd: "config foo", want: "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n"},
		{name: "arity", cmd: "config", want: "-ERR wrong number of arguments for 'config' command\r\n"},
		{name: "help", cmd: "config help", want: "*11\r\n+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GET <pattern>\r\n+    Return parameters matching the glob-like <pattern> and their values.\r\n+SET <directive> <value>\r\n+    Set the configuration <directive> to <value>.\r\n+RESETSTAT\r\n+    Reset statistics reported by the INFO command.\r\n+REWRITE\r\n+    Rewrite the configuration file.\r\n+HELP\r\n+    Prints this help.\r\n"},
	}
	runConnCases(t, cases, func(connCase) Config { return newFakeConfig("maxmemory", "0", "hz", "10") })
}

func TestConfigRewrite(t *testing.T) {
	f := newFakeConfig()
	s, cl := newConnServer(t, fakeRewriter{f})
	require_Equal(t, do(t, s, cl, "config", "rewrite"), "-ERR The server is running without a config file\r\n")
	require_Equal(t, f.rew, 0)
	f.file = "/etc/tstd.conf"
	require_Equal(t, do(t, s, cl, "config", "rewrite"), "+OK\r\n")
	require_Equal(t, f.rew, 1)
	require_Equal(t, string(s.Info("server")) != "", true)

	// Without any registry, CONFIG GET is empty and SET fails as Redis does
	// for an unknown directive.
	s, cl = newConnServer(t, nil)
	require_Equal(t, do(t, s, cl, "config", "get", "*"), "*0\r\n")
	require_Equal(t, do(t, s, cl, "config", "set", "hz", "1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'hz'\r\n")
}

func TestConfigResetStat(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	s.Stats.ConnectionsReceived.Store(7)
	s.Stats.NetInputBytes.Store(100)
	s.Stats.KeyspaceHits.Store(3)
	s.Stats.ConnectedClients.Store(2)
	do(t, s, cl, "set", "k", "v")
	do(t, s, cl, "get", "k")
	require_Equal(t, do(t, s, cl, "config", "resetstat"), "+OK\r\n")
	require_Equal(t, s.Stats.ConnectionsReceived.Load(), uint64(0))
	require_Equal(t, s.Stats.NetInputBytes.Load(), uint64(0))
	require_Equal(t, s.Stats.KeyspaceHits.Load(), uint64(0))
	require_Equal(t, s.Stats.CommandsProcessed.Load(), uint64(0))
	require_Equal(t, s.Stats.ConnectedClients.Load(), int64(2)) // a gauge, kept
	cs := s.Cache.Stats()
	require_Equal(t, cs.Hits+cs.Misses+cs.Inserts, uint64(0))
}

// TestConfigDifferential runs CONFIG over the real directive registry
// (pkg/config) and compares the replies with redis-server 7.0.
func TestConfigDifferential(t *testing.T) {
	r := startSrvRedis(t)
	s, cl := newConnServer(t, config.New())
	for _, proto := range []string{"2", "3"} {
		redisDo(t, r, "hello", proto)
		do(t, s, cl, "hello", proto)
		for _, cmd := range []string{
			"config get maxmemory", "config get hz", "config get maxmemory-policy", "config get nosuch",
			"config get maxmemory maxmemory", "config get timeout",
			"config set maxmemory abc", "config set hz 10 hz 11", "config set nosuch 1",
			"config set maxmemory 1mb", "config get maxmemory", "config set maxmemory 0",
			"config set hz 20 maxmemory-policy allkeys-lru", "config get hz", "config get maxmemory-policy",
			"config set hz 10 maxmemory-policy noeviction", "config set maxmemory-policy bogus",
			"config set timeout -1",
		} {
			args := strings.Split(cmd, " ")
			if got, want := do(t, s, cl, args...), redisDo(t, r, args...); got != want {
				t.Errorf("RESP%s %q:\n got %q\nwant %q", proto, cmd, got, want)
			}
		}
	}
}
