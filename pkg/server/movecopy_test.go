package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestMoveCopyAcrossRestart moves and copies collections (built with
// chained operation records, then changed after the move or copy) and
// strings between databases, restarts, and finds every key where it was
// put, with its TTL, and the originals unchanged.
func TestMoveCopyAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 2})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, s)
	db := func(addr string, n int) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: n, DisableIdentity: true})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	c0 := db(s.Addr(), 0)
	for i := range 200 { // one op record each
		ok("RPUSH", c0.RPush(ctx, "list", i).Err())
		ok("HSET", c0.HSet(ctx, "hash", i, i*2).Err())
		ok("SADD", c0.SAdd(ctx, "set", i).Err())
		ok("ZADD", c0.ZAdd(ctx, "zset", redis.Z{Score: float64(i), Member: i}).Err())
	}
	ok("SET", c0.Set(ctx, "str", "value", 0).Err())
	ok("EXPIRE", c0.Expire(ctx, "hash", time.Hour).Err())
	for _, k := range []string{"list", "hash", "set", "zset", "str"} {
		if n, err := c0.Copy(ctx, k, k+"-copy", 2, false).Result(); err != nil || n != 1 {
			t.Fatalf("COPY %s: %d, %v", k, n, err)
		}
		if n, err := c0.Move(ctx, k, 1).Result(); err != nil || !n {
			t.Fatalf("MOVE %s: %v, %v", k, n, err)
		}
	}
	c1, c2 := db(s.Addr(), 1), db(s.Addr(), 2)
	// Changes after the move and the copy, in the new places only.
	ok("RPUSH", c1.RPush(ctx, "list", "moved").Err())
	ok("RPUSH", c2.RPush(ctx, "list-copy", "copied").Err())
	ok("SREM", c2.SRem(ctx, "set-copy", 0).Err())
	ok("Close", s.Close())

	s2, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 2})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer s2.Close()
	waitReady(t, s2)
	c0, c1, c2 = db(s2.Addr(), 0), db(s2.Addr(), 1), db(s2.Addr(), 2)
	if n, err := c0.DBSize(ctx).Result(); err != nil || n != 0 {
		t.Fatalf("db 0 after restart: %d keys, %v; want 0", n, err)
	}
	check := func(c *redis.Client, suffix, last string, setLen int64) {
		t.Helper()
		l, err := c.LRange(ctx, "list"+suffix, 0, -1).Result()
		if err != nil || len(l) != 201 || l[0] != "0" || l[199] != "199" || l[200] != last {
			t.Fatalf("list%s: %d elements, last %q, %v", suffix, len(l), l[len(l)-1], err)
		}
		if n, err := c.HLen(ctx, "hash"+suffix).Result(); err != nil || n != 200 {
			t.Fatalf("hash%s: HLEN %d, %v", suffix, n, err)
		}
		if v, err := c.HGet(ctx, "hash"+suffix, "199").Result(); err != nil || v != "398" {
			t.Fatalf("hash%s: HGET 199 = %q, %v", suffix, v, err)
		}
		if ttl, err := c.TTL(ctx, "hash"+suffix).Result(); err != nil || ttl <= 59*time.Minute {
			t.Fatalf("hash%s: TTL %v, %v", suffix, ttl, err)
		}
		if n, err := c.SCard(ctx, "set"+suffix).Result(); err != nil || n != setLen {
			t.Fatalf("set%s: SCARD %d, %v; want %d", suffix, n, err, setLen)
		}
		z, err := c.ZRangeWithScores(ctx, "zset"+suffix, -1, -1).Result()
		if err != nil || len(z) != 1 || z[0].Member != "199" || z[0].Score != 199 {
			t.Fatalf("zset%s: top %v, %v", suffix, z, err)
		}
		if v, err := c.Get(ctx, "str"+suffix).Result(); err != nil || v != "value" {
			t.Fatalf("str%s: %q, %v", suffix, v, err)
		}
	}
	check(c1, "", "moved", 200)
	check(c2, "-copy", "copied", 199)
	keys, err := c2.Keys(ctx, "*").Result()
	slices.Sort(keys)
	if err != nil || !slices.Equal(keys, []string{"hash-copy", "list-copy", "set-copy", "str-copy", "zset-copy"}) {
		t.Fatalf("db 2 keys: %v, %v", keys, err)
	}
}
