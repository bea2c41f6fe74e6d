package clients

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisTransactions drives MULTI/EXEC/WATCH as go-redis users do
// (Client.Watch, Tx.TxPipelined, Client.TxPipelined) from several
// goroutines at once, against tstd and redis-server, over RESP2 and RESP3.
func TestGoRedisTransactions(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			eachServer(t, func(t *testing.T, tg target) {
				t.Run("counter", func(t *testing.T) { goRedisTxCounter(t, tg, proto) })
				t.Run("atomic", func(t *testing.T) { goRedisTxAtomic(t, tg, proto) })
				t.Run("replies", func(t *testing.T) { goRedisTxReplies(t, tg, proto) })
			})
		})
	}
}

// goRedisTxCounter: optimistic locking. Each goroutine increments a
// counter with WATCH, GET, MULTI, SET, EXEC, retrying when EXEC fails
// because another goroutine got there first; the total must be exact.
func goRedisTxCounter(t *testing.T, tg target, proto int) {
	const workers, each = 8, 40
	opts := goRedisOptions(tg, proto)
	opts.PoolSize = workers
	rdb := newGoRedis(t, opts)
	ctx := context.Background()
	if err := rdb.Del(ctx, "counter").Err(); err != nil {
		t.Fatal(err)
	}
	incr := func() error {
		return rdb.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Get(ctx, "counter").Int()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "counter", n+1, 0)
				return nil
			})
			return err
		}, "counter")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				switch err := incr(); {
				case err == nil:
					done++
				case errors.Is(err, redis.TxFailedErr):
					mu.Lock()
					conflicts++
					c := conflicts
					mu.Unlock()
					if c > 1000*workers*each {
						errs <- fmt.Errorf("no progress after %d conflicts", c)
						return
					}
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := rdb.Get(ctx, "counter").Int()
	if err != nil || got != workers*each {
		t.Fatalf("counter = %d, %v; want %d", got, err, workers*each)
	}
	t.Logf("%d increments, %d EXECs aborted by WATCH", workers*each, conflicts)
}

// goRedisTxAtomic: a writer sets several keys (on different shards) in
// one MULTI/EXEC; readers reading them with one MGET must always see the
// same value in all of them, never half of an EXEC.
func goRedisTxAtomic(t *testing.T, tg target, proto int) {
	const rounds, readers = 300, 3
	keys := []string{"tx:a", "tx:b", "tx:c", "tx:d", "tx:e", "tx:f", "tx:g", "tx:h"}
	opts := goRedisOptions(tg, proto)
	opts.PoolSize = readers + 1
	rdb := newGoRedis(t, opts)
	ctx := context.Background()
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errs := make(chan error, readers+1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for i := range rounds {
			cmds, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Set(ctx, k, i, 0)
				}
				return nil
			})
			if err != nil || len(cmds) != len(keys) {
				errs <- fmt.Errorf("EXEC round %d: %d replies, %v", i, len(cmds), err)
				return
			}
		}
	}()
	reads := make([]int, readers)
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				vals, err := rdb.MGet(ctx, keys...).Result()
				if err != nil {
					errs <- err
					return
				}
				reads[r]++
				for _, v := range vals[1:] {
					if v != vals[0] {
						errs <- fmt.Errorf("half an EXEC seen: %v", vals)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d EXECs, MGETs per reader %v", rounds, reads)
}

// goRedisTxReplies: EXEC's replies as go-redis decodes them, including a
// runtime error inside the transaction and a WATCH abort.
func goRedisTxReplies(t *testing.T, tg target, proto int) {
	rdb := newGoRedis(t, goRedisOptions(tg, proto))
	ctx := context.Background()
	if err := rdb.FlushDB(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var incr *redis.IntCmd
	var bad *redis.IntCmd
	var get *redis.StringCmd
	var miss *redis.StringCmd
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "s", "hello", 0)
		bad = p.Incr(ctx, "s")
		incr = p.Incr(ctx, "n")
		get = p.Get(ctx, "s")
		miss = p.Get(ctx, "nokey")
		return nil
	})
	// go-redis reports the first failed command's error.
	if err == nil || err.Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("TxPipelined error = %v", err)
	}
	if bad.Err() == nil || incr.Val() != 1 || get.Val() != "hello" || !errors.Is(miss.Err(), redis.Nil) {
		t.Fatalf("replies: incr s %v, incr n %v, get %v, get nokey %v", bad.Err(), incr.Val(), get.Val(), miss.Err())
	}
	other := newGoRedis(t, goRedisOptions(tg, proto))
	err = rdb.Watch(ctx, func(tx *redis.Tx) error {
		if err := other.Set(ctx, "w", "changed", 0).Err(); err != nil {
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "w", "mine", 0)
			return nil
		})
		return err
	}, "w")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("WATCH abort: %v, want TxFailedErr", err)
	}
	if v := rdb.Get(ctx, "w").Val(); v != "changed" {
		t.Fatalf("w = %q after the aborted EXEC", v)
	}
}
