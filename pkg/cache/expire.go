package cache

import (
	"time"

	"github.com/toonstore/toonstore/pkg/store"
)

// Active expiry parameters, after Redis's activeExpireCycle.
const (
	// expireSampleKeys is how many keys carrying an expiry a round
	// examines in one database (Redis: ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
	expireSampleKeys = 20
	// expireScanCount is the count passed to each store.DB.Scan call.
	expireScanCount = 16
	// expireScanSlots bounds the index slots one round visits, so that a
	// database where few keys carry an expiry costs a bounded walk.
	expireScanSlots = 512
	// expireRepeatPct: a database is sampled again in the same cycle while
	// more than this percentage of its sample was expired.
	expireRepeatPct = 25
)

// expirer is the state of active expiry between cycles. It is owned by the
// active expiry goroutine (or by a test calling expireCycle).
type expirer struct {
	cursors []uint64 // per database: the store Scan cursor to resume from
	nextDB  int      // database the next cycle starts with
	buf     []byte   // keys found expired in a round, concatenated
	ends    []int    // end offsets of those keys in buf
}

func (c *Cache) newExpirer() *expirer {
	return &expirer{cursors: make([]uint64, c.s.Databases())}
}

// activeExpiry runs expireCycle every interval until Close, each cycle
// within a quarter of the interval (Redis's 25% CPU budget at hz).
func (c *Cache) activeExpiry(interval time.Duration) {
	defer c.done.Done()
	tk := time.NewTicker(interval)
	defer tk.Stop()
	x := c.newExpirer()
	for {
		select {
		case <-c.stop:
			return
		case <-tk.C:
			c.expireCycle(x, interval/4)
		}
	}
}

// expireCycle is one active expiry cycle: for each database that has keys
// with an expiry, starting where the last cycle stopped, it runs sampling
// rounds while more than expireRepeatPct of a round's sample was expired,
// and stops when budget (wall time) is spent or Close was called. It
// returns the number of keys it deleted.
func (c *Cache) expireCycle(x *expirer, budget time.Duration) int {
	start := time.Now()
	deleted := 0
	n := len(x.cursors)
	for range n {
		db := x.nextDB
		x.nextDB = (x.nextDB + 1) % n
		if c.s.DB(db).Expires() == 0 {
			continue
		}
		for {
			sampled, expired := c.expireRound(x, db)
			deleted += expired
			if sampled == 0 || expired*100 <= sampled*expireRepeatPct {
				break
			}
			if time.Since(start) > budget || c.stopping() {
				return deleted
			}
		}
		if time.Since(start) > budget || c.stopping() {
			break
		}
	}
	return deleted
}

func (c *Cache) stopping() bool {
	select {
	case <-c.stop:
		return true
	default:
		return false
	}
}

// expireRound samples up to expireSampleKeys keys with an expiry from db,
// resuming its cursor, within expireScanSlots index slots, and deletes
// those found expired. It returns how many keys with an expiry it sampled
// and how many it deleted.
//
// The store's Scan callback must not call back into the store, so expired
// keys are copied out first and deleted after Scan returns, each under its
// shard lock (shard before store: the lock order), re-checked there because
// a writer may have changed the key in between.
func (c *Cache) expireRound(x *expirer, db int) (sampled, deleted int) {
	d := c.s.DB(db)
	now := c.now()
	x.buf, x.ends = x.buf[:0], x.ends[:0]
	cursor := x.cursors[db]
	for visited := 0; visited < expireScanSlots && sampled < expireSampleKeys; visited += expireScanCount {
		cursor = d.Scan(cursor, expireScanCount, func(key []byte, _ store.Kind, expireAt int64) {
			if expireAt == 0 {
				return
			}
			sampled++
			if expireAt <= now {
				x.buf = append(x.buf, key...)
				x.ends = append(x.ends, len(x.buf))
			}
		})
		if cursor == 0 { // a full pass over the index is complete
			break
		}
	}
	x.cursors[db] = cursor
	begin := 0
	for _, end := range x.ends {
		key := x.buf[begin:end]
		begin = end
		if c.expireIfDue(db, key) {
			deleted++
		}
	}
	return sampled, deleted
}

// expireIfDue deletes key from db if its expiry has passed, under its
// shard lock, and reports whether it did. The store is asked, not the
// decoded copy: both agree under the lock, and the store is the truth.
func (c *Cache) expireIfDue(db int, key []byte) bool {
	t := c.Lock(key)
	defer t.Unlock()
	e, found, err := c.s.DB(db).Get(key)
	if err != nil || !found || e.ExpireAt == 0 || e.ExpireAt > c.now() {
		return false
	}
	return c.expireKey(t.shard(key), db, key, entryKey{db: db, key: noCopyString(key)})
}
