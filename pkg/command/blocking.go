package command

import (
	"container/heap"
	"container/list"
	"sync"
	"sync/atomic"
	"time"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
)

// Blocked clients (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP), with Redis 7.0's semantics (blocked.c):
//
// A blocking command that finds nothing to pop registers a waiter for each
// of its keys and calls Client.Block, all while it holds the shards of its
// keys; it replies nothing. Because every write to a key happens under the
// key's shard, a push that follows the registration sees the waiter: no
// wake-up is lost.
//
// Every change of a key reaches keyWritten (cache hooks, under the key's
// shard). When no client is blocked, signalReady returns after one atomic
// load; otherwise it notes (db, key) as ready if some waiter waits on it,
// in signal order, once. The goroutine that made the change then serves
// the ready keys at the end of its command (Execute calls serveReady): for
// each key, under its shard (and the destinations of BLMOVE waiters), it
// walks the key's queue in blocking order, as Redis does: a waiter whose
// type matches the key's value is served (pop, reply built in the waiter's
// protocol, Client.Deliver with unblock), one of another type is rotated
// to the tail; the walk stops when the key is emptied. A waiter on several
// keys is served by whichever of its keys is served first and removed
// from every queue. Serving may write other keys (BLMOVE's push), which
// signals them in turn: serveReady loops until nothing is ready, so a
// chain of BLMOVEs is served within the pushing command, as in Redis.
//
// The pushing client may be on another event loop than the blocked one:
// the reply crosses loops through Deliver (the blocked client's inbox and
// Wake), never through the other loop's buffers.
//
// Timeouts: one timer per server (time.AfterFunc, armed for the earliest
// deadline of a heap of waiters) replies a null array to every waiter
// whose deadline passed. Redis checks deadlines in beforeSleep, with the
// same millisecond deadlines; ours fire within a millisecond or so.
//
// Every transition of a waiter (served, timed out, CLIENT UNBLOCK,
// disconnection, never more than one) happens by removing it from the
// registry under blocking.mu: whoever removes it owns it and is the only
// one to reply.
//
// Lock order: cache shards, then blocking.mu, then a client's inbox lock
// (Deliver). blocking.mu is never held while calling into the cache (a
// cache call may run keyWritten, which takes it).
type blocking struct {
	// waiting counts blocked clients (INFO blocked_clients); signalReady
	// returns at once when it is zero.
	waiting atomic.Int64
	// pending is set while ready is non-empty: Execute's cheap check.
	pending atomic.Bool

	mu        sync.Mutex              // guards the fields below
	queues    map[blockKey]*list.List // waiters per key, in blocking order
	byClient  map[*Client]*waiter     // the waiter of each blocked client
	ready     []blockKey              // keys signalled since the last serve, in order
	readySet  map[blockKey]struct{}
	timers    waiterHeap // waiters with a deadline that can fire
	inTimeout int        // waiters with a deadline (clients_in_timeout_table)
	timer     *time.Timer
	timerAt   int64 // deadline the timer is armed for (Unix ms); 0 = disarmed
	seq       uint64
}

// blockKey names a key of a database.
type blockKey struct {
	db  int
	key string
}

// blockOp is what a waiter does when it is served.
type blockOp uint8

const (
	blockPop   blockOp = iota + 1 // BLPOP, BRPOP: [key, element]
	blockMPop                     // BLMPOP: [key, [elements]]
	blockMove                     // BLMOVE, BRPOPLPUSH: element, pushed to dst
	blockZPop                     // BZPOPMIN, BZPOPMAX: [key, member, score]
	blockZMPop                    // BZMPOP: [key, [[member, score], ...]]
)

// waiter is one blocked client: what it waits for and how to serve it.
// Its fields are immutable once registered, except elems and heapIdx
// (guarded by blocking.mu).
type waiter struct {
	c     *Client
	db    int
	proto int
	kind  store.Kind // KindList or KindZSet: the type that serves it
	op    blockOp
	left  bool   // pop from the head (LEFT, MIN)
	to    bool   // BLMOVE: push at the head of dst
	dst   []byte // BLMOVE destination (a copy)
	count int    // elements to pop (BLMPOP, BZMPOP), else 1
	// deadline is Redis's bpop.timeout: Unix ms, 0 = none. A deadline
	// that overflowed (huge timeouts) is negative and never fires, as in
	// Redis, where the timeout table compares it unsigned.
	deadline int64
	seq      uint64

	keys    []blockKey      // distinct keys, in argument order
	elems   []*list.Element // w's element in the queue of keys[i]
	heapIdx int             // index in blocking.timers, -1 if absent
}

// mustNotBlock reports whether a blocking command must not block: inside
// EXEC (which holds every shard, Ctx.held) Redis's CLIENT_DENY_BLOCKING
// applies, and the command behaves as if its timeout had passed at once.
func (x *Ctx) mustNotBlock() bool { return x.held != nil }

// block registers w for the keys (aliasing Args; copied) and blocks the
// client. The caller holds the shards of the keys (and of w.dst) and
// replies nothing.
func (x *Ctx) block(w *waiter, keys [][]byte) {
	s, b := x.S, &x.S.blk
	w.c, w.db, w.proto, w.heapIdx = x.C, x.C.DB, x.C.Proto, -1
	for _, k := range keys {
		bk := blockKey{w.db, string(k)}
		dup := false
		for _, have := range w.keys {
			dup = dup || have == bk
		}
		if !dup {
			w.keys = append(w.keys, bk)
		}
	}
	// Block before registering: once registered, another goroutine may
	// serve w (after our caller unlocks) and its Deliver must find the
	// client blocked, or the unblock would be lost.
	x.C.Block()
	b.mu.Lock()
	if b.queues == nil {
		b.queues = make(map[blockKey]*list.List)
		b.byClient = make(map[*Client]*waiter)
		b.readySet = make(map[blockKey]struct{})
	}
	b.seq++
	w.seq = b.seq
	w.elems = make([]*list.Element, len(w.keys))
	for i, k := range w.keys {
		q := b.queues[k]
		if q == nil {
			q = list.New()
			b.queues[k] = q
		}
		w.elems[i] = q.PushBack(w)
	}
	b.byClient[w.c] = w
	if w.deadline != 0 {
		b.inTimeout++
		if w.deadline > 0 {
			heap.Push(&b.timers, w)
			s.armTimerLocked()
		}
	}
	b.waiting.Add(1)
	b.mu.Unlock()
}

// removeLocked unregisters w from every queue, the timer heap and the
// client index. The caller holds b.mu and now owns w's reply.
func (b *blocking) removeLocked(w *waiter) {
	for i, k := range w.keys {
		if q := b.queues[k]; q != nil {
			q.Remove(w.elems[i])
			if q.Len() == 0 {
				delete(b.queues, k)
			}
		}
	}
	w.elems = nil
	if w.heapIdx >= 0 {
		heap.Remove(&b.timers, w.heapIdx)
	}
	if w.deadline != 0 {
		b.inTimeout--
	}
	delete(b.byClient, w.c)
	b.waiting.Add(-1)
}

// signalReady notes that key in db changed (keyWritten). A removal by
// expiry cannot make data available, so it is ignored. Called with key's
// shard held.
func (s *Server) signalReady(db int, key []byte, expired bool) {
	b := &s.blk
	if expired || b.waiting.Load() == 0 {
		return
	}
	b.mu.Lock()
	b.markReadyLocked(db, key)
	b.mu.Unlock()
}

// markReadyLocked queues (db, key) for serving if a client waits on it and
// it is not queued yet (Redis's signalKeyAsReady). The caller holds b.mu.
func (b *blocking) markReadyLocked(db int, key []byte) {
	if _, ok := b.queues[blockKey{db, string(key)}]; !ok {
		return
	}
	if _, ok := b.readySet[blockKey{db, string(key)}]; ok {
		return
	}
	k := blockKey{db, string(key)}
	b.readySet[k] = struct{}{}
	b.ready = append(b.ready, k)
	b.pending.Store(true)
}

// blockSwapped marks ready every key waited on in a or b that exists in
// the other database, which it will hold after the swap (Redis's
// scanDatabaseForReadyKeys after SWAPDB). Called with every shard held.
func (s *Server) blockSwapped(a, b int, exists func(db int, key []byte) bool) {
	bl := &s.blk
	if bl.waiting.Load() == 0 {
		return
	}
	bl.mu.Lock()
	defer bl.mu.Unlock()
	for k := range bl.queues {
		var other int
		switch k.db {
		case a:
			other = b
		case b:
			other = a
		default:
			continue
		}
		if exists(other, []byte(k.key)) {
			bl.markReadyLocked(k.db, []byte(k.key))
		}
	}
}

// serveReady serves the clients blocked on keys signalled ready, until no
// key is ready. Execute calls it after every command; it must not be
// called with a shard held.
func (s *Server) serveReady() {
	b := &s.blk
	for b.pending.Load() {
		b.mu.Lock()
		ready := b.ready
		b.ready = nil
		b.pending.Store(false)
		b.mu.Unlock()
		for _, k := range ready {
			b.mu.Lock()
			delete(b.readySet, k)
			b.mu.Unlock()
			s.serveKey(k)
		}
	}
}

// serveKey serves the waiters of k while its value can serve them. It
// locks k's shard and those of the destinations of the BLMOVE waiters on
// k; if a BLMOVE waiter registered meanwhile needs another shard, it
// locks again with that one too.
func (s *Server) serveKey(k blockKey) {
	b := &s.blk
	for {
		b.mu.Lock()
		q := b.queues[k]
		if q == nil {
			b.mu.Unlock()
			return
		}
		keys := [][]byte{[]byte(k.key)}
		for e := q.Front(); e != nil; e = e.Next() {
			if w := e.Value.(*waiter); w.dst != nil {
				keys = append(keys, w.dst)
			}
		}
		b.mu.Unlock()
		tx := s.Cache.LockKeys(keys)
		again := s.serveLocked(&tx, k, keys)
		tx.Unlock()
		if !again {
			return
		}
	}
}

// serveLocked is Redis's serveClientsBlockedOn{List,SortedSet}Key for k,
// with the shards of held (k and BLMOVE destinations) locked. It reports
// true if it stopped at a waiter whose destination is not in held.
func (s *Server) serveLocked(tx *cache.Tx, k blockKey, held [][]byte) (again bool) {
	b := &s.blk
	key := []byte(k.key)
	b.mu.Lock()
	n := 0
	if q := b.queues[k]; q != nil {
		n = q.Len()
	}
	b.mu.Unlock()
	for ; n > 0; n-- {
		v, found, err := tx.Get(k.db, key)
		if err != nil || !found || (v.Kind != store.KindList && v.Kind != store.KindZSet) {
			return false
		}
		b.mu.Lock()
		q := b.queues[k]
		if q == nil {
			b.mu.Unlock()
			return false
		}
		e := q.Front()
		w := e.Value.(*waiter)
		if w.kind != v.Kind {
			q.MoveToBack(e)
			b.mu.Unlock()
			continue
		}
		if w.dst != nil && !heldKey(held, w.dst) {
			b.mu.Unlock()
			return true
		}
		b.removeLocked(w)
		b.mu.Unlock()
		if s.serveWaiter(tx, w, key, &v) {
			return false // the key was emptied (and deleted)
		}
	}
	return false
}

func heldKey(held [][]byte, key []byte) bool {
	for _, h := range held {
		if string(h) == string(key) {
			return true
		}
	}
	return false
}

// serveWaiter pops for w from v, the value of key (of w's kind), replies
// to w and unblocks it. tx holds key (and w.dst). It reports whether key
// was emptied. w is no longer registered: the caller owns it.
func (s *Server) serveWaiter(tx *cache.Tx, w *waiter, key []byte, v *cache.Value) (emptied bool) {
	// A Client of its own carries the waiter's database and protocol, so
	// that nothing here reads the blocked client's loop-owned fields.
	x := &Ctx{S: s, C: &Client{ID: w.c.ID, DB: w.db, Proto: w.proto, Authed: true}}
	switch w.op {
	case blockPop, blockMPop:
		l := v.Obj.(*types.List)
		body, n, err := listPop(x, tx, key, v, l, w.left, w.count)
		if err != nil {
			keyReplyErr(x, err)
			break
		}
		x.Array(2)
		x.Bulk(key)
		if w.op == blockMPop {
			x.Array(n)
		}
		x.Out = append(x.Out, body...)
		emptied = l.Len() == 0
	case blockMove:
		sl := v.Obj.(*types.List)
		dv, dl := v, sl
		if string(w.dst) != string(key) {
			var found bool
			var err error
			dv = new(cache.Value)
			if found, err = tx.GetTo(w.db, w.dst, dv); err != nil {
				keyReplyErr(x, err)
				break
			}
			dl = nil
			if found {
				if dv.Kind != store.KindList {
					// Redis checks the destination's type only now, and
					// unblocks the client with the error, popping nothing.
					x.ErrWrongType()
					break
				}
				dl = dv.Obj.(*types.List)
			}
		}
		elem, err := listMoveElem(x, tx, key, w.dst, v, sl, dv, dl, w.left, w.to)
		if err != nil {
			keyReplyErr(x, err)
			break
		}
		x.Bulk(elem)
		emptied = sl.Len() == 0
	case blockZPop, blockZMPop:
		z := v.Obj.(*types.ZSet)
		members, scores, op := zsetPop(z, w.count, !w.left)
		if err := zsetSave(x, tx, key, v, z, op); err != nil {
			keyReplyErr(x, err)
			break
		}
		if w.op == blockZPop {
			x.Array(1 + 2*len(members))
			x.Bulk(key)
		} else {
			x.Array(2)
			x.Bulk(key)
			x.Array(len(members))
		}
		for i, m := range members {
			zsetAppendPair(x, w.op == blockZMPop, m, scores[i])
		}
		emptied = z.Len() == 0
	}
	// The pop is a write made for w: with appendfsync always its reply
	// waits for the sync, as the replies of w's own writes do.
	w.c.DeliverWrite(x.Out, true)
	return emptied
}

// unblockClient ends c's wait, if it is blocked, with reply (nil: the
// timeout reply, a null array). It reports whether c was blocked.
func (s *Server) unblockClient(c *Client, reply []byte) bool {
	b := &s.blk
	b.mu.Lock()
	w := b.byClient[c]
	if w != nil {
		b.removeLocked(w)
	}
	b.mu.Unlock()
	if w == nil {
		return false
	}
	if reply == nil {
		reply = appendTimeoutReply(nil, w.proto)
	}
	c.Deliver(reply, true)
	return true
}

// blockDisconnected forgets c's wait, if any (Disconnected).
func (s *Server) blockDisconnected(c *Client) {
	b := &s.blk
	if b.waiting.Load() == 0 {
		return
	}
	b.mu.Lock()
	if w := b.byClient[c]; w != nil {
		b.removeLocked(w)
	}
	b.mu.Unlock()
}

// blockedCounts returns the number of blocked clients and how many of
// them have a timeout (INFO's blocked_clients, clients_in_timeout_table).
func (s *Server) blockedCounts() (blocked, withTimeout int) {
	b := &s.blk
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.byClient), b.inTimeout
}

// armTimerLocked arms the timeout timer for the earliest deadline, unless
// it is armed for it already. The caller holds blk.mu.
func (s *Server) armTimerLocked() {
	b := &s.blk
	if len(b.timers) == 0 {
		return
	}
	at := b.timers[0].deadline
	if b.timerAt != 0 && b.timerAt <= at {
		return
	}
	// A waiter times out once the clock is past its deadline (Redis:
	// deadline < now), hence the extra millisecond.
	d := time.Duration(at+1-time.Now().UnixMilli()) * time.Millisecond
	b.timerAt = at
	if b.timer == nil {
		b.timer = time.AfterFunc(d, s.expireWaiters)
	} else {
		b.timer.Reset(d)
	}
}

// expireWaiters replies a null array to every waiter whose deadline
// passed and rearms the timer. It runs on the timer's goroutine.
func (s *Server) expireWaiters() {
	b := &s.blk
	now := time.Now().UnixMilli()
	var expired []*waiter
	b.mu.Lock()
	for len(b.timers) > 0 && b.timers[0].deadline < now {
		w := b.timers[0]
		b.removeLocked(w)
		expired = append(expired, w)
	}
	b.timerAt = 0
	s.armTimerLocked()
	b.mu.Unlock()
	for _, w := range expired {
		w.c.Deliver(appendTimeoutReply(nil, w.proto), true)
	}
}

// waiterHeap orders waiters by deadline, then blocking order
// (container/heap).
type waiterHeap []*waiter

func (h waiterHeap) Len() int { return len(h) }
func (h waiterHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].seq < h[j].seq
}
func (h waiterHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *waiterHeap) Push(x any) {
	w := x.(*waiter)
	w.heapIdx = len(*h)
	*h = append(*h, w)
}
func (h *waiterHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	w.heapIdx = -1
	return w
}
