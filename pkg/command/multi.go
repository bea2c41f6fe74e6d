package command

import (
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/protocol"
)

// Transactions: MULTI, EXEC, DISCARD (this file) and WATCH, UNWATCH
// (watch.go), with Redis 7.0's replies and errors (multi.c, and the
// queuing rules of server.c processCommand).
//
// Between MULTI and EXEC every command except EXEC, DISCARD, MULTI, WATCH,
// QUIT and RESET is checked (existence, arity, authentication, no_multi)
// and queued, replying +QUEUED; a command rejected by those checks replies
// its error and fails the transaction, so that EXEC replies EXECABORT.
// Execute does the queuing (queueMulti); EXEC runs the queue.
//
// Atomicity: EXEC locks every shard of the cache (cache.Cache.LockAll) and
// runs the queued commands with Ctx.held set to that Tx, so their own
// locks are borrowed (lock.go): no other client, on any event loop, sees
// a state between two commands of an EXEC, and the WATCH check and the
// commands happen under the same locks.

func transactionCommands() []*Command {
	return []*Command{
		{Name: "multi", Run: multiCmd},
		{Name: "exec", Run: execCmd},
		{Name: "discard", Run: discardCmd},
		{Name: "watch", Run: watchCmd},
		{Name: "unwatch", Run: unwatchCmd},
	}
}

// Transaction replies, verbatim from Redis 7.0.
const (
	errMultiNested    = "ERR MULTI calls can not be nested"
	errExecNoMulti    = "ERR EXEC without MULTI"
	errDiscardNoMulti = "ERR DISCARD without MULTI"
	errWatchInMulti   = "ERR WATCH inside MULTI is not allowed"
	errNoMulti        = "ERR Command not allowed inside a transaction"
	errExecAbort      = "EXECABORT Transaction discarded because of previous errors."
)

// DefaultMaxQueuedBytes is the default Server.MaxQueuedBytes: 1 GiB, the
// size of Redis's default client-query-buffer-limit.
const DefaultMaxQueuedBytes = 1 << 30

// errQueueLimit is the reply to a command that would take a transaction's
// queue past Server.MaxQueuedBytes. Redis has no such limit (it counts the
// queue against maxmemory-clients, off by default); ToonStore bounds it so
// that one client cannot hold unbounded memory in a never-executed MULTI.
func errQueueLimit(limit int64) string {
	return "ERR Transaction queue limit of " + strconv.FormatInt(limit, 10) +
		" bytes reached (MULTI); the transaction is discarded at EXEC"
}

// queued is one command of a MULTI queue: args are a private copy (the
// originals alias the connection's input buffer).
type queued struct {
	cmd  *Command
	args [][]byte
}

// txState is a client's transaction state. The plain fields are owned by
// the client's event loop goroutine; the atomics are read by other
// goroutines (CLIENT LIST) or, for dirty, set by any writer.
type txState struct {
	multi  bool // between MULTI and EXEC/DISCARD (Redis's CLIENT_MULTI)
	failed bool // a command was rejected while queuing (CLIENT_DIRTY_EXEC)
	queue  []queued
	count  int   // commands queued, stored or not (a failed transaction stores none)
	mem    int64 // multi-mem: queued argument bytes + 8 per argument, as Redis counts it

	// dirty: a watched key changed since WATCH (CLIENT_DIRTY_CAS). Set by
	// the watch registry from any goroutine, under its lock; cleared by the
	// client's goroutine after it unwatched everything.
	dirty atomic.Bool
	// watched is c's entries in the watch registry, in WATCH order. Only
	// c's goroutine reads or changes the slice (changes under the
	// registry's lock, which also guards the registry's own index).
	watched []*watchEntry

	// pubMulti mirrors count+1 while in MULTI (0 otherwise) and pubMem
	// mirrors mem, for CLIENT LIST on other goroutines.
	pubMulti atomic.Int64
	pubMem   atomic.Int64

	// held is the Tx of the EXEC in progress (every shard) and ctx the
	// context the queued commands run with: Execute's Ctx (Client.ctx)
	// belongs to the EXEC itself.
	held cache.Tx
	ctx  Ctx
}

// InExec reports whether the command runs as part of an EXEC, with every
// shard held. A blocking command (BLPOP, BZPOPMIN, ...) must then not
// block: it replies at once as if its timeout had passed (Redis's
// CLIENT_DENY_BLOCKING).
func (x *Ctx) InExec() bool { return x.held != nil }

// InMulti reports whether c is between MULTI and EXEC/DISCARD. Called on
// c's goroutine.
func (c *Client) InMulti() bool { return c.tx.multi }

// multiInfo returns CLIENT LIST's multi= (queued commands, -1 outside
// MULTI), multi-mem= and the flag letters x (in MULTI) and d (a watched
// key changed). Safe from any goroutine.
func (c *Client) multiInfo() (count, mem int64, inMulti, dirty bool) {
	n := c.tx.pubMulti.Load()
	return n - 1, c.tx.pubMem.Load(), n > 0, c.tx.dirty.Load()
}

func (c *Client) publishMulti() {
	t := &c.tx
	if t.multi {
		t.pubMulti.Store(int64(t.count) + 1)
	} else {
		t.pubMulti.Store(0)
	}
	t.pubMem.Store(t.mem)
}

// rejectCmd replies msg to cmd (nil if unknown), refused before it ran
// (unknown, wrong arity, not authenticated, not allowed in MULTI): inside
// MULTI the refusal also fails the transaction, as Redis's rejectCommand
// does. A refused EXEC discards the transaction at once and says why
// (Redis's execCommandAbort), in or out of MULTI.
func (x *Ctx) rejectCmd(cmd *Command, msg string) {
	if cmd != nil && cmd.Name == "exec" {
		x.S.discardTx(x.C)
		x.Error("EXECABORT Transaction discarded because of: " + strings.TrimPrefix(msg, "ERR "))
		return
	}
	x.Error(msg)
	if x.C.tx.multi {
		x.C.tx.failed = true
	}
}

// multiPassThrough reports whether cmd runs at once inside MULTI instead of
// being queued (processCommand's list).
func multiPassThrough(cmd *Command) bool {
	switch cmd.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// queueMulti handles cmd for a client in MULTI, after Execute's checks.
// It reports false if cmd must run now (EXEC, DISCARD, ...); otherwise it
// queued cmd (or refused it) and appended the reply.
func (s *Server) queueMulti(x *Ctx, cmd *Command) bool {
	if multiPassThrough(cmd) {
		return false
	}
	t := &x.C.tx
	if cmd.Flags&FlagNoMulti != 0 {
		x.rejectCmd(cmd, errNoMulti)
		return true
	}
	size := int64(0)
	for _, a := range x.Args {
		size += int64(len(a)) + 8
	}
	limit := s.MaxQueuedBytes
	if limit <= 0 {
		limit = DefaultMaxQueuedBytes
	}
	if !t.failed && t.mem+size > limit {
		x.rejectCmd(cmd, errQueueLimit(limit))
		t.dropQueue() // EXEC will abort: free the copies now
		x.C.publishMulti()
		return true
	}
	t.count++
	if !t.failed {
		// A failed transaction is never executed: its further commands
		// are counted, not stored.
		t.queue = append(t.queue, queued{cmd: cmd, args: copyArgs(x.Args)})
		t.mem += size
	}
	x.C.publishMulti()
	x.Simple("QUEUED")
	return true
}

// copyArgs returns a copy of args in one allocation for the bytes.
func copyArgs(args [][]byte) [][]byte {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(args))
	for i, a := range args {
		start := len(buf)
		buf = append(buf, a...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// discardTx ends c's transaction, if any, and unwatches every key: what
// EXEC, DISCARD and RESET leave behind (Redis's discardTransaction).
func (s *Server) discardTx(c *Client) {
	t := &c.tx
	t.dropQueue()
	t.multi, t.failed, t.count = false, false, 0
	s.unwatchAll(c)
	t.dirty.Store(false)
	c.publishMulti()
}

// dropQueue forgets the queued commands (not the count).
func (t *txState) dropQueue() {
	clear(t.queue) // drop the copies of the arguments
	if cap(t.queue) > 64 {
		t.queue = nil
	} else {
		t.queue = t.queue[:0]
	}
	t.mem = 0
}

// MULTI
func multiCmd(x *Ctx) {
	t := &x.C.tx
	if t.multi {
		x.Error(errMultiNested)
		return
	}
	t.multi = true
	x.C.publishMulti()
	x.OK()
}

// DISCARD
func discardCmd(x *Ctx) {
	if !x.C.tx.multi {
		x.Error(errDiscardNoMulti)
		return
	}
	x.S.discardTx(x.C)
	x.OK()
}

// EXEC: EXECABORT if a command was refused while queuing; a null array if
// a watched key changed or expired; else the array of the queued commands'
// replies, each command run in order with every shard held.
func execCmd(x *Ctx) {
	s, c := x.S, x.C
	t := &c.tx
	if !t.multi {
		x.Error(errExecNoMulti)
		return
	}
	if t.failed {
		x.Error(errExecAbort)
		s.discardTx(c)
		return
	}
	x.Out = s.runExec(c, x.Out)
	s.discardTx(c)
}

// runExec checks c's watched keys and runs c's queue with every shard
// held, appending EXEC's reply to out.
func (s *Server) runExec(c *Client, out []byte) []byte {
	t := &c.tx
	// No cache while the dataset loads (or in tests of connection
	// commands): only commands with the loading flag, which touch no key,
	// can then be queued.
	if cc := s.readyCache(); cc != nil {
		t.held = cc.LockAll()
	}
	defer func() {
		t.held.Unlock()
		t.held = cache.Tx{}
	}()
	// Every write that precedes this point released its shard after
	// marking its watchers dirty; none can follow until Unlock.
	if t.dirty.Load() || s.watchedKeyExpired(c) {
		return protocol.AppendNullArray(out, c.Proto)
	}
	s.unwatchAll(c) // as Redis: the queued commands' writes touch no watch of c's
	out = protocol.AppendArrayLen(out, len(t.queue))
	ex := &t.ctx
	for i := range t.queue {
		q := &t.queue[i]
		*ex = Ctx{S: s, C: c, Cmd: q.cmd, Args: q.args, Out: out, held: &t.held}
		c.pending.cmds++
		q.cmd.Run(ex)
		out = ex.Out
	}
	*ex = Ctx{}
	return out
}
