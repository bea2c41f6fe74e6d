package server

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestPipelinedOpsOnOneKeyAcrossRestart sends pipelines of one command on
// one key at a time (LPUSH, RPUSH, LPOP, RPOP, SADD, SREM, SPOP, HSET,
// HDEL, ZADD, ZPOPMIN, ZPOPMAX, ZREM), the load under which the store
// merges each operation into the record before it, and checks every
// collection against a model: live, after a clean restart (index
// snapshot), and after a restart that replays the whole log.
func TestPipelinedOpsOnOneKeyAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	start := func() *Server {
		t.Helper()
		s, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 1})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		waitReady(t, s)
		return s
	}
	s := start()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DisableIdentity: true})
	var list []string
	set := map[string]bool{}
	hash := map[string]string{}
	zset := map[string]float64{}
	pipe := func(what string, fill func(p redis.Pipeliner)) []redis.Cmder {
		t.Helper()
		p := c.Pipeline()
		fill(p)
		cmds, err := p.Exec(ctx)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return cmds
	}
	const n = 150
	for round := range 6 {
		pipe("LPUSH", func(p redis.Pipeliner) {
			for i := range n {
				v := fmt.Sprintf("l%d-%d", round, i)
				p.LPush(ctx, "list", v)
				list = append([]string{v}, list...)
			}
		})
		pipe("RPUSH", func(p redis.Pipeliner) {
			for i := range n {
				v := fmt.Sprintf("r%d-%d", round, i)
				p.RPush(ctx, "list", v, v+"'")
				list = append(list, v, v+"'")
			}
		})
		pipe("LPOP", func(p redis.Pipeliner) {
			for range n / 3 {
				p.LPop(ctx, "list")
			}
			p.LPopCount(ctx, "list", 2)
		})
		list = list[n/3+2:]
		pipe("RPOP", func(p redis.Pipeliner) {
			for range n / 3 {
				p.RPop(ctx, "list")
			}
		})
		list = list[:len(list)-n/3]
		pipe("SADD", func(p redis.Pipeliner) {
			for i := range n {
				m := fmt.Sprintf("s%d", (round*n+i)%400)
				p.SAdd(ctx, "set", m)
				set[m] = true
			}
		})
		pipe("SREM", func(p redis.Pipeliner) {
			for i := range n / 5 {
				m := fmt.Sprintf("s%d", (round*7+i*3)%400)
				p.SRem(ctx, "set", m)
				delete(set, m)
			}
		})
		for _, cmd := range pipe("SPOP", func(p redis.Pipeliner) {
			for range n / 10 {
				p.SPop(ctx, "set")
			}
		}) {
			if m, err := cmd.(*redis.StringCmd).Result(); err == nil {
				delete(set, m)
			}
		}
		pipe("HSET", func(p redis.Pipeliner) {
			for i := range n {
				f, v := fmt.Sprintf("f%d", (round*n+i)%300), fmt.Sprintf("v%d-%d", round, i)
				p.HSet(ctx, "hash", f, v)
				hash[f] = v
			}
		})
		pipe("HDEL", func(p redis.Pipeliner) {
			for i := range n / 5 {
				f := fmt.Sprintf("f%d", (round*11+i*7)%300)
				p.HDel(ctx, "hash", f)
				delete(hash, f)
			}
		})
		pipe("ZADD", func(p redis.Pipeliner) {
			for i := range n {
				m, sc := fmt.Sprintf("z%d", (round*n+i)%350), float64((round*31+i*17)%97)
				p.ZAdd(ctx, "zset", redis.Z{Score: sc, Member: m})
				zset[m] = sc
			}
		})
		for _, cmd := range pipe("ZPOPMIN, ZPOPMAX", func(p redis.Pipeliner) {
			for range n / 10 {
				p.ZPopMin(ctx, "zset")
			}
			for range n / 10 {
				p.ZPopMax(ctx, "zset", 2)
			}
		}) {
			zs, err := cmd.(*redis.ZSliceCmd).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, z := range zs {
				m := z.Member.(string)
				if zset[m] != z.Score {
					t.Fatalf("popped %s with score %v, the model has %v", m, z.Score, zset[m])
				}
				delete(zset, m)
			}
		}
		pipe("ZREM", func(p redis.Pipeliner) {
			for i := range n / 10 {
				m := fmt.Sprintf("z%d", (round*13+i*5)%350)
				p.ZRem(ctx, "zset", m)
				delete(zset, m)
			}
		})
	}
	if merged := s.store.Stats().MergedOps; merged < 6*n {
		t.Fatalf("the store merged %d operations; pipelines on one key should merge most of theirs", merged)
	}
	check := func(when string, c *redis.Client) {
		t.Helper()
		if l, err := c.LRange(ctx, "list", 0, -1).Result(); err != nil || !slices.Equal(l, list) {
			t.Fatalf("%s: LRANGE: %d elements (want %d), %v", when, len(l), len(list), err)
		}
		if h, err := c.HGetAll(ctx, "hash").Result(); err != nil || !maps.Equal(h, hash) {
			t.Fatalf("%s: HGETALL: %d fields (want %d), %v", when, len(h), len(hash), err)
		}
		m, err := c.SMembers(ctx, "set").Result()
		if err != nil || len(m) != len(set) {
			t.Fatalf("%s: SMEMBERS: %d members (want %d), %v", when, len(m), len(set), err)
		}
		for _, x := range m {
			if !set[x] {
				t.Fatalf("%s: SMEMBERS has %q, removed or never added", when, x)
			}
		}
		z, err := c.ZRangeWithScores(ctx, "zset", 0, -1).Result()
		if err != nil || len(z) != len(zset) {
			t.Fatalf("%s: ZRANGE: %d members (want %d), %v", when, len(z), len(zset), err)
		}
		for _, e := range z {
			if sc, ok := zset[e.Member.(string)]; !ok || sc != e.Score {
				t.Fatalf("%s: ZRANGE has %v %v, the model %v %v", when, e.Member, e.Score, sc, ok)
			}
		}
	}
	check("live", c)
	_ = c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, replay := range []bool{false, true} {
		if replay {
			if err := os.Remove(filepath.Join(dir, "index.toon")); err != nil {
				t.Fatal(err)
			}
		}
		s := start()
		c := redis.NewClient(&redis.Options{Addr: s.Addr(), DisableIdentity: true})
		check(fmt.Sprintf("after a restart (replay %v)", replay), c)
		_ = c.Close()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
