package server

import (
	"context"
	"fmt"
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
	m := newCollModel()

	start := starter(t, dir, 2)
	s := start()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), DisableIdentity: true})
	pad := strings.Repeat("v", 200)
	const n = 3000
	for i := range n {
		v := fmt.Sprintf("%d-%s", i, pad)
		p := c.Pipeline()
		if i%3 == 0 {
			p.LPush(ctx, "list", v)
			m.list = append([]string{v}, m.list...)
		} else {
			p.RPush(ctx, "list", v)
			m.list = append(m.list, v)
		}
		f := "f" + strconv.Itoa(i%1000) // overwrites after 1000
		p.HSet(ctx, "hash", f, v)
		m.hash[f] = v
		p.SAdd(ctx, "set", v)
		m.set[v] = true
		mem := "m" + strconv.Itoa(i%1500)
		sc := float64(i*7919%10007) / 4
		p.ZAdd(ctx, "zset", redis.Z{Score: sc, Member: mem})
		m.zset[mem] = sc
		if i%10 == 9 {
			p.LPop(ctx, "list")
			p.RPop(ctx, "list")
			m.list = m.list[1 : len(m.list)-1]
			p.HDel(ctx, "hash", "f"+strconv.Itoa(i%1000-5))
			delete(m.hash, "f"+strconv.Itoa(i%1000-5))
			p.SRem(ctx, "set", fmt.Sprintf("%d-%s", i-3, pad))
			delete(m.set, fmt.Sprintf("%d-%s", i-3, pad))
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	m.check(t, c, "live")
	m.checkAcrossRestarts(t, dir, s, c, start)
}
