// Package eventloop is tstd's network layer: a gnet v2 event handler that
// turns bytes on a connection into command executions and replies.
//
// # The hot path
//
// gnet runs one event loop per core (WithMulticore); each connection belongs
// to one loop for its whole life, and every callback for it (OnOpen,
// OnTraffic, OnClose) runs on that loop's goroutine. OnTraffic:
//
//  1. Checks that at least protocol.Reader.Need() bytes are buffered
//     (InboundBuffered), so a large bulk string arriving in 64 KiB reads is
//     not re-scanned on every read.
//  2. Peeks every inbound byte (Conn.Peek(-1)). The slice aliases gnet's
//     buffers and is valid only until Discard: the parsed arguments alias it
//     and are used only during Execute, which never retains them.
//  3. Parses every complete command in it and executes each, in order,
//     appending each reply to the connection's reusable output buffer.
//  4. Discards the consumed bytes; a partial command stays buffered by gnet
//     and is resumed on the next OnTraffic.
//  5. Writes the batch's replies with ONE Conn.Write. In gnet v2.9.7 Write
//     is synchronous on the loop goroutine: it writes to the socket at once
//     and copies whatever the kernel did not take into the connection's
//     outbound buffer, so the output buffer is reusable as soon as Write
//     returns. In steady state nothing on this path allocates.
//
// Before any reply leaves, Options.Flush puts the store's buffered records
// in the page cache (a kill -9 then loses no acknowledged write). With
// Options.HoldReplies a batch does not write its replies itself: the
// connection goes on its loop's held list and loopState.Run, queued with
// gnet's Execute, runs after the loop's next round of events, flushing
// once for every connection held and then writing each one's replies, as
// Redis writes its replies after a round of its event loop. A connection
// held already adds the replies of its next batch to those held, so no
// reply can show a write that is not yet flushed, and replies keep their
// order. Replies over holdMaxOut (128 KiB) leave at once, after a Flush.
// A loop whose last round held a single connection holds only one
// batch in soloProbe (holding costs that connection a round of latency
// and saves nothing). OnClose writes the held replies of a connection
// that closes first (a peer that half-closed after its last commands).
//
// # Durability (appendfsync always)
//
// When the sync policy is "always" and a batch executed a write command,
// the batch's replies are HELD: the connection takes a ticket from the
// syncer (syncer.go) and stops reading until the ticket settles. The
// syncer goroutine calls Options.Sync (the store's fsync) for the highest
// ticket requested so far and wakes (Conn.Wake) every connection it
// covered; on its own loop the connection then writes the held replies and
// resumes. No write is acknowledged before it is on disk, one fsync serves
// every connection of every loop that wrote meanwhile (group commit), and
// the event loops never wait for the disk: other connections are served
// during the fsync. If Sync fails, the held replies are dropped and the
// connection is closed: the client sees no acknowledgement. Engine.Stop
// waits for held replies to be written before closing connections.
//
// A read on another connection may see a write whose fsync is still
// running (the write is applied in memory first); the guarantee is about
// acknowledgements: a client told +OK can rely on the write surviving.
//
// # Backpressure
//
// gnet v2 offers no public way to stop reading a socket: its loop keeps
// reading into the connection's inbound buffer whatever the handler does.
// Backpressure is therefore applied at the command level: when more than
// Options.OutputLimit bytes of replies are pending in gnet's outbound buffer
// (Conn.OutboundBuffered), OnTraffic stops parsing and leaves the input
// buffered. gnet calls no handler when the outbound buffer drains, so a
// paused connection is put on a list that the engine ticker (OnTick, on its
// own goroutine) walks every millisecond, calling Conn.Wake on each; Wake is
// goroutine-safe and runs OnTraffic on the connection's loop, which resumes
// once the output is below the limit. Input buffered while paused is capped
// by Options.QueryBufferLimit, past which the connection is closed, as
// Redis's client-query-buffer-limit does.
//
// # Closing
//
// A protocol error is answered with "-ERR <message>" and the connection is
// closed after the reply is written; QUIT (Client.CloseAfterReply) likewise.
// If part of the reply is still pending in gnet's outbound buffer, the close
// waits (via the same ticker) until it drained, up to CloseTimeout. Client.
// Kill, set for every connection, calls Conn.Close, which gnet documents as
// goroutine-safe (it enqueues the close on the connection's loop and ignores
// a connection already closed), so CLIENT KILL works from any loop.
package eventloop
