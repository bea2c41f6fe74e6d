package command

import (
	"strconv"

	"github.com/toonstore/toonstore/pkg/protocol"
)

// Flags are a command's Redis flags, as COMMAND INFO reports them.
type Flags uint32

// Command flags (Redis 7.0 names in FlagNames).
const (
	FlagWrite Flags = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagNoMandatoryKeys
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
)

// FlagNames are the names COMMAND INFO prints, in Redis's order.
var flagNames = [...]struct {
	f    Flags
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"},
	{FlagAdmin, "admin"}, {FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"},
	{FlagBlocking, "blocking"}, {FlagLoading, "loading"}, {FlagStale, "stale"},
	{FlagSkipMonitor, "skip_monitor"}, {FlagSkipSlowlog, "skip_slowlog"},
	{FlagFast, "fast"}, {FlagNoAuth, "no_auth"}, {FlagMayReplicate, "may_replicate"},
	{FlagNoMandatoryKeys, "no_mandatory_keys"}, {FlagNoMulti, "no_multi"},
	{FlagMovableKeys, "movablekeys"}, {FlagAllowBusy, "allow_busy"},
}

// Command is one entry of the command table. A container command (CONFIG,
// CLIENT, COMMAND, ...) has Subcommands and a nil Run; its subcommands are
// named "container|sub" in errors, as Redis names them.
type Command struct {
	Name  string // lower case, e.g. "get" or "config|get"
	Arity int    // Redis arity: >0 exact argc, <0 at least -Arity
	Flags Flags
	// Key positions (legacy COMMAND INFO triple): first key index, last key
	// index (-1 = last argument), step. 0,0,0 for commands without keys.
	First, Last, Step int
	Run               func(x *Ctx)
	Subcommands       map[string]*Command
	Parent            *Command
}

// FullName is the name Redis uses in error messages: "get", "config|get".
func (c *Command) FullName() string { return c.Name }

// Ctx is the execution context of one command. It lives on the event loop
// goroutine for the duration of Run only; Args alias the connection's input
// buffer and must be copied by anything that keeps them.
type Ctx struct {
	S    *Server
	C    *Client
	Cmd  *Command
	Args [][]byte // Args[0] is the command name as the client sent it
	Out  []byte   // replies are appended here
}

// Proto returns the connection's RESP version (2 or 3).
func (x *Ctx) Proto() int { return x.C.Proto }

// Reply helpers. Each appends exactly one RESP element to x.Out.

func (x *Ctx) OK()                     { x.Out = protocol.AppendOK(x.Out) }
func (x *Ctx) Simple(s string)         { x.Out = protocol.AppendSimple(x.Out, s) }
func (x *Ctx) Error(msg string)        { x.Out = protocol.AppendError(x.Out, msg) }
func (x *Ctx) Int(n int64)             { x.Out = protocol.AppendInt(x.Out, n) }
func (x *Ctx) Bulk(b []byte)           { x.Out = protocol.AppendBulk(x.Out, b) }
func (x *Ctx) BulkString(s string)     { x.Out = protocol.AppendBulkString(x.Out, s) }
func (x *Ctx) Null()                   { x.Out = protocol.AppendNull(x.Out, x.C.Proto) }
func (x *Ctx) NullArray()              { x.Out = protocol.AppendNullArray(x.Out, x.C.Proto) }
func (x *Ctx) Array(n int)             { x.Out = protocol.AppendArrayLen(x.Out, n) }
func (x *Ctx) Map(n int)               { x.Out = protocol.AppendMapLen(x.Out, n, x.C.Proto) }
func (x *Ctx) Set(n int)               { x.Out = protocol.AppendSetLen(x.Out, n, x.C.Proto) }
func (x *Ctx) Double(f float64)        { x.Out = protocol.AppendDouble(x.Out, f, x.C.Proto) }
func (x *Ctx) Bool(v bool)             { x.Out = protocol.AppendBool(x.Out, v, x.C.Proto) }
func (x *Ctx) Verbatim(text []byte)    { x.Out = protocol.AppendVerbatim(x.Out, "txt", text, x.C.Proto) }
func (x *Ctx) BulkInt(n int64)         { x.Out = protocol.AppendBulkInt(x.Out, n) }
func (x *Ctx) ErrWrongType()           { x.Error(ErrWrongType) }
func (x *Ctx) ErrSyntax()              { x.Error(ErrSyntax) }
func (x *Ctx) ErrNotInteger()          { x.Error(ErrNotInteger) }
func (x *Ctx) ErrArity()               { x.Error(ArityError(x.Cmd)) }
func (x *Ctx) Errf(prefix, msg string) { x.Error(prefix + msg) }

// ArityError is Redis's wrong-arity message for cmd.
func ArityError(cmd *Command) string {
	return "ERR wrong number of arguments for '" + cmd.Name + "' command"
}

// Common Redis error replies, verbatim.
const (
	ErrWrongType     = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrSyntax        = "ERR syntax error"
	ErrNotInteger    = "ERR value is not an integer or out of range"
	ErrNotFloat      = "ERR value is not a valid float"
	ErrOverflow      = "ERR increment or decrement would overflow"
	ErrNoAuth        = "NOAUTH Authentication required."
	ErrDBIndex       = "ERR DB index is out of range"
	ErrNoSuchKey     = "ERR no such key"
	ErrInvalidExpire = "ERR invalid expire time in '%s' command"
)

// ParseInt parses a Redis integer argument (string2ll rules: no spaces, no
// '+', no leading zeros except "0", fits int64).
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	i := 0
	if b[0] == '-' {
		neg = true
		i = 1
		if len(b) == 1 {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	var v uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (1<<64-1)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
		if v < uint64(c-'0') {
			return 0, false
		}
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > 1<<63-1 {
		return 0, false
	}
	return int64(v), true
}

// itoa is strconv.Itoa kept local for readability at call sites.
func itoa(n int) string { return strconv.Itoa(n) }
