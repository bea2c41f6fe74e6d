package command

import (
	"strconv"

	"github.com/toonstore/toonstore/pkg/protocol"
)

// node is one RESP3 value of the generated command metadata
// (zz_redis_commands.go). It is immutable after package initialization.
type node struct {
	t byte // ':' int, '+' simple, '$' bulk, '_' null, '*' array, '~' set, '%' map (a holds k,v,k,v...)
	s string
	i int64
	a []node
}

// Constructors used by the generated file.

func I(n int64) node         { return node{t: ':', i: n} }
func S(s string) node        { return node{t: '+', s: s} }
func B(s string) node        { return node{t: '$', s: s} }
func Nil() node              { return node{t: '_'} }
func A(elems ...node) node   { return node{t: '*', a: elems} }
func Set(elems ...node) node { return node{t: '~', a: elems} }
func M(kv ...node) node      { return node{t: '%', a: kv} }

// commandMeta is one command's entry in Redis's table: Info is its
// COMMAND INFO reply (name, arity, flags, first, last, step, ACL
// categories, tips, key specs, subcommands), Docs its COMMAND DOCS map.
type commandMeta struct {
	Info node
	Docs node
}

// get returns the value of key in a map node (zero node if absent).
func (n node) get(key string) node {
	for i := 0; i+1 < len(n.a); i += 2 {
		if n.a[i].s == key {
			return n.a[i+1]
		}
	}
	return node{}
}

// appendNode encodes n for a connection speaking proto. RESP2 gets Redis's
// own downgrade: sets and maps become flat arrays, null a null bulk.
func appendNode(dst []byte, n node, proto int) []byte {
	switch n.t {
	case ':':
		return protocol.AppendInt(dst, n.i)
	case '+':
		return protocol.AppendSimple(dst, n.s)
	case '$':
		return protocol.AppendBulkString(dst, n.s)
	case '_':
		return protocol.AppendNull(dst, proto)
	case '*':
		dst = protocol.AppendArrayLen(dst, len(n.a))
	case '~':
		dst = protocol.AppendSetLen(dst, len(n.a), proto)
	case '%':
		dst = protocol.AppendMapLen(dst, len(n.a)/2, proto)
	default:
		panic("command: bad metadata node type " + strconv.Quote(string(n.t)))
	}
	for _, e := range n.a {
		dst = appendNode(dst, e, proto)
	}
	return dst
}

// flagsOf maps COMMAND INFO flag names to Flags.
func flagsOf(set node) Flags {
	var f Flags
	for _, e := range set.a {
		for _, fn := range flagNames {
			if fn.name == e.s {
				f |= fn.f
			}
		}
	}
	return f
}

// applyMeta fills c's arity, flags and key positions from info, Redis's
// COMMAND INFO entry for it, and recurses into implemented subcommands.
func applyMeta(c *Command, info node) {
	c.info = info
	c.Arity = int(info.a[1].i)
	c.Flags = flagsOf(info.a[2])
	c.First, c.Last, c.Step = int(info.a[3].i), int(info.a[4].i), int(info.a[5].i)
	for subName, sub := range c.Subcommands {
		full := c.Name + "|" + subName
		sub.Name = full
		found := false
		for _, si := range info.a[9].a {
			if si.a[0].s == full {
				applyMeta(sub, si)
				found = true
			}
		}
		if !found {
			// Subcommands newer than Redis 7.0 (conn_meta_extra.go).
			if extra, ok := extraSubcommandMeta(full); ok {
				applyMeta(sub, extra.Info)
				sub.docs = extra.Docs
				found = true
			}
		}
		if !found {
			panic("command: no Redis metadata for " + full)
		}
	}
}
