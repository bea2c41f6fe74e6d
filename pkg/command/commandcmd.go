package command

import (
	"bytes"
	"sort"
	"strings"

	"github.com/toonstore/toonstore/pkg/glob"
	"github.com/toonstore/toonstore/pkg/protocol"
)

// The COMMAND container: introspection of the command table, answered from
// Redis 7.0's metadata (zz_redis_commands.go) restricted to the commands and
// subcommands ToonStore implements.

func commandCommand() *Command {
	return &Command{Name: "command", Run: commandAll, Subcommands: map[string]*Command{
		"count":           {Run: commandCount},
		"info":            {Run: commandInfo},
		"docs":            {Run: commandDocs},
		"list":            {Run: commandList},
		"getkeys":         {Run: commandGetKeys},
		"getkeysandflags": {Run: commandGetKeysAndFlags},
		"help":            {Run: commandHelp},
	}}
}

// sortedCommands returns the top-level commands by name.
func (s *Server) sortedCommands() []*Command {
	out := make([]*Command, 0, len(s.table))
	for _, c := range s.table {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// implementedSubs returns c's implemented subcommands: first in the order of
// Redis's metadata, then any with hand-written metadata, by name.
func implementedSubs(c *Command) []*Command {
	if len(c.Subcommands) == 0 {
		return nil
	}
	out := make([]*Command, 0, len(c.Subcommands))
	seen := make(map[*Command]bool, len(c.Subcommands))
	if len(c.info.a) > 9 {
		for _, si := range c.info.a[9].a {
			full := si.a[0].s
			if sub := c.Subcommands[full[strings.IndexByte(full, '|')+1:]]; sub != nil {
				out = append(out, sub)
				seen[sub] = true
			}
		}
	}
	var extra []*Command
	for _, sub := range c.Subcommands {
		if !seen[sub] {
			extra = append(extra, sub)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i].Name < extra[j].Name })
	return append(out, extra...)
}

// lookupFullName finds a command by Redis full name, any case: "get" or
// "config|get". nil if it is not implemented.
func (s *Server) lookupFullName(name []byte) *Command {
	i := bytes.IndexByte(name, '|')
	if i < 0 {
		return s.Lookup(name)
	}
	parent := s.Lookup(name[:i])
	rest := name[i+1:]
	if parent == nil || parent.Subcommands == nil || bytes.IndexByte(rest, '|') >= 0 {
		return nil
	}
	return lookupSub(parent, rest)
}

// appendCommandInfo appends c's COMMAND INFO entry. A container lists only
// its implemented subcommands.
func appendCommandInfo(dst []byte, c *Command, proto int) []byte {
	info := c.info
	dst = protocol.AppendArrayLen(dst, len(info.a))
	for i := 0; i < 9 && i < len(info.a); i++ {
		dst = appendNode(dst, info.a[i], proto)
	}
	if len(info.a) < 10 {
		return dst
	}
	subs := implementedSubs(c)
	if len(subs) == 0 {
		return appendNode(dst, info.a[9], proto)
	}
	dst = protocol.AppendArrayLen(dst, len(subs))
	for _, sub := range subs {
		dst = appendCommandInfo(dst, sub, proto)
	}
	return dst
}

// docsOf returns c's COMMAND DOCS map.
func docsOf(c *Command) node {
	if c.docs.t != 0 || c.Parent == nil {
		return c.docs
	}
	return c.Parent.docs.get("subcommands").get(c.Name)
}

// appendCommandDocs appends c's COMMAND DOCS map; a container's
// "subcommands" map holds only its implemented subcommands.
func appendCommandDocs(dst []byte, c *Command, proto int) []byte {
	d := docsOf(c)
	if d.t != '%' {
		return protocol.AppendMapLen(dst, 0, proto)
	}
	dst = protocol.AppendMapLen(dst, len(d.a)/2, proto)
	for i := 0; i+1 < len(d.a); i += 2 {
		dst = appendNode(dst, d.a[i], proto)
		if d.a[i].s != "subcommands" {
			dst = appendNode(dst, d.a[i+1], proto)
			continue
		}
		subs := implementedSubs(c)
		dst = protocol.AppendMapLen(dst, len(subs), proto)
		for _, sub := range subs {
			dst = protocol.AppendBulkString(dst, sub.Name)
			dst = appendCommandDocs(dst, sub, proto)
		}
	}
	return dst
}

// COMMAND: the COMMAND INFO entries of every implemented command.
func commandAll(x *Ctx) {
	cmds := x.S.sortedCommands()
	x.Array(len(cmds))
	for _, c := range cmds {
		x.Out = appendCommandInfo(x.Out, c, x.Proto())
	}
}

// COMMAND COUNT.
func commandCount(x *Ctx) { x.Int(int64(len(x.S.table))) }

// COMMAND INFO [command-name ...]: a null entry for each unknown name.
func commandInfo(x *Ctx) {
	if len(x.Args) == 2 {
		commandAll(x)
		return
	}
	x.Array(len(x.Args) - 2)
	for _, name := range x.Args[2:] {
		if c := x.S.lookupFullName(name); c != nil {
			x.Out = appendCommandInfo(x.Out, c, x.Proto())
		} else {
			x.Null()
		}
	}
}

// COMMAND DOCS [command-name ...]: a map of name to docs; unknown names are
// left out.
func commandDocs(x *Ctx) {
	var cmds []*Command
	if len(x.Args) == 2 {
		cmds = x.S.sortedCommands()
	} else {
		for _, name := range x.Args[2:] {
			if c := x.S.lookupFullName(name); c != nil {
				cmds = append(cmds, c)
			}
		}
	}
	x.Map(len(cmds))
	for _, c := range cmds {
		x.BulkString(c.Name)
		x.Out = appendCommandDocs(x.Out, c, x.Proto())
	}
}

// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]:
// full names of commands and their subcommands.
func commandList(x *Ctx) {
	filter := func(*Command) bool { return true }
	for i := 2; i < len(x.Args); i++ {
		more := len(x.Args) - 1 - i
		if !optIs(x.Args[i], "filterby") || more != 2 {
			x.ErrSyntax()
			return
		}
		arg := string(x.Args[i+2])
		switch t := x.Args[i+1]; {
		case optIs(t, "module"):
			filter = func(*Command) bool { return false } // no modules
		case optIs(t, "aclcat"):
			filter = func(c *Command) bool {
				for _, cat := range c.info.a[6].a {
					if strings.EqualFold(cat.s, "@"+arg) {
						return true
					}
				}
				return false
			}
		case optIs(t, "pattern"):
			filter = func(c *Command) bool { return glob.MatchString(arg, c.Name, true) }
		default:
			x.ErrSyntax()
			return
		}
		i += 2
	}
	var names []string
	for _, c := range x.S.sortedCommands() {
		if filter(c) {
			names = append(names, c.Name)
		}
		for _, sub := range implementedSubs(c) {
			if filter(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	x.Array(len(names))
	for _, n := range names {
		x.BulkString(n)
	}
}

// keyRef is one key found by getKeys: its argument index and the flags of
// the key spec that found it.
type keyRef struct {
	pos   int
	flags node
}

// getKeys is Redis 7.0's getKeysUsingKeySpecs over c's key specs: the
// positions of the keys in args (args[0] is the command name). ok is false
// when a spec does not fit the arguments (Redis's invalid_spec).
func getKeys(c *Command, args [][]byte) (keys []keyRef, ok bool) {
	argc := len(args)
	for _, spec := range c.info.a[8].a {
		flags := spec.get("flags")
		if hasFlag(flags, "not_key") {
			continue
		}
		bs, fk := spec.get("begin_search"), spec.get("find_keys")
		bsSpec, fkSpec := bs.get("spec"), fk.get("spec")
		first := 0
		switch bs.get("type").s {
		case "index":
			first = int(bsSpec.get("index").i)
		case "keyword":
			kw := bsSpec.get("keyword").s
			from := int(bsSpec.get("startfrom").i)
			start, end := from, argc-1
			if from <= 0 {
				start, end = argc+from, 0
			}
			for i := start; i != end; {
				if i >= argc || i < 1 {
					break
				}
				if strings.EqualFold(string(args[i]), kw) {
					first = i + 1
					break
				}
				if start <= end {
					i++
				} else {
					i--
				}
			}
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch fk.get("type").s {
		case "range":
			step = int(fkSpec.get("keystep").i)
			lastkey, limit := int(fkSpec.get("lastkey").i), int(fkSpec.get("limit").i)
			switch {
			case lastkey >= 0:
				last = first + lastkey
			case limit == 0:
				last = argc + lastkey
			default:
				last = first + ((argc-first)/limit + lastkey)
			}
		case "keynum":
			step = int(fkSpec.get("keystep").i)
			idx := int(fkSpec.get("keynumidx").i)
			if idx >= argc-first {
				return nil, false
			}
			n, nok := ParseInt(args[first+idx])
			if !nok || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += int(fkSpec.get("firstkey").i)
			last = first + int(n) - 1
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		if step < 1 {
			step = 1
		}
		for i := first; i <= last; i += step {
			keys = append(keys, keyRef{pos: i, flags: flags})
		}
		if hasFlag(flags, "incomplete") {
			return nil, false
		}
	}
	return keys, true
}

func hasFlag(set node, name string) bool {
	for _, f := range set.a {
		if f.s == name {
			return true
		}
	}
	return false
}

// getKeysCmd is COMMAND GETKEYS and GETKEYSANDFLAGS.
func getKeysCmd(x *Ctx, withFlags bool) {
	args := x.Args[2:]
	c := x.S.Lookup(args[0])
	if c != nil && c.Subcommands != nil && len(args) > 1 {
		c = lookupSub(c, args[1])
	}
	switch {
	case c == nil:
		x.Error("ERR Invalid command specified")
		return
	case len(c.info.a) < 9 || !hasKeys(c):
		x.Error("ERR The command has no key arguments")
		return
	case (c.Arity > 0 && c.Arity != len(args)) || len(args) < -c.Arity:
		x.Error("ERR Invalid number of arguments specified for command")
		return
	}
	keys, ok := getKeys(c, args)
	if !ok || len(keys) == 0 {
		if c.Flags&FlagNoMandatoryKeys != 0 {
			x.Array(0)
		} else {
			x.Error("ERR Invalid arguments specified for command")
		}
		return
	}
	x.Array(len(keys))
	for _, k := range keys {
		if withFlags {
			x.Array(2)
			x.Bulk(args[k.pos])
			x.Out = appendNode(x.Out, k.flags, x.Proto())
		} else {
			x.Bulk(args[k.pos])
		}
	}
}

// hasKeys is Redis's doesCommandHaveKeys for commands without a getkeys
// procedure: a key spec not marked not_key.
func hasKeys(c *Command) bool {
	for _, spec := range c.info.a[8].a {
		if !hasFlag(spec.get("flags"), "not_key") {
			return true
		}
	}
	return false
}

func commandGetKeys(x *Ctx)         { getKeysCmd(x, false) }
func commandGetKeysAndFlags(x *Ctx) { getKeysCmd(x, true) }

// commandHelpLines returns Redis 7.0's COMMAND HELP text.
func commandHelpLines() []string {
	return []string{
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.",
		"HELP",
		"    Prints this help.",
	}
}

func commandHelp(x *Ctx) { helpReply(x, commandHelpLines()) }
