package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/toonstore/toonstore/pkg/store"
	bolt "go.etcd.io/bbolt"
)

// errMissing is returned by a Get of a key that was preloaded but is not
// found: the run stops, a benchmark of a wrong answer is worthless.
var errMissing = errors.New("engines: preloaded key not found")

// engine is one key-value store under test. get copies the value into buf
// (growing it) and returns it: every engine pays the same copy, which is
// what a server answering the read does anyway. Every method but open,
// load and close is called from several goroutines at once.
type engine interface {
	name() string
	// open creates the database in the empty directory dir.
	open(dir string) error
	// load writes every key i with val(i) through the engine's bulk
	// path; it is setup, not measured.
	load(keys [][]byte, val func(i int) []byte) error
	// settle brings the database to its steady state after load, before
	// anything is measured: the LSM engines flush and compact the bulk
	// load away (their best read layout), so no workload pays for the
	// load's compaction debt. Not measured.
	settle() error
	get(key, buf []byte) ([]byte, error)
	put(key, val []byte) error
	// writers is the number of goroutines the write workloads (Put,
	// mixed) use, given the number the other engines use.
	writers(g int) int
	close() error
}

// engineNames lists the engines in table order; ToonStore first, it is
// the reference of every ratio.
func engineNames() []string { return []string{"toonstore", "bbolt", "badger", "pebble"} }

// newEngine returns the engine called name.
func newEngine(name string) (engine, error) {
	switch name {
	case "toonstore":
		return &toonEngine{}, nil
	case "bbolt":
		return &boltEngine{}, nil
	case "badger":
		return &badgerEngine{}, nil
	case "pebble":
		return &pebbleEngine{}, nil
	}
	return nil, fmt.Errorf("engines: unknown engine %q (want one of %v)", name, engineNames())
}

// toonEngine is pkg/store with appendfsync everysec.
type toonEngine struct {
	s  *store.Store
	db *store.DB
}

func (e *toonEngine) name() string { return "toonstore" }

func (e *toonEngine) open(dir string) error {
	s, err := store.Open(dir, store.Options{Sync: store.SyncEverySec})
	if err != nil {
		return err
	}
	e.s, e.db = s, s.DB(0)
	return nil
}

func (e *toonEngine) load(keys [][]byte, val func(i int) []byte) error {
	for i, k := range keys {
		if err := e.db.Set(k, store.KindString, val(i), 0); err != nil {
			return err
		}
	}
	return nil
}

// settle has nothing to do: the log needs no compaction after a load.
func (e *toonEngine) settle() error { return nil }

func (e *toonEngine) get(key, buf []byte) ([]byte, error) {
	ent, ok, err := e.db.Get(key)
	if err != nil {
		return buf, err
	}
	if !ok {
		return buf, errMissing
	}
	return append(buf[:0], ent.Value...), nil
}

func (e *toonEngine) put(key, val []byte) error {
	return e.db.Set(key, store.KindString, val, 0)
}

func (e *toonEngine) writers(g int) int { return g }
func (e *toonEngine) close() error      { return e.s.Close() }

// boltEngine is bbolt with its default options: every commit is fsynced
// (bbolt has no "sync once a second" mode). Writes go through db.Batch,
// which coalesces concurrent callers into one transaction and one fsync;
// that only pays with many callers, so the write workloads run bbolt with
// boltWriters goroutines.
type boltEngine struct {
	db     *bolt.DB
	bucket []byte
}

const boltWriters = 256

func (e *boltEngine) name() string { return "bbolt" }

func (e *boltEngine) open(dir string) error {
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, nil)
	if err != nil {
		return err
	}
	e.db, e.bucket = db, []byte("bench")
	return db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(e.bucket)
		return err
	})
}

func (e *boltEngine) load(keys [][]byte, val func(i int) []byte) error {
	const perTx = 10_000
	for i := 0; i < len(keys); i += perTx {
		err := e.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(e.bucket)
			for j := i; j < min(i+perTx, len(keys)); j++ {
				if err := b.Put(keys[j], val(j)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// settle has nothing to do: every load transaction is committed.
func (e *boltEngine) settle() error { return nil }

func (e *boltEngine) get(key, buf []byte) ([]byte, error) {
	err := e.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(e.bucket).Get(key)
		if v == nil {
			return errMissing
		}
		buf = append(buf[:0], v...)
		return nil
	})
	return buf, err
}

func (e *boltEngine) put(key, val []byte) error {
	return e.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket(e.bucket).Put(key, val)
	})
}

func (e *boltEngine) writers(g int) int { return max(g, boltWriters) }
func (e *boltEngine) close() error      { return e.db.Close() }

// badgerEngine is badger v4 with its default options (SyncWrites=false,
// 256 MiB block cache); one transaction per operation.
type badgerEngine struct {
	db *badger.DB
}

func (e *badgerEngine) name() string { return "badger" }

func (e *badgerEngine) open(dir string) error {
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(false).WithLogger(nil))
	if err != nil {
		return err
	}
	e.db = db
	return nil
}

func (e *badgerEngine) load(keys [][]byte, val func(i int) []byte) error {
	wb := e.db.NewWriteBatch()
	defer wb.Cancel()
	for i, k := range keys {
		if err := wb.Set(k, val(i)); err != nil {
			return err
		}
	}
	return wb.Flush()
}

// settle compacts every level into one (badger's Flatten).
func (e *badgerEngine) settle() error { return e.db.Flatten(2) }

func (e *badgerEngine) get(key, buf []byte) ([]byte, error) {
	err := e.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return errMissing
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			buf = append(buf[:0], v...)
			return nil
		})
	})
	return buf, err
}

func (e *badgerEngine) put(key, val []byte) error {
	return e.db.Update(func(txn *badger.Txn) error { return txn.Set(key, val) })
}

func (e *badgerEngine) writers(g int) int { return g }
func (e *badgerEngine) close() error      { return e.db.Close() }

// pebbleEngine is pebble v2 with default options but a 256 MiB block
// cache (badger's default; pebble's own default is 8 MiB); writes with
// pebble.NoSync, the WAL on.
type pebbleEngine struct {
	db *pebble.DB
}

const pebbleCache = 256 << 20

func (e *pebbleEngine) name() string { return "pebble" }

func (e *pebbleEngine) open(dir string) error {
	c := pebble.NewCache(pebbleCache)
	defer c.Unref()
	db, err := pebble.Open(dir, &pebble.Options{Cache: c, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	e.db = db
	return nil
}

func (e *pebbleEngine) load(keys [][]byte, val func(i int) []byte) error {
	const perBatch = 1000
	for i := 0; i < len(keys); i += perBatch {
		b := e.db.NewBatch()
		for j := i; j < min(i+perBatch, len(keys)); j++ {
			if err := b.Set(keys[j], val(j), nil); err != nil {
				b.Close()
				return err
			}
		}
		if err := b.Commit(pebble.NoSync); err != nil {
			b.Close()
			return err
		}
		if err := b.Close(); err != nil {
			return err
		}
	}
	return nil
}

// settle flushes the memtable and compacts the whole key space.
func (e *pebbleEngine) settle() error {
	if err := e.db.Flush(); err != nil {
		return err
	}
	return e.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true)
}

func (e *pebbleEngine) get(key, buf []byte) ([]byte, error) {
	v, closer, err := e.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return buf, errMissing
	}
	if err != nil {
		return buf, err
	}
	buf = append(buf[:0], v...)
	return buf, closer.Close()
}

func (e *pebbleEngine) put(key, val []byte) error {
	return e.db.Set(key, val, pebble.NoSync)
}

// quietLogger drops pebble's informational messages ("Found 0 WALs")
// that would interleave with the progress lines; errors still print.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any) {}
func (quietLogger) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
}
func (quietLogger) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pebble: "+format+"\n", args...)
	os.Exit(1)
}

func (e *pebbleEngine) writers(g int) int { return g }
func (e *pebbleEngine) close() error      { return e.db.Close() }
