package command

// Out-of-band replies. Most replies are produced by Execute on the client's
// own event loop and written with the rest of its batch. Two kinds are
// produced elsewhere, on whatever goroutine causes them:
//
//   - the reply of a blocked command (BLPOP, BZPOPMIN, ...) served when
//     another client pushes to the key, or timed out;
//   - pub/sub messages published by other clients (and RESP3 pushes).
//
// They go to the client's inbox with Deliver, which wakes the client's
// loop (Client.Wake); the loop appends the inbox to its reply buffer
// (TakeInbox) before it parses any further input, and writes it. The
// blocked flag lives under the same lock as the inbox, so a blocked
// client's reply and its unblocking are one step: the loop never runs the
// client's next command before the reply of the command that blocked.

// Block marks c blocked: its event loop runs none of its further input
// until a Deliver with unblock. It is called by a command (on c's loop)
// that found nothing to serve and registered c to be served later.
func (c *Client) Block() {
	c.inbox.mu.Lock()
	c.inbox.blocked.Store(true)
	c.inbox.mu.Unlock()
}

// Blocked reports whether c is blocked (Block without the Deliver that
// unblocks it yet). Safe from any goroutine.
func (c *Client) Blocked() bool { return c.inbox.blocked.Load() }

// Deliver appends reply (one or more complete RESP elements, copied) to
// c's inbox and, if unblock, ends c's blocked state in the same step. It
// wakes c's event loop unless a wake is already pending. Safe from any
// goroutine; it never blocks on c's loop. It returns the bytes now waiting
// in the inbox, for output limits.
func (c *Client) Deliver(reply []byte, unblock bool) int {
	c.inbox.mu.Lock()
	c.inbox.buf = append(c.inbox.buf, reply...)
	if unblock {
		c.inbox.blocked.Store(false)
	}
	n := len(c.inbox.buf)
	wake := !c.inbox.woken.Swap(true)
	c.inbox.mu.Unlock()
	if wake && c.Wake != nil {
		c.Wake()
	}
	return n
}

// TakeInbox appends c's inbox to dst, empties it and reports whether c is
// still blocked. Only c's event loop calls it.
func (c *Client) TakeInbox(dst []byte) (out []byte, blocked bool) {
	if !c.inbox.woken.Load() && !c.inbox.blocked.Load() {
		return dst, false // nothing delivered: no lock on the hot path
	}
	c.inbox.mu.Lock()
	dst = append(dst, c.inbox.buf...)
	if cap(c.inbox.buf) > maxRetainedInbox {
		c.inbox.buf = nil
	} else {
		c.inbox.buf = c.inbox.buf[:0]
	}
	c.inbox.woken.Store(false)
	blocked = c.inbox.blocked.Load()
	c.inbox.mu.Unlock()
	return dst, blocked
}

// maxRetainedInbox is the largest inbox buffer kept once drained.
const maxRetainedInbox = 64 << 10
