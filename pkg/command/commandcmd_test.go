package command

import (
	"strconv"
	"strings"
	"testing"
)

// Redis 7.0.15's reply to COMMAND INFO get, RESP2 and RESP3, captured from
// redis-server (TestCommandDifferential also compares live).
const (
	redisCommandInfoGet2 = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"
	redisCommandInfoGet3 = "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"
	redisCommandDocsGet3 = "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
)

func TestCommandCommands(t *testing.T) {
	cases := []connCase{
		{name: "info get", cmd: "command info get", want: redisCommandInfoGet2},
		{name: "info GET", cmd: "command info GET", want: redisCommandInfoGet2},
		{name: "info get resp3", proto: 3, cmd: "command info get", want: redisCommandInfoGet3},
		{name: "info unknown", cmd: "command info nosuch", want: "*1\r\n$-1\r\n"},
		{name: "info unknown resp3", proto: 3, cmd: "command info nosuch", want: "*1\r\n_\r\n"},
		{name: "info mixed", cmd: "command info nosuch get", want: "*2\r\n$-1\r\n" + redisCommandInfoGet2[4:]},
		{name: "info sub", cmd: "command info CONFIG|GET", want: "*1\r\n*10\r\n$10\r\nconfig|get\r\n:-3\r\n*4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n*0\r\n*0\r\n*0\r\n"},
		{name: "info unimplemented sub", cmd: "command info client|pause", want: "*1\r\n$-1\r\n"},
		{name: "info too deep", cmd: "command info config|get|x", want: "*1\r\n$-1\r\n"},
		{name: "info echo resp3", proto: 3, cmd: "command info echo", want: "*1\r\n*10\r\n$4\r\necho\r\n:2\r\n~3\r\n+loading\r\n+stale\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n+@connection\r\n~0\r\n~0\r\n~0\r\n"},
		{name: "docs get resp3", proto: 3, cmd: "command docs get", want: redisCommandDocsGet3},
		{name: "docs unknown", cmd: "command docs nosuch", want: "*0\r\n"},
		{name: "docs unknown resp3", proto: 3, cmd: "command docs nosuch", want: "%0\r\n"},
		{name: "docs twice", proto: 3, cmd: "command docs get get", want: "%2\r\n" + strings.Repeat(redisCommandDocsGet3[4:], 2)},
		{name: "getkeys get", cmd: "command getkeys get a", want: "*1\r\n$1\r\na\r\n"},
		{name: "getkeys set", cmd: "command getkeys set a b", want: "*1\r\n$1\r\na\r\n"},
		{name: "getkeys mset", cmd: "command getkeys mset a b c d", want: "*2\r\n$1\r\na\r\n$1\r\nc\r\n"},
		{name: "getkeys mset odd", cmd: "command getkeys mset a b c", want: "*2\r\n$1\r\na\r\n$1\r\nc\r\n"},
		{name: "getkeys rename", cmd: "command getkeys rename a b", want: "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{name: "getkeys del", cmd: "command getkeys del a b c", want: "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{name: "getkeys arity", cmd: "command getkeys get", want: "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{name: "getkeys unknown", cmd: "command getkeys nosuch a", want: "-ERR Invalid command specified\r\n"},
		{name: "getkeys unknown sub", cmd: "command getkeys config nosuch", want: "-ERR Invalid command specified\r\n"},
		{name: "getkeys no keys", cmd: "command getkeys config get", want: "-ERR The command has no key arguments\r\n"},
		{name: "getkeys no keys ping", cmd: "command getkeys ping x", want: "-ERR The command has no key arguments\r\n"},
		{name: "getkeys bad argc", cmd: "command getkeys get a b", want: "-ERR Invalid number of arguments specified for command\r\n"},
		{name: "getkeysandflags", cmd: "command getkeysandflags mset a b", want: "*1\r\n*2\r\n$1\r\na\r\n*2\r\n+OW\r\n+update\r\n"},
		{name: "getkeysandflags resp3", proto: 3, cmd: "command getkeysandflags get a", want: "*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"},
		{name: "list syntax", cmd: "command list foo", want: "-ERR syntax error\r\n"},
		{name: "list filter syntax", cmd: "command list filterby aclcat", want: "-ERR syntax error\r\n"},
		{name: "list filter type", cmd: "command list filterby foo bar", want: "-ERR syntax error\r\n"},
		{name: "list filter extra", cmd: "command list filterby pattern x y", want: "-ERR syntax error\r\n"},
		{name: "list module", cmd: "command list filterby module x", want: "*0\r\n"},
		{name: "list unknown aclcat", cmd: "command list filterby aclcat nosuch", want: "*0\r\n"},
		{name: "list pattern", cmd: "command list filterby pattern CONF*", want: "*6\r\n$6\r\nconfig\r\n$11\r\nconfig|help\r\n$16\r\nconfig|resetstat\r\n$10\r\nconfig|get\r\n$14\r\nconfig|rewrite\r\n$10\r\nconfig|set\r\n"},
		{name: "list pattern exact", cmd: "command list filterby pattern CONFIG", want: "*1\r\n$6\r\nconfig\r\n"},
		{name: "count arity", cmd: "command count x", want: "-ERR wrong number of arguments for 'command|count' command\r\n"},
		{name: "help arity", cmd: "command help x", want: "-ERR wrong number of arguments for 'command|help' command\r\n"},
		{name: "unknown sub", cmd: "command foo", want: "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n"},
	}
	runConnCases(t, cases, nil)
}

func TestCommandTable(t *testing.T) {
	s, cl := newConnServer(t, nil)
	n := len(s.Table())
	require_Equal(t, do(t, s, cl, "command", "count"), ":"+strconv.Itoa(n)+"\r\n")

	// COMMAND lists every command once, each entry equal to COMMAND INFO's.
	all := do(t, s, cl, "command")
	require_Equal(t, strings.HasPrefix(all, "*"+strconv.Itoa(n)+"\r\n"), true)
	var body strings.Builder
	for _, c := range s.sortedCommands() {
		one := do(t, s, cl, "command", "info", c.Name)
		body.WriteString(strings.TrimPrefix(one, "*1\r\n"))
	}
	require_Equal(t, all, "*"+strconv.Itoa(n)+"\r\n"+body.String())
	require_Equal(t, do(t, s, cl, "command", "info"), all)

	// A container lists exactly its implemented subcommands.
	info := do(t, s, cl, "command", "info", "client")
	for name := range s.Lookup([]byte("client")).Subcommands {
		if !strings.Contains(info, "client|"+name+"\r\n") {
			t.Errorf("COMMAND INFO client lacks client|%s", name)
		}
	}
	for _, absent := range []string{"client|pause", "client|tracking", "client|no-evict"} {
		if strings.Contains(info, absent) {
			t.Errorf("COMMAND INFO client lists unimplemented %s", absent)
		}
	}
	require_Equal(t, strings.Contains(info, "*10\r\n$14\r\nclient|setinfo\r\n:4\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n"), true)
	docs := do(t, s, cl, "command", "docs", "client")
	require_Equal(t, strings.Contains(docs, "client|pause"), false)
	require_Equal(t, strings.Contains(docs, "$14\r\nclient|setinfo\r\n"), true)
	require_Equal(t, strings.Contains(docs, "$8\r\nlib-name\r\n"), true)

	// COMMAND LIST: every command and implemented subcommand.
	list := do(t, s, cl, "command", "list")
	want := 0
	for _, c := range s.Table() {
		want += 1 + len(c.Subcommands)
	}
	require_Equal(t, strings.HasPrefix(list, "*"+strconv.Itoa(want)+"\r\n"), true)
	conn := do(t, s, cl, "command", "list", "filterby", "aclcat", "CONNECTION")
	for _, name := range []string{"ping", "echo", "hello", "auth", "client|id", "command|info", "select"} {
		if !strings.Contains(conn, "$"+strconv.Itoa(len(name))+"\r\n"+name+"\r\n") {
			t.Errorf("FILTERBY ACLCAT connection lacks %s: %q", name, conn)
		}
	}
	require_Equal(t, strings.Contains(conn, "\r\nget\r\n"), false)

	// All-docs reply is a map of every command.
	require_Equal(t, strings.HasPrefix(do(t, s, cl, "command", "docs"), "*"+strconv.Itoa(2*n)+"\r\n"), true)
	help := do(t, s, cl, "command", "help")
	require_Equal(t, strings.HasPrefix(help, "*21\r\n+COMMAND <subcommand>"), true)
}

// TestCommandDifferential compares COMMAND INFO and DOCS of every
// implemented command and subcommand, and the deterministic replies of the
// connection and server groups, byte for byte with redis-server 7.0.
func TestCommandDifferential(t *testing.T) {
	r := startSrvRedis(t)
	s, cl := newConnServer(t, nil)
	check := func(args ...string) {
		t.Helper()
		got, want := do(t, s, cl, args...), redisDo(t, r, args...)
		if got != want {
			t.Errorf("%q:\n got %q\nwant %q", args, got, want)
		}
	}
	for _, proto := range []string{"2", "3"} {
		redisDo(t, r, "hello", proto)
		do(t, s, cl, "hello", proto)
		for _, c := range s.sortedCommands() {
			if len(c.Subcommands) == 0 {
				check("command", "info", c.Name)
				check("command", "docs", c.Name)
				continue
			}
			for _, sub := range implementedSubs(c) {
				if sub.Name == "client|setinfo" {
					continue // Redis 7.2
				}
				check("command", "info", sub.Name)
				check("command", "docs", sub.Name)
			}
		}
		for _, cmd := range []string{
			"command info nosuch get", "command docs nosuch", "command docs get get",
			"command getkeys get a", "command getkeys mset a b c d", "command getkeys mset a b c",
			"command getkeys set a b EX 10", "command getkeys getex k PERSIST", "command getkeys rename a b",
			"command getkeys get", "command getkeys nosuch a", "command getkeys config nosuch",
			"command getkeys config get", "command getkeys get a b", "command getkeys ping x",
			"command getkeysandflags mset a b", "command getkeysandflags rename a b",
			"command list foo", "command list filterby aclcat", "command list filterby module x",
			"command list filterby aclcat nosuch", "command list filterby pattern nosuch*",
			"command help", "command count x", "command foo",
			"config help", "config foo", "config get", "config set", "config set maxmemory",
			"config set maxmemory 1 hz", "config resetstat x", "config rewrite",
			"ping", "ping hello", "ping a b", "echo x", "echo",
			"hello 4", "hello 1", "hello abc", "hello 3 foo", "hello 3 auth a", "hello 3 setname a\nb",
			"hello 3 auth bob x",
			"auth x", "auth a b", "auth a b c", "auth default x",
			"client setname", "client setname a\x01b", "client setname ok", "client getname",
			"client setname ", "client getname", "client foo", "client",
			"client list type foo", "client list id 1 x", "client list id 99999", "client list foo",
			"client list type pubsub", "client list type master",
			"client kill", "client kill 1.2.3.4:5", "client kill id 9999", "client kill id abc",
			"client kill id 0", "client kill foo bar", "client kill skipme maybe",
			"client kill addr x skipme", "client kill type x", "client kill user x",
			"client kill addr 1.1.1.1:1 laddr 2",
			"shutdown foo", "shutdown abort", "shutdown nosave save", "shutdown abort now",
			"bgsave foo", "bgsave schedule x", "save x", "time x", "lastsave x",
			"info nosuch", "info nosuch other", "info cluster", "info modules cluster", "info keyspace", "info CLUSTER keyspace",
		} {
			check(strings.Split(cmd, " ")...)
		}
	}
}
