package command

import (
	"strconv"
	"strings"
	"testing"
)

func helloReply(proto int, id uint64) string {
	pairs := "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:" + strconv.Itoa(proto) +
		"\r\n$2\r\nid\r\n:" + strconv.FormatUint(id, 10) + "\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n"
	if proto == 3 {
		return "%7\r\n" + pairs
	}
	return "*14\r\n" + pairs
}

func TestConnectionCommands(t *testing.T) {
	cases := []connCase{
		{name: "ping", cmd: "PING", want: "+PONG\r\n"},
		{name: "ping msg", cmd: "ping hello", want: "$5\r\nhello\r\n"},
		{name: "ping arity", cmd: "ping a b", want: "-ERR wrong number of arguments for 'ping' command\r\n"},
		{name: "echo", cmd: "echo x", want: "$1\r\nx\r\n"},
		{name: "echo arity", cmd: "echo", want: "-ERR wrong number of arguments for 'echo' command\r\n"},
		{name: "quit", cmd: "quit", want: "+OK\r\n"},
		{name: "hello", cmd: "hello", want: helloReply(2, 1)},
		{name: "hello 2", cmd: "hello 2", want: helloReply(2, 1)},
		{name: "hello 3", cmd: "hello 3", want: helloReply(3, 1)},
		{name: "hello 4", cmd: "hello 4", want: "-NOPROTO unsupported protocol version\r\n"},
		{name: "hello 1", cmd: "hello 1", want: "-NOPROTO unsupported protocol version\r\n"},
		{name: "hello nan", cmd: "hello abc", want: "-ERR Protocol version is not an integer or out of range\r\n"},
		{name: "hello bad opt", cmd: "hello 3 foo", want: "-ERR Syntax error in HELLO option 'foo'\r\n"},
		{name: "hello short auth", cmd: "hello 3 auth default", want: "-ERR Syntax error in HELLO option 'auth'\r\n"},
		{name: "hello bad name", cmd: "hello 3 setname a\nb", want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "hello auth nopass", cmd: "hello 3 auth default any", want: helloReply(3, 1)},
		{name: "hello auth unknown user", cmd: "hello 3 auth bob any", want: "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{name: "hello noauth", pass: "s3", cmd: "hello 3", want: "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"},
		{name: "hello auth wrong", pass: "s3", cmd: "hello 3 auth default nope", want: "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{name: "hello auth ok", pass: "s3", cmd: "hello 3 auth default s3", want: helloReply(3, 1)},
		{name: "hello keeps proto", pre: []string{"hello 3"}, cmd: "hello", want: helloReply(3, 1)},
		{name: "auth nopass", cmd: "auth x", want: "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n"},
		{name: "auth user nopass", cmd: "auth default x", want: "+OK\r\n"},
		{name: "auth unknown user", cmd: "auth a b", want: "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{name: "auth syntax", cmd: "auth a b c", want: "-ERR syntax error\r\n"},
		{name: "auth arity", cmd: "auth", want: "-ERR wrong number of arguments for 'auth' command\r\n"},
		{name: "auth wrong", pass: "s3", cmd: "auth nope", want: "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{name: "auth ok", pass: "s3", cmd: "auth s3", want: "+OK\r\n"},
		{name: "auth user ok", pass: "s3", cmd: "auth default s3", want: "+OK\r\n"},
		{name: "auth user case", pass: "s3", cmd: "auth DEFAULT s3", want: "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{name: "noauth ping", pass: "s3", cmd: "ping", want: "-NOAUTH Authentication required.\r\n"},
		{name: "authed ping", pass: "s3", pre: []string{"auth s3"}, cmd: "ping", want: "+PONG\r\n"},
		{name: "reset", pre: []string{"hello 3", "client setname n"}, cmd: "reset", want: "+RESET\r\n"},
		{name: "reset clears", pre: []string{"hello 3", "client setname n", "reset"}, cmd: "client getname", want: "$-1\r\n"},
		{name: "reset deauths", pass: "s3", pre: []string{"auth s3", "reset"}, cmd: "ping", want: "-NOAUTH Authentication required.\r\n"},
	}
	runConnCases(t, cases, func(tc connCase) Config { return newFakeConfig("requirepass", tc.pass) })
}

func TestConnectionState(t *testing.T) {
	s, cl := newConnServer(t, nil)
	require_Equal(t, do(t, s, cl, "quit"), "+OK\r\n")
	require_Equal(t, cl.CloseAfterReply, true)

	s, cl = newConnServer(t, newFakeConfig("requirepass", "pw"))
	require_Equal(t, cl.Authed, false)
	require_Equal(t, do(t, s, cl, "hello", "3", "auth", "default", "pw", "setname", "app")[:3], "%7\r")
	require_Equal(t, cl.Authed, true)
	require_Equal(t, cl.Proto, 3)
	require_Equal(t, cl.Name(), "app")
	// A failed HELLO changes neither protocol nor name.
	require_Equal(t, do(t, s, cl, "hello", "2", "setname", "x y"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n")
	require_Equal(t, cl.Proto, 3)
	require_Equal(t, cl.Name(), "app")
	cl.DB = 5
	require_Equal(t, do(t, s, cl, "reset"), "+RESET\r\n")
	require_Equal(t, cl.DB, 0)
	require_Equal(t, cl.Proto, 2)
	require_Equal(t, cl.Authed, false)
}

func TestClientCommands(t *testing.T) {
	cases := []connCase{
		{name: "id", cmd: "client id", want: ":1\r\n"},
		{name: "getname unset", cmd: "client getname", want: "$-1\r\n"},
		{name: "getname unset resp3", proto: 3, cmd: "client getname", want: "_\r\n"},
		{name: "setname", cmd: "client setname conn-1", want: "+OK\r\n"},
		{name: "getname", pre: []string{"client setname conn-1"}, cmd: "client getname", want: "$6\r\nconn-1\r\n"},
		{name: "setname space", cmd: "client setname a\x01b", want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "setname newline", cmd: "client setname a\nb", want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "setname nonascii", cmd: "client setname \xc3\xa9", want: "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{name: "setname empty clears", pre: []string{"client setname x", "client setname "}, cmd: "client getname", want: "$-1\r\n"},
		{name: "setname arity", cmd: "client setname", want: "-ERR wrong number of arguments for 'client|setname' command\r\n"},
		{name: "unknown sub", cmd: "client foo", want: "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n"},
		{name: "client arity", cmd: "client", want: "-ERR wrong number of arguments for 'client' command\r\n"},
		{name: "setinfo name", cmd: "client setinfo lib-name redis-py", want: "+OK\r\n"},
		{name: "setinfo ver", cmd: "client setinfo LIB-VER 1.2.3", want: "+OK\r\n"},
		{name: "setinfo bad attr", cmd: "client setinfo lib-foo x", want: "-ERR Unrecognized option 'lib-foo'\r\n"},
		{name: "setinfo bad value", cmd: "client setinfo lib-name a\x01b", want: "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"},
		{name: "setinfo arity", cmd: "client setinfo lib-name", want: "-ERR wrong number of arguments for 'client|setinfo' command\r\n"},
		{name: "list bad type", cmd: "client list type foo", want: "-ERR Unknown client type 'foo'\r\n"},
		{name: "list bad id", cmd: "client list id 1 x", want: "-ERR Invalid client ID\r\n"},
		{name: "list missing id", cmd: "client list id 99", want: "$0\r\n\r\n"},
		{name: "list missing id resp3", proto: 3, cmd: "client list id 99", want: "=4\r\ntxt:\r\n"},
		{name: "list syntax", cmd: "client list foo", want: "-ERR syntax error\r\n"},
		{name: "list pubsub", cmd: "client list type pubsub", want: "$0\r\n\r\n"},
		{name: "kill old no such", cmd: "client kill 1.2.3.4:5", want: "-ERR No such client\r\n"},
		{name: "kill id none", cmd: "client kill id 9999", want: ":0\r\n"},
		{name: "kill id nan", cmd: "client kill id abc", want: "-ERR client-id should be greater than 0\r\n"},
		{name: "kill id zero", cmd: "client kill id 0", want: "-ERR client-id should be greater than 0\r\n"},
		{name: "kill syntax", cmd: "client kill foo bar", want: "-ERR syntax error\r\n"},
		{name: "kill skipme", cmd: "client kill skipme maybe", want: "-ERR syntax error\r\n"},
		{name: "kill odd", cmd: "client kill addr x skipme", want: "-ERR syntax error\r\n"},
		{name: "kill type", cmd: "client kill type x", want: "-ERR Unknown client type 'x'\r\n"},
		{name: "kill user", cmd: "client kill user x", want: "-ERR No such user 'x'\r\n"},
		{name: "kill skips self", cmd: "client kill id 1", want: ":0\r\n"},
		{name: "kill arity", cmd: "client kill", want: "-ERR wrong number of arguments for 'client|kill' command\r\n"},
	}
	runConnCases(t, cases, nil)
}

func TestClientListFormat(t *testing.T) {
	s, cl := newConnServer(t, nil)
	other := s.NewClient()
	other.Addr, other.LAddr, other.FD = "10.0.0.2:4000", "127.0.0.1:6379", 9
	s.Clients.Add(other)
	doAll(t, s, cl, "client setname me", "client setinfo lib-name go-redis", "client setinfo lib-ver 9.17.3")
	cl.DB = 3
	cl.QueryBuf.Store(26)
	cl.OutBuf.Store(5)

	info := do(t, s, cl, "client", "info")
	body := bulkBody(t, info)
	fields := strings.Fields(body)
	wantKeys := []string{"id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub",
		"multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem",
		"events", "cmd", "user", "redir", "resp", "lib-name", "lib-ver"}
	if len(fields) != len(wantKeys) || !strings.HasSuffix(body, "\n") || strings.Count(body, "\n") != 1 {
		t.Fatalf("CLIENT INFO %q: want %d fields and one newline", body, len(wantKeys))
	}
	got := map[string]string{}
	for i, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		require_Equal(t, k, wantKeys[i])
		got[k] = v
	}
	for k, v := range map[string]string{"id": "1", "addr": "127.0.0.1:50000", "laddr": "127.0.0.1:6379", "fd": "7",
		"name": "me", "flags": "N", "db": "3", "multi": "-1", "qbuf": "26", "omem": "5", "tot-mem": "31",
		"events": "rw", "cmd": "client|info", "user": "default", "redir": "-1", "resp": "2",
		"lib-name": "go-redis", "lib-ver": "9.17.3"} {
		require_Equal(t, got[k], v)
	}

	list := bulkBody(t, do(t, s, cl, "client", "list"))
	lines := strings.Split(strings.TrimSuffix(list, "\n"), "\n")
	require_Equal(t, len(lines), 2)
	require_Equal(t, strings.HasPrefix(lines[0], "id=1 addr=127.0.0.1:50000 "), true)
	require_Equal(t, strings.HasPrefix(lines[1], "id=2 addr=10.0.0.2:4000 laddr=127.0.0.1:6379 fd=9 name= "), true)
	require_Equal(t, strings.Contains(lines[1], " cmd=NULL "), true)

	// ID filter keeps the order and repetitions asked for; TYPE normal all.
	byID := bulkBody(t, do(t, s, cl, "client", "list", "id", "2", "1", "2"))
	require_Equal(t, strings.Count(byID, "\n"), 3)
	require_Equal(t, strings.HasPrefix(byID, "id=2 "), true)
	require_Equal(t, strings.Count(bulkBody(t, do(t, s, cl, "client", "list", "type", "NORMAL")), "\n"), 2)

	// RESP3: verbatim txt.
	cl.Proto = 3
	r := do(t, s, cl, "client", "info")
	require_Equal(t, strings.HasPrefix(r, "="+strconv.Itoa(len(body)+4)+"\r\ntxt:id=1 "), true)
}

// bulkBody returns the payload of a RESP2 bulk string reply.
func bulkBody(t *testing.T, r string) string {
	t.Helper()
	hdr, rest, ok := strings.Cut(r, "\r\n")
	if !ok || hdr[0] != '$' {
		t.Fatalf("not a bulk string: %q", r)
	}
	n, _ := strconv.Atoi(hdr[1:])
	if len(rest) != n+2 {
		t.Fatalf("bulk length %d, payload %q", n, rest)
	}
	return rest[:n]
}

func TestClientKill(t *testing.T) {
	s, cl := newConnServer(t, nil)
	killed := map[uint64]int{}
	mk := func(addr, laddr string) *Client {
		c := s.NewClient()
		c.Addr, c.LAddr = addr, laddr
		c.Kill = func() { killed[c.ID]++ }
		s.Clients.Add(c)
		return c
	}
	a := mk("10.0.0.1:1", "127.0.0.1:6379")
	b := mk("10.0.0.2:2", "127.0.0.1:6380")
	c := mk("10.0.0.3:3", "127.0.0.1:6380")

	require_Equal(t, do(t, s, cl, "client", "kill", "10.0.0.1:1"), "+OK\r\n")
	require_Equal(t, killed[a.ID], 1)
	require_Equal(t, do(t, s, cl, "client", "kill", "laddr", "127.0.0.1:6380"), ":2\r\n")
	require_Equal(t, killed[b.ID]+killed[c.ID], 2)
	require_Equal(t, do(t, s, cl, "client", "kill", "id", strconv.FormatUint(c.ID, 10), "addr", "10.0.0.9:9"), ":0\r\n")
	// A killed client is gone at once, as in Redis: killing it again finds
	// nothing, and its Kill hook ran exactly once.
	require_Equal(t, do(t, s, cl, "client", "kill", "ADDR", "10.0.0.3:3", "TYPE", "normal", "USER", "default"), ":0\r\n")
	require_Equal(t, killed[c.ID], 1)
	require_Equal(t, c.Killed(), true)
	d := mk("10.0.0.4:4", "127.0.0.1:6380")
	require_Equal(t, do(t, s, cl, "client", "kill", "ADDR", "10.0.0.4:4", "TYPE", "normal", "USER", "default"), ":1\r\n")
	require_Equal(t, killed[d.ID], 1)
	require_Equal(t, cl.CloseAfterReply, false)

	// The caller: skipped by default, closed after its reply otherwise.
	require_Equal(t, do(t, s, cl, "client", "kill", "addr", cl.Addr), ":0\r\n")
	require_Equal(t, cl.CloseAfterReply, false)
	require_Equal(t, do(t, s, cl, "client", "kill", "addr", cl.Addr, "skipme", "no"), ":1\r\n")
	require_Equal(t, cl.CloseAfterReply, true)
	cl.CloseAfterReply = false
	require_Equal(t, do(t, s, cl, "client", "kill", cl.Addr), "+OK\r\n")
	require_Equal(t, cl.CloseAfterReply, true)
}

func TestClientHelp(t *testing.T) {
	s, cl := newConnServer(t, nil)
	r := do(t, s, cl, "client", "help")
	require_Equal(t, strings.HasPrefix(r, "*"+strconv.Itoa(len(clientHelpLines()))+"\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"), true)
	require_Equal(t, strings.HasSuffix(r, "+HELP\r\n+    Prints this help.\r\n"), true)
	require_Equal(t, do(t, s, cl, "client", "help", "x"), "-ERR wrong number of arguments for 'client|help' command\r\n")
}

// TestAuthDifferential compares authentication replies with a
// redis-server that has a requirepass, byte for byte.
func TestAuthDifferential(t *testing.T) {
	r := startSrvRedis(t, "--requirepass", "pw")
	s, cl := newConnServer(t, newFakeConfig("requirepass", "pw"))
	for _, cmd := range []string{
		"ping", "get k", "client id", "hello", "hello 3", "hello 3 setname x", "hello 3 auth default nope",
		"hello 3 auth bob pw", "hello 5", "auth nope", "auth default nope", "auth bob pw",
		"command count", "ping", "auth pw", "ping", "client getname", "auth default pw", "auth nope", "ping",
		"reset", "ping", "auth default pw", "echo ok",
	} {
		args := strings.Split(cmd, " ")
		if got, want := do(t, s, cl, args...), redisDo(t, r, args...); got != want {
			t.Errorf("%q:\n got %q\nwant %q", cmd, got, want)
		}
	}
}

// TestRequirePassLater: as Redis, a client that connected while no password
// was required stays authenticated when requirepass is set; a new one is not.
func TestRequirePassLater(t *testing.T) {
	cfg := newFakeConfig("requirepass", "")
	s, cl := newConnServer(t, cfg)
	require_Equal(t, do(t, s, cl, "config", "set", "requirepass", "pw"), "+OK\r\n")
	require_Equal(t, do(t, s, cl, "ping"), "+PONG\r\n")
	late := s.NewClient()
	require_Equal(t, do(t, s, late, "ping"), "-NOAUTH Authentication required.\r\n")
	require_Equal(t, do(t, s, cl, "reset"), "+RESET\r\n")
	require_Equal(t, do(t, s, cl, "ping"), "-NOAUTH Authentication required.\r\n")
}

// TestClientListOtherState: another client's db and resp come from what it
// published after its last command (no data race with its event loop).
func TestClientListOtherState(t *testing.T) {
	s, cl := newConnServer(t, nil)
	other := s.NewClient()
	s.Clients.Add(other)
	line := func() string {
		return bulkBody(t, do(t, s, cl, "client", "list", "id", strconv.FormatUint(other.ID, 10)))
	}
	require_Equal(t, strings.Contains(line(), " db=0 ") && strings.Contains(line(), " resp=2 "), true)
	require_Equal(t, do(t, s, other, "hello", "3")[:3], "%7\r")
	require_Equal(t, strings.Contains(line(), " resp=3 "), true)
	other.DB = 4 // as SELECT does, inside a command
	require_Equal(t, do(t, s, other, "ping"), "+PONG\r\n")
	require_Equal(t, strings.Contains(line(), " db=4 "), true)
}
