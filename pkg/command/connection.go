package command

import (
	"strings"
)

// The connection group: PING, ECHO, QUIT, HELLO, AUTH, RESET and the CLIENT
// container (clientcmd.go). Replies and errors are Redis 7.0.15's.

func connectionCommands() []*Command {
	return []*Command{
		{Name: "ping", Run: pingCmd},
		{Name: "echo", Run: echoCmd},
		{Name: "quit", Run: quitCmd},
		{Name: "hello", Run: helloCmd},
		{Name: "auth", Run: authCmd},
		{Name: "reset", Run: resetCmd},
		clientCommand(),
	}
}

// Connection error replies, verbatim from Redis 7.0.
const (
	errNoProto       = "NOPROTO unsupported protocol version"
	errProtoNotInt   = "ERR Protocol version is not an integer or out of range"
	errWrongPass     = "WRONGPASS invalid username-password pair or user is disabled."
	errAuthNoPass    = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	errHelloNoAuth   = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	errBadClientName = "ERR Client names cannot contain spaces, newlines or special characters."
)

// defaultUser is the only ACL user ToonStore has, as a Redis without ACL
// rules: "default", with requirepass as its password (nopass if empty).
const defaultUser = "default"

// optIs reports whether the option argument b equals kw (lower case)
// ignoring ASCII case, as Redis's strcasecmp.
func optIs(b []byte, kw string) bool {
	if len(b) != len(kw) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != kw[i] {
			return false
		}
	}
	return true
}

// PING [message]: +PONG, or message as a bulk string.
func pingCmd(x *Ctx) {
	if len(x.Args) > 2 {
		x.ErrArity()
		return
	}
	if pingSubscribed(x) {
		return
	}
	if len(x.Args) == 1 {
		x.Simple("PONG")
		return
	}
	x.Bulk(x.Args[1])
}

// ECHO message.
func echoCmd(x *Ctx) { x.Bulk(x.Args[1]) }

// QUIT: +OK, then the connection closes once the reply is written.
func quitCmd(x *Ctx) {
	x.C.CloseAfterReply = true
	// The connection closes once the reply is written, on the loop's
	// time; its subscriptions end now, so that PUBSUB and PUBLISH on
	// other connections no longer count it after +OK (Redis frees the
	// client right after writing the reply).
	x.S.unsubscribeAll(x.C)
	x.OK()
}

// checkPassword reports whether user/pass authenticate against the default
// user: requirepass, or any password when none is configured (nopass).
func (s *Server) checkPassword(user, pass []byte) bool {
	if string(user) != defaultUser {
		return false
	}
	want := ""
	if s.Config != nil {
		want = s.Config.Value("requirepass")
	}
	return want == "" || want == string(pass)
}

// AUTH [username] password.
func authCmd(x *Ctx) {
	if len(x.Args) > 3 {
		x.ErrSyntax()
		return
	}
	user, pass := []byte(defaultUser), x.Args[1]
	if len(x.Args) == 2 {
		if !x.S.requirePass() {
			x.Error(errAuthNoPass)
			return
		}
	} else {
		user, pass = x.Args[1], x.Args[2]
	}
	if !x.S.checkPassword(user, pass) {
		x.Error(errWrongPass)
		return
	}
	x.C.Authed = true
	x.OK()
}

// HELLO [protover [AUTH username password] [SETNAME clientname]].
func helloCmd(x *Ctx) {
	ver := int64(0)
	next := 1
	if len(x.Args) >= 2 {
		v, ok := ParseInt(x.Args[1])
		if !ok {
			x.Error(errProtoNotInt)
			return
		}
		if v < 2 || v > 3 {
			x.Error(errNoProto)
			return
		}
		ver = v
		next = 2
	}
	for j := next; j < len(x.Args); j++ {
		more := len(x.Args) - 1 - j
		opt := x.Args[j]
		switch {
		case optIs(opt, "auth") && more >= 2:
			if !x.S.checkPassword(x.Args[j+1], x.Args[j+2]) {
				x.Error(errWrongPass)
				return
			}
			x.C.Authed = true
			j += 2
		case optIs(opt, "setname") && more >= 1:
			if !setClientName(x.C, x.Args[j+1]) {
				x.Error(errBadClientName)
				return
			}
			j++
		default:
			x.Error("ERR Syntax error in HELLO option '" + cString(opt) + "'")
			return
		}
	}
	if !x.C.Authed && x.S.requirePass() {
		x.Error(errHelloNoAuth)
		return
	}
	if ver != 0 {
		x.C.Proto = int(ver)
	}
	x.Map(7)
	x.BulkString("server")
	x.BulkString("redis")
	x.BulkString("version")
	x.BulkString(RedisVersion)
	x.BulkString("proto")
	x.Int(int64(x.C.Proto))
	x.BulkString("id")
	x.Int(int64(x.C.ID))
	x.BulkString("mode")
	x.BulkString("standalone")
	x.BulkString("role")
	x.BulkString("master")
	x.BulkString("modules")
	x.Array(0)
}

// RESET: back to a fresh connection's state (database 0, RESP2, no name,
// authenticated only if no password is required, no MULTI, nothing
// watched), reply +RESET.
func resetCmd(x *Ctx) {
	x.S.unsubscribeAll(x.C)
	x.C.DB = 0
	x.C.Proto = 2
	x.C.SetName("")
	x.C.Authed = !x.S.requirePass()
	x.S.discardTx(x.C)
	x.Simple("RESET")
}

// validClientName reports whether every byte of name is printable ASCII
// other than space ('!' to '~'), Redis's rule for CLIENT SETNAME, so that
// CLIENT LIST stays splittable on spaces.
func validClientName(name []byte) bool {
	for _, c := range name {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

// setClientName sets c's name (an empty name clears it); false if the name
// is invalid, leaving it unchanged.
func setClientName(c *Client, name []byte) bool {
	if !validClientName(name) {
		return false
	}
	c.SetName(string(name))
	return true
}

// cString is b up to its first NUL byte, as Redis prints an argument with
// %s in error messages.
func cString(b []byte) string {
	s := string(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
