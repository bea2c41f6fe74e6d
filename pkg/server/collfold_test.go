package server

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestCollectionFoldsAcrossRestart grows a list, a hash, a set and a
// sorted set through many small writes with values large enough that each
// key's chain is folded into a new image many times (the fold encodes the
// image straight into the log), mixed with pops and removals, and checks
// every element against a model in the test: live, after a clean restart
// (index snapshot), and after a restart that replays the whole log.
func TestCollectionFoldsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	var list []string
	hash := map[string]string{}
	set := map[string]bool{}
	zset := map[string]float64{}

	start := func() *Server {
		t.Helper()
		s, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: 2})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		waitReady(t, s)
		return s
	}
	s := start()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DisableIdentity: true})
	pad := strings.Repeat("v", 200)
	const n = 3000
	for i := range n {
		v := fmt.Sprintf("%d-%s", i, pad)
		p := c.Pipeline()
		if i%3 == 0 {
			p.LPush(ctx, "list", v)
			list = append([]string{v}, list...)
		} else {
			p.RPush(ctx, "list", v)
			list = append(list, v)
		}
		f := "f" + strconv.Itoa(i%1000) // overwrites after 1000
		p.HSet(ctx, "hash", f, v)
		hash[f] = v
		p.SAdd(ctx, "set", v)
		set[v] = true
		m := "m" + strconv.Itoa(i%1500)
		sc := float64(i*7919%10007) / 4
		p.ZAdd(ctx, "zset", redis.Z{Score: sc, Member: m})
		zset[m] = sc
		if i%10 == 9 {
			p.LPop(ctx, "list")
			p.RPop(ctx, "list")
			list = list[1 : len(list)-1]
			p.HDel(ctx, "hash", "f"+strconv.Itoa(i%1000-5))
			delete(hash, "f"+strconv.Itoa(i%1000-5))
			p.SRem(ctx, "set", fmt.Sprintf("%d-%s", i-3, pad))
			delete(set, fmt.Sprintf("%d-%s", i-3, pad))
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	check := func(when string, c *redis.Client) {
		t.Helper()
		l, err := c.LRange(ctx, "list", 0, -1).Result()
		if err != nil || !slices.Equal(l, list) {
			t.Fatalf("%s: LRANGE: %d elements (want %d), %v", when, len(l), len(list), err)
		}
		h, err := c.HGetAll(ctx, "hash").Result()
		if err != nil || !maps.Equal(h, hash) {
			t.Fatalf("%s: HGETALL: %d fields (want %d), %v", when, len(h), len(hash), err)
		}
		m, err := c.SMembers(ctx, "set").Result()
		if err != nil || len(m) != len(set) {
			t.Fatalf("%s: SMEMBERS: %d members (want %d), %v", when, len(m), len(set), err)
		}
		for _, x := range m {
			if !set[x] {
				t.Fatalf("%s: SMEMBERS has %.20q, not added or removed", when, x)
			}
		}
		z, err := c.ZRangeWithScores(ctx, "zset", 0, -1).Result()
		if err != nil || len(z) != len(zset) {
			t.Fatalf("%s: ZRANGE: %d members (want %d), %v", when, len(z), len(zset), err)
		}
		for i, e := range z {
			if zset[e.Member.(string)] != e.Score || i > 0 && z[i-1].Score > e.Score {
				t.Fatalf("%s: ZRANGE[%d] = %v %v, want score %v (in order)", when, i, e.Member, e.Score, zset[e.Member.(string)])
			}
		}
	}
	check("live", c)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for _, replay := range []bool{false, true} {
		if replay {
			// Without the index snapshot, Open replays the whole log:
			// every image and operation record is read again.
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
