package command

import (
	"strconv"
	"time"
)

// The CLIENT container: ID, SETNAME, GETNAME, SETINFO (Redis 7.2), LIST,
// INFO, KILL, HELP.

func clientCommand() *Command {
	return &Command{Name: "client", Subcommands: map[string]*Command{
		"id":      {Run: clientID},
		"setname": {Run: clientSetName},
		"getname": {Run: clientGetName},
		"setinfo": {Run: clientSetInfo},
		"list":    {Run: clientList},
		"info":    {Run: clientInfo},
		"kill":    {Run: clientKill},
		"unblock": {Run: clientUnblock},
		"help":    {Run: clientHelp},
	}}
}

func clientID(x *Ctx) { x.Int(int64(x.C.ID)) }

func clientSetName(x *Ctx) {
	if !setClientName(x.C, x.Args[2]) {
		x.Error(errBadClientName)
		return
	}
	x.OK()
}

func clientGetName(x *Ctx) {
	if n := x.C.Name(); n != "" {
		x.BulkString(n)
		return
	}
	x.Null()
}

// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>, as Redis 7.2.
func clientSetInfo(x *Ctx) {
	attr, val := x.Args[2], x.Args[3]
	var set func(string)
	switch {
	case optIs(attr, "lib-name"):
		set = x.C.SetLibName
	case optIs(attr, "lib-ver"):
		set = x.C.SetLibVer
	default:
		x.Error("ERR Unrecognized option '" + cString(attr) + "'")
		return
	}
	if !validClientName(val) {
		x.Error("ERR " + cString(attr) + " cannot contain spaces, newlines or special characters.")
		return
	}
	set(string(val))
	x.OK()
}

// Client types of CLIENT LIST TYPE and CLIENT KILL TYPE.
const (
	clientTypeNormal = iota
	clientTypeReplica
	clientTypePubSub
	clientTypeMaster
)

// clientTypeByName is Redis's getClientTypeByName: -1 if unknown.
func clientTypeByName(b []byte) int {
	switch {
	case optIs(b, "normal"):
		return clientTypeNormal
	case optIs(b, "slave"), optIs(b, "replica"):
		return clientTypeReplica
	case optIs(b, "pubsub"):
		return clientTypePubSub
	case optIs(b, "master"):
		return clientTypeMaster
	}
	return -1
}

// clientType is c's type: pubsub while it has a subscription, else
// normal (no replication yet). Safe from any goroutine.
func clientType(c *Client) int {
	if c.subscribed() {
		return clientTypePubSub
	}
	return clientTypeNormal
}

// appendClientInfo appends c's CLIENT LIST line without the trailing
// newline, in Redis 7.0's field order, plus Redis 7.2's lib-name and
// lib-ver. Fields ToonStore has no counterpart for are constant:
// qbuf-free, argv-mem, rbs, rbp, obl, oll 0; user default; redir -1.
//
// self is the calling client, whose DB and protocol are read directly;
// another client's are those it published after its last command.
func appendClientInfo(b []byte, c, self *Client, nowMs int64) []byte {
	db, proto := c.published()
	if c == self {
		db, proto = c.DB, c.Proto
	}
	name := c.Name()
	libName, libVer := c.Lib()
	cmd, lastMs := c.LastCmd()
	if cmd == "" {
		cmd = "NULL"
	}
	if lastMs == 0 {
		lastMs = c.CreatedMs
	}
	qbuf := c.QueryBuf.Load()
	omem := c.OutBuf.Load()
	events := "r"
	if omem > 0 {
		events = "rw"
	}
	num := func(b []byte, key string, v int64) []byte {
		b = append(b, key...)
		return strconv.AppendInt(b, v, 10)
	}
	b = num(b, "id=", int64(c.ID))
	b = append(b, " addr="...)
	b = append(b, c.Addr...)
	b = append(b, " laddr="...)
	b = append(b, c.LAddr...)
	b = num(b, " fd=", int64(c.FD))
	b = append(b, " name="...)
	b = append(b, name...)
	b = num(b, " age=", (nowMs-c.CreatedMs)/1000)
	b = num(b, " idle=", (nowMs-lastMs)/1000)
	multi, multiMem, _, _ := c.multiInfo()
	b = append(b, " flags="...)
	b = appendClientFlags(b, c)
	b = num(b, " db=", int64(db))
	b = num(b, " sub=", int64(c.subs.counts[psChannel].Load()))
	b = num(b, " psub=", int64(c.subs.counts[psPattern].Load()))
	b = num(b, " ssub=", int64(c.subs.counts[psShard].Load()))
	b = num(b, " multi=", multi)
	b = num(b, " qbuf=", qbuf)
	b = append(b, " qbuf-free=0 argv-mem=0"...)
	b = num(b, " multi-mem=", multiMem)
	b = append(b, " rbs=0 rbp=0 obl=0 oll=0"...)
	b = num(b, " omem=", omem)
	b = num(b, " tot-mem=", qbuf+omem)
	b = append(b, " events="...)
	b = append(b, events...)
	b = append(b, " cmd="...)
	b = append(b, cmd...)
	b = append(b, " user=default redir=-1"...)
	b = num(b, " resp=", int64(proto))
	b = append(b, " lib-name="...)
	b = append(b, libName...)
	b = append(b, " lib-ver="...)
	b = append(b, libVer...)
	return b
}

// appendClientFlags appends c's CLIENT LIST flags, in Redis 7.0's order
// (networking.c getClientInfoString): P pub/sub, x in MULTI, b blocked, d
// a watched key changed; or N when it has none.
func appendClientFlags(b []byte, c *Client) []byte {
	_, _, inMulti, dirty := c.multiInfo()
	n := len(b)
	if c.subscribed() {
		b = append(b, 'P')
	}
	if inMulti {
		b = append(b, 'x')
	}
	if c.Blocked() {
		b = append(b, 'b')
	}
	if dirty {
		b = append(b, 'd')
	}
	if len(b) == n {
		b = append(b, 'N')
	}
	return b
}

// CLIENT LIST [TYPE type] | [ID id [id ...]]: one line per client, each
// ending in "\n"; a verbatim string in RESP3.
func clientList(x *Ctx) {
	now := time.Now().UnixMilli()
	var out []byte
	switch {
	case len(x.Args) == 4 && optIs(x.Args[2], "type"):
		typ := clientTypeByName(x.Args[3])
		if typ < 0 {
			x.Error("ERR Unknown client type '" + cString(x.Args[3]) + "'")
			return
		}
		for _, c := range x.S.Clients.Snapshot() {
			if clientType(c) == typ {
				out = append(appendClientInfo(out, c, x.C, now), '\n')
			}
		}
	case len(x.Args) > 3 && optIs(x.Args[2], "id"):
		byID := map[uint64]*Client{}
		for _, c := range x.S.Clients.Snapshot() {
			byID[c.ID] = c
		}
		for _, a := range x.Args[3:] {
			id, ok := ParseInt(a)
			if !ok {
				x.Error("ERR Invalid client ID")
				return
			}
			if c := byID[uint64(id)]; c != nil && id > 0 {
				out = append(appendClientInfo(out, c, x.C, now), '\n')
			}
		}
	case len(x.Args) != 2:
		x.ErrSyntax()
		return
	default:
		for _, c := range x.S.Clients.Snapshot() {
			out = append(appendClientInfo(out, c, x.C, now), '\n')
		}
	}
	x.Verbatim(out)
}

// CLIENT INFO: the calling client's CLIENT LIST line.
func clientInfo(x *Ctx) {
	out := appendClientInfo(nil, x.C, x.C, time.Now().UnixMilli())
	x.Verbatim(append(out, '\n'))
}

// CLIENT KILL ip:port | CLIENT KILL <filter value> ... with filters ID,
// TYPE, ADDR, LADDR, USER, SKIPME, as Redis 7.0. The old form replies +OK
// or "No such client" and may kill the caller; the new form replies the
// number killed and skips the caller unless SKIPME no. The caller is closed
// after its reply; other clients through Client.Kill.
func clientKill(x *Ctx) {
	var (
		addr, laddr     string
		haveAddr, haveL bool
		id              uint64
		typ             = -1
		skipme          = true
	)
	args := x.Args
	if len(args) == 3 {
		addr, haveAddr = string(args[2]), true
		skipme = false
	} else {
		for i := 2; i < len(args); i += 2 {
			more := len(args) > i+1
			opt := args[i]
			switch {
			case optIs(opt, "id") && more:
				v, ok := ParseInt(args[i+1])
				if !ok || v < 1 {
					x.Error("ERR client-id should be greater than 0")
					return
				}
				id = uint64(v)
			case optIs(opt, "type") && more:
				typ = clientTypeByName(args[i+1])
				if typ < 0 {
					x.Error("ERR Unknown client type '" + cString(args[i+1]) + "'")
					return
				}
			case optIs(opt, "addr") && more:
				addr, haveAddr = string(args[i+1]), true
			case optIs(opt, "laddr") && more:
				laddr, haveL = string(args[i+1]), true
			case optIs(opt, "user") && more:
				if string(args[i+1]) != defaultUser {
					x.Error("ERR No such user '" + cString(args[i+1]) + "'")
					return
				}
			case optIs(opt, "skipme") && more:
				switch {
				case optIs(args[i+1], "yes"):
					skipme = true
				case optIs(args[i+1], "no"):
					skipme = false
				default:
					x.ErrSyntax()
					return
				}
			default:
				x.ErrSyntax()
				return
			}
		}
	}
	killed := 0
	closeSelf := false
	for _, c := range x.S.Clients.Snapshot() {
		if haveAddr && c.Addr != addr {
			continue
		}
		if haveL && c.LAddr != laddr {
			continue
		}
		if typ >= 0 && clientType(c) != typ {
			continue
		}
		if id != 0 && c.ID != id {
			continue
		}
		if c == x.C {
			if skipme {
				continue
			}
			closeSelf = true
		} else {
			x.S.KillClient(c)
		}
		killed++
	}
	if len(args) == 3 {
		if killed == 0 {
			x.Error("ERR No such client")
			return
		}
		x.OK()
	} else {
		x.Int(int64(killed))
	}
	if closeSelf {
		x.C.CloseAfterReply = true
	}
}

// clientHelpLines returns Redis 7.0's CLIENT HELP text for the
// subcommands ToonStore implements, plus SETINFO (Redis 7.2's wording).
func clientHelpLines() []string {
	return []string{
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"HELP",
		"    Prints this help.",
	}
}

func clientHelp(x *Ctx) { helpReply(x, clientHelpLines()) }

// helpReply writes lines as an array of simple strings, as Redis's
// addReplyHelp.
func helpReply(x *Ctx, lines []string) {
	x.Array(len(lines))
	for _, l := range lines {
		x.Simple(l)
	}
}
