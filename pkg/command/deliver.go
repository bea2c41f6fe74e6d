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
	return c.deliver(reply, unblock, false)
}

// DeliverWrite is Deliver for a reply that acknowledges a write made for
// c by another goroutine (a blocked pop served by the pushing client's
// command): with appendfsync always, c's event loop holds it, like the
// replies of its own writes, until a sync covers the write (TookWrite).
func (c *Client) DeliverWrite(reply []byte, unblock bool) int {
	return c.deliver(reply, unblock, true)
}

func (c *Client) deliver(reply []byte, unblock, wrote bool) int {
	c.inbox.mu.Lock()
	c.inbox.buf = append(c.inbox.buf, reply...)
	c.inbox.wrote = c.inbox.wrote || wrote
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
	c.inbox.took = false
	if !c.inbox.woken.Load() && !c.inbox.blocked.Load() {
		return dst, false // nothing delivered: no lock on the hot path
	}
	c.inbox.mu.Lock()
	dst = append(dst, c.inbox.buf...)
	c.inbox.took, c.inbox.wrote = c.inbox.wrote, false
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

// TookWrite reports whether the inbox taken by the last TakeInbox held a
// reply from DeliverWrite. Only c's event loop calls it.
func (c *Client) TookWrite() bool { return c.inbox.took }

// Pending reports whether c is blocked or has out-of-band replies that
// its loop has not taken yet. The loop stops executing c's input when it
// is true after a command: a blocked command's reply may even have been
// delivered (by another goroutine) before the loop looked, and it must go
// out before the replies of the commands that follow. Safe from any
// goroutine.
func (c *Client) Pending() bool { return c.inbox.blocked.Load() || c.inbox.woken.Load() }

// maxRetainedInbox is the largest inbox buffer kept once drained.
const maxRetainedInbox = 64 << 10
