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

// collModel is what the keys "list", "hash", "set" and "zset" should
// hold, as tests that write collections keep it.
type collModel struct {
	list []string
	hash map[string]string
	set  map[string]bool
	zset map[string]float64
}

func newCollModel() *collModel {
	return &collModel{hash: map[string]string{}, set: map[string]bool{}, zset: map[string]float64{}}
}

// check compares the four keys on c with m (the sorted set in score
// order too); when names the moment in failures.
func (m *collModel) check(t *testing.T, c *redis.Client, when string) {
	t.Helper()
	ctx := context.Background()
	if l, err := c.LRange(ctx, "list", 0, -1).Result(); err != nil || !slices.Equal(l, m.list) {
		t.Fatalf("%s: LRANGE: %d elements (want %d), %v", when, len(l), len(m.list), err)
	}
	if h, err := c.HGetAll(ctx, "hash").Result(); err != nil || !maps.Equal(h, m.hash) {
		t.Fatalf("%s: HGETALL: %d fields (want %d), %v", when, len(h), len(m.hash), err)
	}
	members, err := c.SMembers(ctx, "set").Result()
	if err != nil || len(members) != len(m.set) {
		t.Fatalf("%s: SMEMBERS: %d members (want %d), %v", when, len(members), len(m.set), err)
	}
	for _, x := range members {
		if !m.set[x] {
			t.Fatalf("%s: SMEMBERS has %.20q, removed or never added", when, x)
		}
	}
	z, err := c.ZRangeWithScores(ctx, "zset", 0, -1).Result()
	if err != nil || len(z) != len(m.zset) {
		t.Fatalf("%s: ZRANGE: %d members (want %d), %v", when, len(z), len(m.zset), err)
	}
	for i, e := range z {
		if sc, ok := m.zset[e.Member.(string)]; !ok || sc != e.Score || i > 0 && z[i-1].Score > e.Score {
			t.Fatalf("%s: ZRANGE[%d] = %v %v, want score %v (in order)", when, i, e.Member, e.Score, sc)
		}
	}
}

// starter returns a function that starts a server over dir with loops
// event loops and waits until it is ready, for tests that restart it.
func starter(t *testing.T, dir string, loops int) func() *Server {
	return func() *Server {
		t.Helper()
		s, err := Start(Options{Addr: "127.0.0.1:0", Dir: dir, Loops: loops})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		waitReady(t, s)
		return s
	}
}

// checkAcrossRestarts closes s (and c), then starts a server on dir twice
// with start and checks m on each: after a clean restart (index
// snapshot), then after one that replays the whole log (index.toon
// removed first).
func (m *collModel) checkAcrossRestarts(t *testing.T, dir string, s *Server, c *redis.Client, start func() *Server) {
	t.Helper()
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
		m.check(t, c, fmt.Sprintf("after a restart (replay %v)", replay))
		_ = c.Close()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
