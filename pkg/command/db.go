package command

// The database commands: SELECT, SWAPDB, FLUSHDB, FLUSHALL, DBSIZE, with
// Redis 7.0's arguments, replies and errors (db.c).

func dbCommands() []*Command {
	return []*Command{
		{Name: "select", Run: cmdSelect},
		{Name: "swapdb", Run: cmdSwapDB},
		{Name: "flushdb", Run: cmdFlushDB},
		{Name: "flushall", Run: cmdFlushAll},
		{Name: "dbsize", Run: cmdDBSize},
	}
}

// SELECT index
func cmdSelect(x *Ctx) {
	id, ok := keyParseInt32(x, x.Args[1], "")
	if !ok {
		return
	}
	if id < 0 || id >= x.S.databases() {
		x.Error(ErrDBIndex)
		return
	}
	x.C.DB = id
	x.OK()
}

// SWAPDB index1 index2
func cmdSwapDB(x *Ctx) {
	a, ok := keyParseInt32(x, x.Args[1], "ERR invalid first DB index")
	if !ok {
		return
	}
	b, ok := keyParseInt32(x, x.Args[2], "ERR invalid second DB index")
	if !ok {
		return
	}
	n := x.S.Cache.Databases()
	if a < 0 || a >= n || b < 0 || b >= n {
		x.Error(ErrDBIndex)
		return
	}
	if a != b {
		if err := x.swapDB(a, b); err != nil {
			keyReplyErr(x, err)
			return
		}
	}
	x.OK()
}

// dbFlushArgs is Redis's getFlushCommandFlags: no argument, SYNC or
// ASYNC. Both modes flush before replying here: a flush is one durable
// record, whatever the number of keys.
func dbFlushArgs(x *Ctx) bool {
	switch {
	case len(x.Args) == 1:
		return true
	case len(x.Args) == 2 && (keyOptIs(x.Args[1], "SYNC") || keyOptIs(x.Args[1], "ASYNC")):
		return true
	}
	x.ErrSyntax()
	return false
}

// FLUSHDB [ASYNC|SYNC]
func cmdFlushDB(x *Ctx) {
	if !dbFlushArgs(x) {
		return
	}
	if err := x.flushDB(x.C.DB); err != nil {
		keyReplyErr(x, err)
		return
	}
	x.OK()
}

// FLUSHALL [ASYNC|SYNC]
func cmdFlushAll(x *Ctx) {
	if !dbFlushArgs(x) {
		return
	}
	if err := x.flushAll(); err != nil {
		keyReplyErr(x, err)
		return
	}
	x.OK()
}

// DBSIZE
func cmdDBSize(x *Ctx) { x.Int(int64(x.S.Cache.DBSize(x.C.DB))) }

// flushDB, flushAll and swapDB lock every shard through the Ctx (borrowed
// inside EXEC) and apply the change.
func (x *Ctx) flushDB(db int) error {
	tx := x.LockAll()
	defer tx.Unlock()
	return tx.FlushDB(db)
}

func (x *Ctx) flushAll() error {
	tx := x.LockAll()
	defer tx.Unlock()
	return tx.FlushAll()
}

func (x *Ctx) swapDB(a, b int) error {
	tx := x.LockAll()
	defer tx.Unlock()
	return tx.SwapDB(a, b)
}
