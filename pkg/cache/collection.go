package cache

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/toonstore/toonstore/pkg/store"
	"github.com/toonstore/toonstore/pkg/types"
	"go.uber.org/zap"
)

// When AppendOp folds a collection's chain of operations into a new image
// (FoldFloor, FoldRatio, FoldDead). A chain is folded once it outgrows
// FoldFloor bytes and FoldRatio times the image, and the fold would
// reclaim at least FoldDead times what it writes: the image plus chain
// exceed (1+FoldDead) times the size a fresh image would have
// (Hash.ImageSize and the like). A chain of operations that only added
// elements is its collection's data: for elements of a few hundred bytes
// and more it is about as large as the image it would become, and a
// growing collection of them is not rewritten at all; for small elements
// the operation records' own bytes are dead weight a fold reclaims (a
// 16-byte RPUSH takes about 100 bytes of log, its element 17 in an
// image), and such chains fold at about FoldRatio times the image, as
// when FoldRatio was the only rule.
//
// The measurement is O(n) (the elements' lengths; no bytes are read) and
// is repeated only after the chain has grown by half the collection's
// disk bytes, so it costs O(1) per operation byte. A collection's disk
// bytes thus stay below about (1+FoldRatio) times the larger of its image
// and its size when last measured, plus FoldFloor; a cold read (image
// plus chain replay) reads those bytes; a write costs O(size of the
// change) amortized (a fold of an image of n bytes follows at least
// FoldRatio*n bytes of operations).
//
// FoldRatio 4 rather than 1: folds and the compaction of the images they
// leave dead were a third of the CPU of writes to one big collection; an
// A/B of redis-benchmark's LPUSH, RPUSH, SADD, HSET, ZADD, LPOP, RPOP,
// SPOP and ZPOPMIN at pipeline 16 (perf/results/hotpath.md, "Fold ratio")
// gave 1.21x the operations per CPU-second (8 gave no more). FoldDead:
// hotpath.md, "Folds that reclaim".
const (
	FoldFloor = 4 << 10
	FoldRatio = 4
	FoldDead  = 2
)

// loadCollection reads a collection key with its chain and decodes it: the
// image, then each operation applied in order. ok is false if the key is
// gone. Errors report store I/O or corruption (a malformed image or
// operation, an unsupported kind). The caller holds key's shard.
func (c *Cache) loadCollection(db int, key []byte) (v Value, ok bool, err error) {
	var derr error
	var obj any
	var img int64
	kind, expireAt, ok, err := c.s.DB(db).GetChain(key, func(image []byte, ops [][]byte) {
		img = int64(len(image))
		obj, derr = decodeCollection(image, ops)
	})
	if err != nil || !ok {
		return Value{}, false, err
	}
	if derr != nil {
		return Value{}, false, fmt.Errorf("cache: key %q: %w", key, derr)
	}
	return Value{Kind: kind, ExpireAt: expireAt, Obj: obj, img: img}, true, nil
}

// collection is what the decoded collections of pkg/types have in common.
type collection interface {
	AppendImage(dst []byte) []byte
	AppendImageTo(dst []byte, spill types.Spill) []byte
	ImageSize() int
	Apply(op []byte) error
}

// foldChecks counts AppendOp's measurements of a collection (tests check
// that they stay O(log n) for n operations that only add).
var foldChecks atomic.Int64

// imageSize is the size of a fresh image of obj, a decoded collection
// (len(appendImage(nil, kind, obj)), without encoding it).
func imageSize(obj any) int64 {
	if c, ok := obj.(collection); ok {
		return int64(c.ImageSize())
	}
	return 0
}

// decodeCollection decodes an image and replays ops on it. The kind is
// read from the image itself.
func decodeCollection(image []byte, ops [][]byte) (any, error) {
	k, err := types.PeekKind(image)
	if err != nil {
		return nil, err
	}
	var obj collection
	switch k {
	case types.KindHash:
		obj, err = types.DecodeHash(image)
	case types.KindSet:
		obj, err = types.DecodeSet(image)
	case types.KindList:
		obj, err = types.DecodeList(image)
	case types.KindZSet:
		obj, err = types.DecodeZSet(image)
	default:
		return nil, fmt.Errorf("%w: collection kind %v is not supported", store.ErrCorrupt, k)
	}
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		if err := obj.Apply(op); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// appendImage encodes a collection object of kind; a nil obj stands for
// an empty collection of kind. It panics on an object that does not match
// kind: a caller bug. A non-nil spill takes the image in pieces
// (types.Spill).
func appendImage(dst []byte, kind store.Kind, obj any, spill types.Spill) []byte {
	if obj == nil {
		switch kind {
		case store.KindHash:
			obj = &types.Hash{}
		case store.KindSet:
			obj = &types.Set{}
		case store.KindList:
			obj = &types.List{}
		case store.KindZSet:
			obj = &types.ZSet{}
		}
	}
	ok := false
	switch obj.(type) {
	case *types.Hash:
		ok = kind == store.KindHash
	case *types.Set:
		ok = kind == store.KindSet
	case *types.List:
		ok = kind == store.KindList
	case *types.ZSet:
		ok = kind == store.KindZSet
	}
	if !ok {
		panic(fmt.Sprintf("cache: a %T is not a collection of kind %d", obj, kind))
	}
	return obj.(collection).AppendImageTo(dst, spill)
}

// setCollection is Set for a collection Value: it writes a fresh image
// of v.Obj and, if key is cached, caches a copy decoded from that image.
func (t *Tx) setCollection(s *shard, db int, key []byte, v Value) error {
	image := appendImage(nil, v.Kind, v.Obj, nil)
	if err := t.c.s.DB(db).Set(key, v.Kind, image, v.ExpireAt); err != nil {
		return err
	}
	t.c.written(db, key, false)
	k := entryKey{db: db, key: noCopyString(key)}
	if _, cached := s.lru.Peek(k); !cached {
		return nil
	}
	obj, err := decodeCollection(image, nil)
	if err != nil { // cannot happen for an image just encoded; drop the copy
		s.remove(k)
		return nil
	}
	s.put(k, Value{Kind: v.Kind, ExpireAt: v.ExpireAt, Obj: obj, img: int64(len(image))})
	return nil
}

// AppendOp records a change of the collection key in db: v points to the
// Value Tx.Get or Tx.GetTo returned for key in this Tx, whose Obj the
// caller has already changed in place (AppendOp updates its fold
// bookkeeping, so a second change through v in the same Tx sees it), and
// op the matching operation record (pkg/types' AppendOp constructors). The store gets op appended to the key's chain
// (O(len(op))); when the fold rule above says so, a fresh image of
// v.Obj is written instead of the old image and chain (the fold), with
// the key's expiry.
//
// A change that empties a collection must not come here: the caller
// deletes the key (Tx.Delete), since Redis has no empty collections.
//
// If the store refuses op, the decoded copy is dropped (the next read
// decodes the store's state, without the change) and the error returned:
// the caller must treat v.Obj as stale. A failed fold is only logged: the
// chain holds the change.
func (t *Tx) AppendOp(db int, key []byte, v *Value, op []byte) error {
	s := t.shard(key)
	k := entryKey{db: db, key: noCopyString(key)}
	d := t.c.s.DB(db)
	chain, err := d.AppendOp(key, v.Kind, op)
	if err != nil {
		s.remove(k)
		return err
	}
	t.c.written(db, key, false)
	if chain <= FoldFloor || chain <= FoldRatio*v.img || chain < v.recheck {
		return nil
	}
	if c, ok := s.lru.Peek(k); ok && chain < c.recheck {
		return nil // v is older than an AppendOp earlier in this Tx
	}
	foldChecks.Add(1)
	live := imageSize(v.Obj)
	if disk := v.img + chain; disk <= (1+FoldDead)*live {
		// Mostly live operations (a growing collection of large
		// elements): a fold would rewrite them to reclaim little.
		// Measure again after the chain has grown by half the disk
		// bytes.
		v.live, v.recheck = live, chain+max(FoldFloor, disk/2)
		s.put(k, *v)
		return nil
	}
	// The new image, of the size just measured, is encoded straight into
	// the log, a large one in pieces (store.DB.SetImage): no heap copy of
	// it, which for a collection of hundreds of MB was the larger part of
	// the fold.
	start := time.Now()
	err = d.SetImage(key, v.Kind, v.ExpireAt, int(live), func(dst []byte, spill func([]byte) []byte) []byte {
		return appendImage(dst, v.Kind, v.Obj, spill)
	})
	if err != nil {
		t.c.log.Warn("cache: folding a collection", zap.Int("db", db), zap.ByteString("key", key), zap.Error(err))
		return nil
	}
	if ce := t.c.log.Check(zap.DebugLevel, "cache: folded a collection"); ce != nil {
		ce.Write(zap.Int("db", db), zap.ByteString("key", key), zap.Int64("image_bytes", live),
			zap.Int64("chain_bytes", chain), zap.Duration("took", time.Since(start)))
	}
	v.img, v.live, v.recheck = live, live, 0
	s.put(k, *v) // cached or evicted within this Tx, v is current
	return nil
}
