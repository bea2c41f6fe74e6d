package clients

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisBlocking: producers RPUSH to two lists while consumers wait
// in BLPOP on both, over pooled go-redis connections spread across the
// server's event loops. Every element must be consumed exactly once, and
// a BLPOP that times out must give go-redis's redis.Nil.
func TestGoRedisBlocking(t *testing.T) {
	const (
		producers = 4
		consumers = 6
		per       = 150
	)
	for _, proto := range []int{2, 3} {
		t.Run("resp="+strconv.Itoa(proto), func(t *testing.T) {
			eachServer(t, func(t *testing.T, tg target) {
				opts := goRedisOptions(tg, proto)
				opts.PoolSize = producers + consumers + 2 // every BLPOP holds a connection
				rdb := newGoRedis(t, opts)
				ctx := testCtx(t, 2*time.Minute)
				must(t, "FLUSHALL", rdb.FlushAll(ctx).Err())

				_, err := rdb.BLPop(ctx, 50*time.Millisecond, "empty").Result()
				if !errors.Is(err, redis.Nil) {
					t.Fatalf("BLPOP timeout: got %v, want redis.Nil", err)
				}

				got := make(chan string, producers*per+consumers)
				errs := make(chan error, producers+consumers)
				var wg sync.WaitGroup
				for range consumers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							kv, err := rdb.BLPop(ctx, 0, "q1", "q2").Result()
							if err != nil {
								errs <- fmt.Errorf("BLPOP: %w", err)
								return
							}
							if kv[1] == "stop" {
								return
							}
							got <- kv[1]
						}
					}()
				}
				var pw sync.WaitGroup
				for p := range producers {
					pw.Add(1)
					go func() {
						defer pw.Done()
						for j := range per {
							key := "q" + strconv.Itoa(1+j%2)
							if err := rdb.RPush(ctx, key, fmt.Sprintf("%d-%d", p, j)).Err(); err != nil {
								errs <- fmt.Errorf("RPUSH: %w", err)
								return
							}
						}
					}()
				}
				pw.Wait()
				seen := map[string]bool{}
				timeout := time.After(time.Minute)
				for len(seen) < producers*per {
					select {
					case v := <-got:
						if seen[v] {
							t.Fatalf("element %q consumed twice", v)
						}
						seen[v] = true
					case err := <-errs:
						t.Fatal(err)
					case <-timeout:
						t.Fatalf("consumed %d of %d elements", len(seen), producers*per)
					}
				}
				for range consumers {
					must(t, "RPUSH stop", rdb.RPush(ctx, "q1", "stop").Err())
				}
				wg.Wait()
				select {
				case err := <-errs:
					t.Fatal(err)
				default:
				}
				n, err := rdb.Exists(ctx, "q1", "q2").Result()
				must(t, "EXISTS", err)
				equal(t, "lists left", n, int64(0))
			})
		})
	}
}
