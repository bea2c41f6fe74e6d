package command

// MOVE and COPY, with Redis 7.0's arguments, replies and errors (db.c
// moveCommand, copyCommand). Both work on every type and keep the TTL.
// They lock by key alone: the cache picks a key's shard without its
// database, so one Tx holds the key in both databases.

func moveCopyCommands() []*Command {
	return []*Command{
		{Name: "move", Run: cmdMove},
		{Name: "copy", Run: cmdCopy},
		objectCommand(),
	}
}

// errSameObject is Redis's shared.sameobjecterr.
const errSameObject = "ERR source and destination objects are the same"

// parseDB parses a database index argument: Redis's getIntFromObjectOrReply
// errors, then "ERR DB index is out of range".
func parseDB(x *Ctx, b []byte) (int, bool) {
	id, ok := keyParseInt32(x, b, "")
	if !ok {
		return 0, false
	}
	if id < 0 || id >= x.S.Cache.Databases() {
		x.Error(ErrDBIndex)
		return 0, false
	}
	return id, true
}

// MOVE key db: 1 if key moved from the current database to db (with its
// TTL), 0 if it does not exist here or already exists there.
func cmdMove(x *Ctx) {
	key := x.Args[1]
	src := x.C.DB
	dst, ok := parseDB(x, x.Args[2])
	if !ok {
		return
	}
	if dst == src {
		x.Error(errSameObject)
		return
	}
	tx := x.Lock(key)
	v, ok, err := tx.Get(src, key)
	if err != nil || !ok {
		tx.Unlock()
		if err != nil {
			keyReplyErr(x, err)
		} else {
			x.Int(0)
		}
		return
	}
	if tx.Exists(dst, key) {
		tx.Unlock()
		x.Int(0)
		return
	}
	// v's string bytes belong to the cache and are never modified; a
	// collection is written as a fresh image, so the two keys share nothing.
	if err = tx.Set(dst, key, v); err == nil {
		_, err = tx.Delete(src, key)
	}
	if keyUnlock(x, &tx, err) {
		x.Int(1)
	}
}

// COPY source destination [DB destination-db] [REPLACE]: 1 if source was
// copied (value and TTL) to destination, 0 if source does not exist or
// destination exists and REPLACE was not given.
func cmdCopy(x *Ctx) {
	srcKey, dstKey := x.Args[1], x.Args[2]
	src := x.C.DB
	dst := src
	replace := false
	for j := 3; j < len(x.Args); j++ {
		switch {
		case optIs(x.Args[j], "replace"):
			replace = true
		case optIs(x.Args[j], "db") && j+1 < len(x.Args):
			id, ok := parseDB(x, x.Args[j+1])
			if !ok {
				return
			}
			dst = id
			j++
		default:
			x.ErrSyntax()
			return
		}
	}
	if src == dst && string(srcKey) == string(dstKey) {
		x.Error(errSameObject)
		return
	}
	tx := x.LockArgs(x.Args, 1, 2, 1)
	v, ok, err := tx.Get(src, srcKey)
	if err != nil {
		tx.Unlock()
		keyReplyErr(x, err)
		return
	}
	keyStat(x, ok)
	if !ok {
		tx.Unlock()
		x.Int(0)
		return
	}
	if !replace && tx.Exists(dst, dstKey) {
		tx.Unlock()
		x.Int(0)
		return
	}
	// Set replaces whatever dstKey held (REPLACE), in one record.
	err = tx.Set(dst, dstKey, v)
	if keyUnlock(x, &tx, err) {
		x.Int(1)
	}
}
