package command

// PrefetchKey returns the key that the command args would look up first,
// for Prefetch: args[First] of a command with a fixed key position (no
// movable keys, no subcommands) called with a valid number of arguments;
// nil for anything else (unknown commands, commands without keys). It is
// a pure function of the command table and args: it runs nothing, checks
// no permission and counts nothing, so the caller may apply it to commands
// buffered ahead of the one executing. The results alias args. member is
// the first member the command looks up in the key's collection (HSET's
// field, SADD's member, ZADD's last member: memberArg), or nil. reads
// reports whether the command reads the key's value (all but those that
// overwrite it: overwrites), writes whether it may write the key.
func (s *Server) PrefetchKey(c *Client, args [][]byte) (key, member []byte, reads, writes bool) {
	if len(args) < 2 {
		return nil, nil, false, false
	}
	cmd := c.last // as Execute: a pipeline mostly repeats one command
	if cmd == nil || !nameIs(args[0], cmd.Name) {
		if cmd = s.Lookup(args[0]); cmd == nil {
			return nil, nil, false, false
		}
	}
	if cmd.First < 1 || cmd.Subcommands != nil || cmd.Flags&FlagMovableKeys != 0 ||
		(cmd.Arity > 0 && len(args) != cmd.Arity) || len(args) < -cmd.Arity || cmd.First >= len(args) {
		return nil, nil, false, false
	}
	return args[cmd.First], memberArg(cmd, args), !overwrites(cmd, args), cmd.Flags&FlagWrite != 0
}

// memberArg returns the first member of the key's collection that cmd
// looks up (args has cmd's arity), for PrefetchMembers, or nil: the field
// of HSET, HGET and the other single-hash-field commands (the first field
// of HSET, HMGET and HDEL with several), the member of SADD, SREM,
// SISMEMBER, SMISMEMBER, ZSCORE, ZRANK, ZREVRANK, ZREM and ZMSCORE (the
// first), ZINCRBY's member, and ZADD's last argument (its member, or the
// last of several).
func memberArg(cmd *Command, args [][]byte) []byte {
	switch cmd.Name {
	case "hset", "hsetnx", "hget", "hexists", "hdel", "hincrby", "hincrbyfloat", "hstrlen", "hmget", "hmset",
		"sadd", "srem", "sismember", "smismember",
		"zscore", "zrank", "zrevrank", "zrem", "zmscore":
		return args[2]
	case "zincrby":
		return args[3]
	case "zadd":
		return args[len(args)-1]
	}
	return nil
}

// overwrites reports whether cmd replaces or deletes the keys of args
// without reading their values: SET (without its GET option), SETEX,
// PSETEX, MSET, DEL, UNLINK. Their lookups need the index and its copy of
// the keys only, not the records (store.DB.Prefetch).
func overwrites(cmd *Command, args [][]byte) bool {
	if cmd == nil {
		return false
	}
	switch cmd.Name {
	case "set":
		for _, a := range args[min(3, len(args)):] {
			if nameIs(a, "get") {
				return false
			}
		}
		return true
	case "setex", "psetex", "mset", "del", "unlink":
		return true
	}
	return false
}

// Prefetch is a hint that c is about to run commands on keys (from
// PrefetchKey) in its selected database: the store's index lines of those
// keys are brought into the CPU caches together (cache.Cache.Prefetch), so
// that the lookups of a pipeline overlap their cache misses. members, nil
// or one per key (PrefetchKey's member, nil for none), are the members the
// commands look up in those keys' collections: in a large collection that
// is cached their lookups are warmed too (cache.Cache.PrefetchMembers). It
// changes nothing a command can observe: a key that turns out not to be
// used, or to live in another database after a SELECT, only wastes the
// hint. It does not allocate; keys and members are only read during the
// call.
//
// reads and writes say how the commands use the keys (PrefetchKey): the
// records of keys about to be read, the index's copies of keys about to
// be written (store.DB.Prefetch).
func (s *Server) Prefetch(c *Client, keys, members [][]byte, reads, writes bool) {
	cc := s.readyCache() // not s.Cache: the event loops call this during the load
	if cc == nil || len(keys) == 0 {
		return
	}
	cc.Prefetch(c.DB, keys, reads, writes)
	if members != nil {
		cc.PrefetchMembers(c.DB, keys, members)
	}
}

// PrefetchWorth reports whether a Prefetch for c can pay off: its selected
// database is large enough for lookups to miss the CPU caches
// (cache.Cache.PrefetchWorth), or, given a member of key (PrefetchKey),
// key holds a large collection (cache.Cache.MembersWorth). Callers check
// it before collecting keys.
func (s *Server) PrefetchWorth(c *Client, key, member []byte) bool {
	cc := s.readyCache() // not s.Cache: the event loops call this during the load
	return cc != nil && (cc.PrefetchWorth(c.DB) || member != nil && cc.MembersWorth(c.DB, key))
}
