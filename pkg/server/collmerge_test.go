package server

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/toonstore/toonstore/internal/redistest"
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
	start := starter(t, dir, 1)
	s := start()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DisableIdentity: true})
	m := newCollModel()
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
				m.list = append([]string{v}, m.list...)
			}
		})
		pipe("RPUSH", func(p redis.Pipeliner) {
			for i := range n {
				v := fmt.Sprintf("r%d-%d", round, i)
				p.RPush(ctx, "list", v, v+"'")
				m.list = append(m.list, v, v+"'")
			}
		})
		pipe("LPOP", func(p redis.Pipeliner) {
			for range n / 3 {
				p.LPop(ctx, "list")
			}
			p.LPopCount(ctx, "list", 2)
		})
		m.list = m.list[n/3+2:]
		pipe("RPOP", func(p redis.Pipeliner) {
			for range n / 3 {
				p.RPop(ctx, "list")
			}
		})
		m.list = m.list[:len(m.list)-n/3]
		pipe("SADD", func(p redis.Pipeliner) {
			for i := range n {
				mem := fmt.Sprintf("s%d", (round*n+i)%400)
				p.SAdd(ctx, "set", mem)
				m.set[mem] = true
			}
		})
		pipe("SREM", func(p redis.Pipeliner) {
			for i := range n / 5 {
				mem := fmt.Sprintf("s%d", (round*7+i*3)%400)
				p.SRem(ctx, "set", mem)
				delete(m.set, mem)
			}
		})
		for _, cmd := range pipe("SPOP", func(p redis.Pipeliner) {
			for range n / 10 {
				p.SPop(ctx, "set")
			}
		}) {
			if mem, err := cmd.(*redis.StringCmd).Result(); err == nil {
				delete(m.set, mem)
			}
		}
		pipe("HSET", func(p redis.Pipeliner) {
			for i := range n {
				f, v := fmt.Sprintf("f%d", (round*n+i)%300), fmt.Sprintf("v%d-%d", round, i)
				p.HSet(ctx, "hash", f, v)
				m.hash[f] = v
			}
		})
		pipe("HDEL", func(p redis.Pipeliner) {
			for i := range n / 5 {
				f := fmt.Sprintf("f%d", (round*11+i*7)%300)
				p.HDel(ctx, "hash", f)
				delete(m.hash, f)
			}
		})
		pipe("ZADD", func(p redis.Pipeliner) {
			for i := range n {
				mem, sc := fmt.Sprintf("z%d", (round*n+i)%350), float64((round*31+i*17)%97)
				p.ZAdd(ctx, "zset", redis.Z{Score: sc, Member: mem})
				m.zset[mem] = sc
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
				mem := z.Member.(string)
				if m.zset[mem] != z.Score {
					t.Fatalf("popped %s with score %v, the model has %v", mem, z.Score, m.zset[mem])
				}
				delete(m.zset, mem)
			}
		}
		pipe("ZREM", func(p redis.Pipeliner) {
			for i := range n / 10 {
				mem := fmt.Sprintf("z%d", (round*13+i*5)%350)
				p.ZRem(ctx, "zset", mem)
				delete(m.zset, mem)
			}
		})
	}
	if merged := s.store.Stats().MergedOps; merged < 6*n {
		t.Fatalf("the store merged %d operations; pipelines on one key should merge most of theirs", merged)
	}
	m.check(t, c, "live")
	m.checkAcrossRestarts(t, dir, s, c, start)
}

// TestMergedWritesCountAtOnce: writes merged into one record (a pipeline
// of RPUSH on one key) each count in INFO's rdb_changes_since_last_save
// at once, as in Redis, even when INFO runs in the same batch, before the
// record is flushed; the store's count of merges catches up at the flush.
func TestMergedWritesCountAtOnce(t *testing.T) {
	srv := startServer(t, Options{})
	c := dialRaw(t, srv.Addr())
	c.send("RPUSH l a\r\nRPUSH l b\r\nRPUSH l c\r\nINFO persistence\r\n")
	c.expect(":1\r\n:2\r\n:3\r\n")
	raw, err := redistest.ReadReply(c.r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "\r\nrdb_changes_since_last_save:3\r\n") {
		t.Fatalf("INFO persistence after three writes in its batch:\n%s", raw)
	}
	// a's RPUSH wrote the list's image, b's an operation record, into
	// which c's merged.
	if got := srv.store.Stats().MergedOps; got != 1 {
		t.Errorf("Stats.MergedOps after the batch %d, want 1", got)
	}
}
