package command

import (
	"bytes"
	"strings"
)

// Execute runs one command and appends its reply to out, which it returns.
// args[0] is the command name; args alias the caller's input buffer and are
// not retained. It must be called on c's event loop goroutine, and is not
// reentrant for one client (it reuses the client's Ctx).
//
// Inside MULTI a command that passes the checks is queued (+QUEUED), not
// run, and a command refused by them fails the transaction (multi.go).
func (s *Server) Execute(c *Client, args [][]byte, out []byte) []byte {
	// The Ctx lives in the Client so that passing it to Run (an indirect
	// call, which the compiler must assume lets it escape) costs no heap
	// allocation per command.
	x := &c.ctx
	// Field by field, not *x = Ctx{...}: the compiler builds a composite
	// literal on the stack with 8-byte stores and copies it with 16-byte
	// loads, which wait for those stores (a store-forwarding stall, about
	// half of Execute's own CPU time under pipelined LPUSH).
	x.S, x.C, x.Cmd, x.Args, x.Out, x.held = s, c, nil, args, out, nil
	c.pending.cmds++
	if !c.DeferStats {
		defer s.FlushStats(c)
	}
	// A client mostly repeats a command (pipelines, benchmarks): check the
	// previous one before hashing the name into the table.
	cmd := c.last
	if cmd == nil || !nameIs(args[0], cmd.Name) {
		cmd = s.Lookup(args[0])
		if cmd == nil {
			x.rejectCmd(nil, unknownCommand(args))
			return x.Out
		}
		c.last = cmd
	}
	if cmd.Subcommands != nil && len(args) >= 2 {
		sub := lookupSub(cmd, args[1])
		if sub == nil {
			x.rejectCmd(cmd, "ERR unknown subcommand '"+cstr(args[1], 128)+"'. Try "+strings.ToUpper(cmd.Name)+" HELP.")
			return x.Out
		}
		cmd = sub
	}
	if (cmd.Arity > 0 && len(args) != cmd.Arity) || len(args) < -cmd.Arity {
		x.rejectCmd(cmd, ArityError(cmd))
		return x.Out
	}
	if !c.Authed && cmd.Flags&FlagNoAuth == 0 && s.requirePass() {
		x.rejectCmd(cmd, ErrNoAuth)
		return x.Out
	}
	if s.deniedWhileLoading(cmd) {
		x.rejectCmd(cmd, ErrLoading)
		return x.Out
	}
	x.Cmd = cmd
	if msg := subscribedModeErr(c, cmd); msg != "" {
		x.rejectCmd(cmd, msg)
		return x.Out
	}
	c.noteCmd(cmd, s.nowMs())
	if c.tx.multi && s.queueMulti(x, cmd) {
		out = x.Out
		x.Args, x.Out = nil, nil
		return out
	}
	cmd.Run(x)
	c.publish()
	if s.blk.pending.Load() {
		// Serve the clients blocked on keys this command pushed to
		// (blocking.go), before anything else runs on this loop.
		s.serveReady()
	}
	out = x.Out
	x.Args, x.Out = nil, nil // do not keep the caller's buffers alive
	return out
}

func (s *Server) requirePass() bool {
	return s.Config != nil && s.Config.Value("requirepass") != ""
}

// nameIs reports whether name is lower, a command's lower-case name, in
// any case.
func nameIs(name []byte, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

func lookupSub(cmd *Command, name []byte) *Command {
	return lookupFold(cmd.Subcommands, name)
}

// lookupFold returns table's entry for name in lower case, or nil. It does
// not allocate: names longer than any command's are simply absent.
func lookupFold(table map[string]*Command, name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return nil
	}
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return table[string(buf[:len(name)])]
}

// unknownCommand is Redis 7.0's rejectCommandFormat text for an unknown
// command: the name cut at 128 bytes, then quoted arguments while the list
// is under 128 bytes, each followed by a space.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.WriteString(cstr(args[0], 128))
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range args[1:] {
		if n >= 128 {
			break
		}
		s := cstr(a, 128-n)
		part := "'" + s + "' "
		b.WriteString(part)
		n += len(part)
	}
	return b.String()
}

// cstr is C's "%.*s" of b: at most n bytes, cut at the first NUL (Redis
// formats these messages with printf, which stops there).
func cstr(b []byte, n int) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
