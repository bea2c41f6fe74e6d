package command

import "github.com/toonstore/toonstore/pkg/cache"

// Keyspace events: the cache calls these on every change of a key, flush
// and swap (cache.Hooks), with the shards of the change held. Features that
// react to changes (WATCH invalidation, waking clients blocked on a key)
// hook in here; each reaction must be quick and take no shard lock.

func (s *Server) cacheHooks() cache.Hooks {
	return cache.Hooks{Written: s.keyWritten, Flushed: s.dbFlushed, Swapped: s.dbSwapped}
}

// keyWritten: key in db changed (expired: removed because its TTL passed).
func (s *Server) keyWritten(db int, key []byte, expired bool) {
	s.touchWatched(db, key, expired)
	s.signalReady(db, key, expired)
}

// dbFlushed: db (-1: every database) is about to be emptied.
func (s *Server) dbFlushed(db int, exists func(db int, key []byte) bool) {
	s.flushWatched(db, exists)
}

// dbSwapped: databases a and b are about to swap contents.
func (s *Server) dbSwapped(a, b int, exists func(db int, key []byte) bool) {
	s.swapWatched(a, b, exists)
	s.blockSwapped(a, b, exists)
}

// Disconnected forgets c: the event loop calls it once when c's
// connection closed. It unregisters c and undoes whatever c left in
// server-wide state (blocked keys, subscriptions, watched keys).
func (s *Server) Disconnected(c *Client) {
	s.Clients.Remove(c)
	s.unwatchAll(c)
	s.unsubscribeAll(c)
	s.blockDisconnected(c)
}
