package clients

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// goRedisOptions are the options every go-redis client here starts from:
// bounded dial, read, write and pool waits, so a hung server fails the test
// instead of hanging it.
func goRedisOptions(tg target, proto int) *redis.Options {
	return &redis.Options{
		Addr:         tg.Addr(),
		Protocol:     proto,
		DialTimeout:  5 * time.Second,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		PoolTimeout:  10 * time.Second,
		MaxRetries:   -1, // a failed command fails the test; no silent retry
	}
}

// newGoRedis returns a client for opts, closed in t.Cleanup.
func newGoRedis(t *testing.T, opts *redis.Options) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// goRedisCase is one named check run with a client of each protocol
// against each server.
type goRedisCase struct {
	name string
	run  func(t *testing.T, tg target, proto int, rdb *redis.Client)
}

// TestGoRedis drives tstd (and, as the reference, redis-server) with
// go-redis/v9 over RESP2 and RESP3.
func TestGoRedis(t *testing.T) {
	cases := []goRedisCase{
		{"hello", goRedisHello},
		{"strings", goRedisStrings},
		{"expire", goRedisExpire},
		{"binary", goRedisBinary},
		{"errors", goRedisErrors},
		{"pool", goRedisPool},
		{"pipeline", goRedisPipeline},
		{"scan", goRedisScan},
		{"client-name", goRedisClientName},
		{"config", goRedisConfig},
		{"info", goRedisInfo},
		{"dbsize-flush", goRedisFlush},
		{"select-db3", goRedisSelect},
	}
	for _, proto := range []int{2, 3} {
		t.Run("resp="+strconv.Itoa(proto), func(t *testing.T) {
			eachServer(t, func(t *testing.T, tg target) {
				rdb := newGoRedis(t, goRedisOptions(tg, proto))
				for _, tc := range cases {
					t.Run(tc.name, func(t *testing.T) {
						if err := rdb.FlushAll(testCtx(t, 10*time.Second)).Err(); err != nil {
							t.Fatalf("FLUSHALL: %v", err)
						}
						tc.run(t, tg, proto, rdb)
					})
				}
			})
		})
	}
}

// must fails t with what when err is not nil.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// equal fails t when got != want.
func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %#v, want %#v", what, got, want)
	}
}

func goRedisHello(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	v, err := rdb.Do(ctx, "HELLO", proto).Result()
	must(t, "HELLO", err)
	// RESP2 gives a flat array, RESP3 a map: go-redis hands back either.
	fields := map[string]any{}
	switch h := v.(type) {
	case []any:
		for i := 0; i+1 < len(h); i += 2 {
			fields[fmt.Sprint(h[i])] = h[i+1]
		}
	case map[any]any:
		for k, x := range h {
			fields[fmt.Sprint(k)] = x
		}
	default:
		t.Fatalf("HELLO %d: reply of type %T: %#v", proto, v, v)
	}
	equal(t, "HELLO server", fmt.Sprint(fields["server"]), "redis")
	equal(t, "HELLO proto", fmt.Sprint(fields["proto"]), strconv.Itoa(proto))
	equal(t, "HELLO mode", fmt.Sprint(fields["mode"]), "standalone")
	equal(t, "HELLO role", fmt.Sprint(fields["role"]), "master")
	if ver, _ := fields["version"].(string); !strings.HasPrefix(ver, "7.") {
		t.Fatalf("HELLO version %q: want 7.x", ver)
	}

	pong, err := rdb.Ping(ctx).Result()
	must(t, "PING", err)
	equal(t, "PING", pong, "PONG")
	echo, err := rdb.Echo(ctx, "a\r\nb\x00c").Result()
	must(t, "ECHO", err)
	equal(t, "ECHO", echo, "a\r\nb\x00c")
	now, err := rdb.Time(ctx).Result()
	must(t, "TIME", err)
	if d := time.Since(now); d > time.Minute || d < -time.Minute {
		t.Fatalf("TIME %v is %v away from the clock", now, d)
	}
}

func goRedisStrings(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	must(t, "SET", rdb.Set(ctx, "s:a", "hello", 0).Err())
	got, err := rdb.Get(ctx, "s:a").Result()
	must(t, "GET", err)
	equal(t, "GET s:a", got, "hello")
	if _, err := rdb.Get(ctx, "s:missing").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET missing: err %v, want redis.Nil", err)
	}
	ok, err := rdb.SetNX(ctx, "s:a", "other", 0).Result()
	must(t, "SETNX", err)
	equal(t, "SETNX on existing key", ok, false)
	old, err := rdb.SetArgs(ctx, "s:a", "world", redis.SetArgs{Get: true}).Result()
	must(t, "SET GET", err)
	equal(t, "SET GET old value", old, "hello")
	n, err := rdb.Append(ctx, "s:a", "!!").Result()
	must(t, "APPEND", err)
	equal(t, "APPEND length", n, int64(7))
	n, err = rdb.StrLen(ctx, "s:a").Result()
	must(t, "STRLEN", err)
	equal(t, "STRLEN", n, int64(7))
	sub, err := rdb.GetRange(ctx, "s:a", 1, -3).Result()
	must(t, "GETRANGE", err)
	equal(t, "GETRANGE 1 -3", sub, "orld")
	n, err = rdb.SetRange(ctx, "s:a", 0, "W").Result()
	must(t, "SETRANGE", err)
	equal(t, "SETRANGE length", n, int64(7))

	i, err := rdb.Incr(ctx, "s:n").Result()
	must(t, "INCR", err)
	equal(t, "INCR new key", i, int64(1))
	i, err = rdb.IncrBy(ctx, "s:n", 41).Result()
	must(t, "INCRBY", err)
	equal(t, "INCRBY", i, int64(42))
	i, err = rdb.Decr(ctx, "s:n").Result()
	must(t, "DECR", err)
	equal(t, "DECR", i, int64(41))
	f, err := rdb.IncrByFloat(ctx, "s:f", 1.5).Result()
	must(t, "INCRBYFLOAT", err)
	equal(t, "INCRBYFLOAT", f, 1.5)

	must(t, "MSET", rdb.MSet(ctx, "s:m1", "v1", "s:m2", "v2").Err())
	vals, err := rdb.MGet(ctx, "s:m1", "s:missing", "s:m2").Result()
	must(t, "MGET", err)
	want := []any{"v1", nil, "v2"}
	if len(vals) != len(want) || vals[0] != want[0] || vals[1] != nil || vals[2] != want[2] {
		t.Fatalf("MGET: got %#v, want %#v", vals, want)
	}
	ok, err = rdb.MSetNX(ctx, "s:m1", "x", "s:m3", "y").Result()
	must(t, "MSETNX", err)
	equal(t, "MSETNX with an existing key", ok, false)
	gd, err := rdb.GetDel(ctx, "s:m1").Result()
	must(t, "GETDEL", err)
	equal(t, "GETDEL", gd, "v1")
	cnt, err := rdb.Exists(ctx, "s:m1", "s:m2", "s:m2").Result()
	must(t, "EXISTS", err)
	equal(t, "EXISTS counts repeats", cnt, int64(2))
	typ, err := rdb.Type(ctx, "s:m2").Result()
	must(t, "TYPE", err)
	equal(t, "TYPE", typ, "string")
	cnt, err = rdb.Del(ctx, "s:m2", "s:missing").Result()
	must(t, "DEL", err)
	equal(t, "DEL", cnt, int64(1))
	must(t, "RENAME", rdb.Rename(ctx, "s:n", "s:n2").Err())
	got, err = rdb.Get(ctx, "s:n2").Result()
	must(t, "GET renamed", err)
	equal(t, "GET renamed", got, "41")
}

func goRedisExpire(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	must(t, "SET", rdb.Set(ctx, "e:a", "v", 0).Err())
	ttl, err := rdb.TTL(ctx, "e:a").Result()
	must(t, "TTL", err)
	equal(t, "TTL without expiry", ttl, time.Duration(-1))
	ttl, err = rdb.TTL(ctx, "e:missing").Result()
	must(t, "TTL", err)
	equal(t, "TTL missing key", ttl, time.Duration(-2))
	ok, err := rdb.Expire(ctx, "e:a", 100*time.Second).Result()
	must(t, "EXPIRE", err)
	equal(t, "EXPIRE", ok, true)
	ttl, err = rdb.TTL(ctx, "e:a").Result()
	must(t, "TTL", err)
	if ttl <= 90*time.Second || ttl > 100*time.Second {
		t.Fatalf("TTL after EXPIRE 100: %v", ttl)
	}
	pttl, err := rdb.PTTL(ctx, "e:a").Result()
	must(t, "PTTL", err)
	if pttl <= 90*time.Second || pttl > 100*time.Second {
		t.Fatalf("PTTL after EXPIRE 100: %v", pttl)
	}
	ok, err = rdb.Expire(ctx, "e:missing", time.Second).Result()
	must(t, "EXPIRE missing", err)
	equal(t, "EXPIRE missing key", ok, false)
	ok, err = rdb.Persist(ctx, "e:a").Result()
	must(t, "PERSIST", err)
	equal(t, "PERSIST", ok, true)
	ttl, err = rdb.TTL(ctx, "e:a").Result()
	must(t, "TTL", err)
	equal(t, "TTL after PERSIST", ttl, time.Duration(-1))

	must(t, "SET EX", rdb.Set(ctx, "e:b", "v", 50*time.Second).Err())
	must(t, "SET KEEPTTL", rdb.SetArgs(ctx, "e:b", "w", redis.SetArgs{KeepTTL: true}).Err())
	ttl, err = rdb.TTL(ctx, "e:b").Result()
	must(t, "TTL", err)
	if ttl <= 40*time.Second || ttl > 50*time.Second {
		t.Fatalf("TTL after SET KEEPTTL: %v", ttl)
	}
	must(t, "SETEX", rdb.SetEx(ctx, "e:c", "v", 20*time.Second).Err())
	v, err := rdb.GetEx(ctx, "e:c", 0).Result() // GETEX without options: TTL unchanged
	must(t, "GETEX", err)
	equal(t, "GETEX", v, "v")
	ok, err = rdb.ExpireAt(ctx, "e:c", time.Now().Add(-time.Hour)).Result()
	must(t, "EXPIREAT past", err)
	equal(t, "EXPIREAT past", ok, true)
	n, err := rdb.Exists(ctx, "e:c").Result()
	must(t, "EXISTS", err)
	equal(t, "EXISTS after EXPIREAT in the past", n, int64(0))

	// A short TTL expires for real (bounded wait, no timing assertion).
	must(t, "SET PX", rdb.Set(ctx, "e:d", "v", 50*time.Millisecond).Err())
	for {
		n, err := rdb.Exists(ctx, "e:d").Result()
		must(t, "EXISTS", err)
		if n == 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("key with PX 50 still exists at the test deadline")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func goRedisBinary(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	bin := binaryValue()
	key := "b:\x00\r\n\xff" // binary key
	must(t, "SET binary", rdb.Set(ctx, key, bin, 0).Err())
	got, err := rdb.Get(ctx, key).Bytes()
	must(t, "GET binary", err)
	if !bytes.Equal(got, bin) {
		t.Fatalf("GET binary: %d bytes back, want %d, first difference at %d", len(got), len(bin), firstDiff(got, bin))
	}
	big := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	must(t, "SET 1MiB", rdb.Set(ctx, "b:big", big, 0).Err())
	must(t, "SET empty", rdb.Set(ctx, "b:empty", "", 0).Err())
	vals, err := rdb.MGet(ctx, "b:big", key, "b:empty").Result()
	must(t, "MGET binary", err)
	if len(vals) != 3 || vals[0] != string(big) || vals[1] != string(bin) || vals[2] != "" {
		t.Fatalf("MGET binary: values differ (%d values)", len(vals))
	}
	n, err := rdb.Append(ctx, key, "\x00").Result()
	must(t, "APPEND NUL", err)
	equal(t, "APPEND NUL length", n, int64(len(bin)+1))
	sub, err := rdb.GetRange(ctx, key, 0, 255).Bytes()
	must(t, "GETRANGE binary", err)
	if !bytes.Equal(sub, bin[:256]) {
		t.Fatalf("GETRANGE 0 255: got %q", sub)
	}
	ln, err := rdb.StrLen(ctx, "b:big").Result()
	must(t, "STRLEN", err)
	equal(t, "STRLEN 1MiB", ln, int64(len(big)))
}

// firstDiff returns the first index where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func goRedisErrors(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	must(t, "SET", rdb.Set(ctx, "x:s", "abc", 0).Err())
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"INCR non-integer", rdb.Incr(ctx, "x:s").Err(), "ERR value is not an integer or out of range"},
		{"INCRBYFLOAT non-float", rdb.IncrByFloat(ctx, "x:s", 1).Err(), "ERR value is not a valid float"},
		{"GET wrong arity", rdb.Do(ctx, "GET").Err(), "ERR wrong number of arguments for 'get' command"},
		{"unknown command", rdb.Do(ctx, "NOSUCHCMD", "a").Err(), "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' "},
		{"EXPIRE non-integer", rdb.Do(ctx, "EXPIRE", "x:s", "soon").Err(), "ERR value is not an integer or out of range"},
		{"SELECT out of range", rdb.Do(ctx, "SELECT", 99).Err(), "ERR DB index is out of range"},
	}
	for _, tc := range tests {
		var rerr redis.Error
		if !errors.As(tc.err, &rerr) {
			t.Errorf("%s: err %v, want a Redis error %q", tc.name, tc.err, tc.want)
			continue
		}
		if rerr.Error() != tc.want {
			t.Errorf("%s: error %q, want %q", tc.name, rerr.Error(), tc.want)
		}
	}
	// The connection is still usable after errors.
	v, err := rdb.Get(ctx, "x:s").Result()
	must(t, "GET after errors", err)
	equal(t, "GET after errors", v, "abc")
}

func goRedisPool(t *testing.T, tg target, proto int, _ *redis.Client) {
	const (
		workers = 50
		iters   = 40
	)
	opts := goRedisOptions(tg, proto)
	opts.PoolSize = 16 // fewer connections than goroutines: they queue for them
	opts.MinIdleConns = 4
	rdb := newGoRedis(t, opts)
	ctx := testCtx(t, 2*time.Minute)

	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- poolWorker(ctx, rdb, w, iters)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}

	// Each worker left iters keys plus one counter: SCAN sees every key
	// exactly once from any connection of the pool.
	seen := map[string]int{}
	it := rdb.Scan(ctx, 0, "", 13).Iterator()
	for it.Next(ctx) {
		seen[it.Val()]++
	}
	must(t, "SCAN iteration", it.Err())
	equal(t, "keys seen by SCAN", len(seen), workers*(iters+1))
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("SCAN returned %q %d times on a quiet keyspace", k, n)
		}
	}
	size, err := rdb.DBSize(ctx).Result()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE", size, int64(workers*(iters+1)))
	st := rdb.PoolStats()
	if st.TotalConns == 0 || st.TotalConns > uint32(opts.PoolSize) {
		t.Fatalf("pool stats %+v: want 1..%d connections", st, opts.PoolSize)
	}
}

// poolWorker runs iters rounds of SET/GET/INCR/MGET/EXPIRE/TTL on keys of its
// own, then scans them back with MATCH; it returns the first discrepancy.
func poolWorker(ctx context.Context, rdb *redis.Client, w, iters int) error {
	prefix := fmt.Sprintf("p:%02d:", w)
	ctr := prefix + "ctr"
	for i := range iters {
		key := prefix + strconv.Itoa(i)
		val := fmt.Sprintf("w%d-i%d-%s", w, i, strings.Repeat("x", i))
		if err := rdb.Set(ctx, key, val, 0).Err(); err != nil {
			return fmt.Errorf("worker %d SET %s: %w", w, key, err)
		}
		got, err := rdb.Get(ctx, key).Result()
		if err != nil || got != val {
			return fmt.Errorf("worker %d GET %s: %q, %v; want %q", w, key, got, err, val)
		}
		n, err := rdb.Incr(ctx, ctr).Result()
		if err != nil || n != int64(i+1) {
			return fmt.Errorf("worker %d INCR %s: %d, %v; want %d", w, ctr, n, err, i+1)
		}
		vals, err := rdb.MGet(ctx, key, ctr, prefix+"none").Result()
		if err != nil || len(vals) != 3 || vals[0] != val || vals[1] != strconv.Itoa(i+1) || vals[2] != nil {
			return fmt.Errorf("worker %d MGET: %#v, %v", w, vals, err)
		}
		if ok, err := rdb.Expire(ctx, key, time.Hour).Result(); err != nil || !ok {
			return fmt.Errorf("worker %d EXPIRE %s: %v, %v", w, key, ok, err)
		}
		if ttl, err := rdb.TTL(ctx, key).Result(); err != nil || ttl <= 59*time.Minute || ttl > time.Hour {
			return fmt.Errorf("worker %d TTL %s: %v, %v; want about 1h", w, key, ttl, err)
		}
	}
	var keys []string
	it := rdb.Scan(ctx, 0, prefix+"*", 5).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("worker %d SCAN MATCH %s*: %w", w, prefix, err)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) != iters+1 {
		return fmt.Errorf("worker %d SCAN MATCH %s*: %d distinct keys, want %d", w, prefix, len(keys), iters+1)
	}
	return nil
}

func goRedisPipeline(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, time.Minute)
	const n = 1000 // commands in one pipeline
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n / 4 {
			k := "pl:" + strconv.Itoa(i)
			p.Set(ctx, k, "v"+strconv.Itoa(i), 0)
			p.Get(ctx, k)
			p.Incr(ctx, "pl:ctr")
			p.MGet(ctx, k, "pl:missing")
		}
		return nil
	})
	must(t, "Pipelined", err)
	equal(t, "replies", len(cmds), n)
	for i := range n / 4 {
		v := "v" + strconv.Itoa(i)
		if err := cmds[4*i].Err(); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
		if got, err := cmds[4*i+1].(*redis.StringCmd).Result(); err != nil || got != v {
			t.Fatalf("GET %d: %q, %v", i, got, err)
		}
		if got, err := cmds[4*i+2].(*redis.IntCmd).Result(); err != nil || got != int64(i+1) {
			t.Fatalf("INCR %d: %d, %v", i, got, err)
		}
		if got, err := cmds[4*i+3].(*redis.SliceCmd).Result(); err != nil || len(got) != 2 || got[0] != v || got[1] != nil {
			t.Fatalf("MGET %d: %#v, %v", i, got, err)
		}
	}

	// An error inside a pipeline fails that command only.
	var incr *redis.IntCmd
	var after *redis.StringCmd
	_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "pl:s", "abc", 0)
		incr = p.Incr(ctx, "pl:s")
		after = p.Get(ctx, "pl:s")
		return nil
	})
	if err == nil || incr.Err() == nil || incr.Err().Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("pipelined INCR on a string: pipeline err %v, command err %v", err, incr.Err())
	}
	if v, err := after.Result(); err != nil || v != "abc" {
		t.Fatalf("GET after the failed INCR in the pipeline: %q, %v", v, err)
	}
}

func goRedisScan(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, time.Minute)
	const n = 1000
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range n {
			p.Set(ctx, fmt.Sprintf("sc:%04d", i), i, 0)
		}
		p.Set(ctx, "other", 1, 0)
		return nil
	})
	must(t, "load", err)

	tests := []struct {
		name  string
		match string
		count int64
		typ   string
		want  int
	}{
		{"all", "", 0, "", n + 1},
		{"match", "sc:*", 10, "", n},
		{"match-class", "sc:00[0-4]?", 100, "", 50},
		{"type-string", "", 250, "string", n + 1},
		{"type-hash", "", 250, "hash", 0},
		{"no-match", "nothing:*", 1000, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var it *redis.ScanIterator
			if tc.typ != "" {
				it = rdb.ScanType(ctx, 0, tc.match, tc.count, tc.typ).Iterator()
			} else {
				it = rdb.Scan(ctx, 0, tc.match, tc.count).Iterator()
			}
			seen := map[string]bool{}
			for it.Next(ctx) {
				seen[it.Val()] = true
			}
			must(t, "SCAN", it.Err())
			equal(t, "distinct keys", len(seen), tc.want)
		})
	}
	keys, err := rdb.Keys(ctx, "sc:09*").Result()
	must(t, "KEYS", err)
	equal(t, "KEYS sc:09*", len(keys), 100)
	rk, err := rdb.RandomKey(ctx).Result()
	must(t, "RANDOMKEY", err)
	if rk != "other" && !strings.HasPrefix(rk, "sc:") {
		t.Fatalf("RANDOMKEY: %q", rk)
	}
}

func goRedisClientName(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	// CLIENT SETNAME is per connection: go-redis offers it on a Conn.
	conn := rdb.Conn()
	defer conn.Close()
	ok, err := conn.ClientSetName(ctx, "tstd-conn").Result()
	must(t, "CLIENT SETNAME", err)
	equal(t, "CLIENT SETNAME", ok, true)
	name, err := conn.ClientGetName(ctx).Result()
	must(t, "CLIENT GETNAME", err)
	equal(t, "CLIENT GETNAME", name, "tstd-conn")
	info, err := conn.ClientInfo(ctx).Result()
	must(t, "CLIENT INFO", err)
	equal(t, "CLIENT INFO name", info.Name, "tstd-conn")
	equal(t, "CLIENT INFO resp", info.Resp, proto)
	id, err := conn.ClientID(ctx).Result()
	must(t, "CLIENT ID", err)
	equal(t, "CLIENT INFO id", info.ID, id)
	if err := conn.ClientSetName(ctx, "has space").Err(); err == nil ||
		err.Error() != "ERR Client names cannot contain spaces, newlines or special characters." {
		t.Fatalf("CLIENT SETNAME with a space: %v", err)
	}

	// Options.ClientName names every pooled connection (HELLO ... SETNAME).
	opts := goRedisOptions(tg, proto)
	opts.ClientName = "tstd-pool"
	named := newGoRedis(t, opts)
	name, err = named.ClientGetName(ctx).Result()
	must(t, "CLIENT GETNAME (Options.ClientName)", err)
	equal(t, "CLIENT GETNAME (Options.ClientName)", name, "tstd-pool")
	list, err := rdb.ClientList(ctx).Result()
	must(t, "CLIENT LIST", err)
	if !strings.Contains(list, " name=tstd-pool ") || !strings.Contains(list, " name=tstd-conn ") {
		t.Fatalf("CLIENT LIST lacks the named clients:\n%s", list)
	}
}

func goRedisConfig(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	got, err := rdb.ConfigGet(ctx, "databases").Result()
	must(t, "CONFIG GET databases", err)
	if len(got) != 1 || got["databases"] != "16" {
		t.Fatalf("CONFIG GET databases: %v", got)
	}
	got, err = rdb.ConfigGet(ctx, "port").Result()
	must(t, "CONFIG GET port", err)
	equal(t, "CONFIG GET port (the port listened on)", got["port"], strconv.Itoa(tg.Port))
	got, err = rdb.ConfigGet(ctx, "maxmemory*").Result()
	must(t, "CONFIG GET maxmemory*", err)
	for _, k := range []string{"maxmemory", "maxmemory-policy"} {
		if _, ok := got[k]; !ok {
			t.Fatalf("CONFIG GET maxmemory*: no %s in %v", k, got)
		}
	}
	got, err = rdb.ConfigGet(ctx, "no-such-directive").Result()
	must(t, "CONFIG GET unknown", err)
	equal(t, "CONFIG GET unknown directive: entries", len(got), 0)

	must(t, "CONFIG SET hz", rdb.ConfigSet(ctx, "hz", "20").Err())
	got, err = rdb.ConfigGet(ctx, "hz").Result()
	must(t, "CONFIG GET hz", err)
	equal(t, "CONFIG GET hz after SET", got["hz"], "20")
	must(t, "CONFIG SET hz back", rdb.ConfigSet(ctx, "hz", "10").Err())
	if err := rdb.ConfigSet(ctx, "no-such-directive", "1").Err(); err == nil ||
		!strings.HasPrefix(err.Error(), "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-directive'") {
		t.Fatalf("CONFIG SET unknown: %v", err)
	}
}

func goRedisInfo(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	must(t, "MSET", rdb.MSet(ctx, "i:a", 1, "i:b", 2, "i:c", 3).Err())
	must(t, "EXPIRE", rdb.Expire(ctx, "i:a", time.Hour).Err())

	raw, err := rdb.Info(ctx).Result()
	must(t, "INFO", err)
	for _, section := range []string{"# Server\r\n", "# Clients\r\n", "# Memory\r\n", "# Stats\r\n", "# Keyspace\r\n"} {
		if !strings.Contains(raw, section) {
			t.Errorf("INFO lacks %q", section)
		}
	}
	info, err := rdb.InfoMap(ctx, "server", "clients", "keyspace").Result()
	must(t, "INFO server clients keyspace", err)
	srv := info["Server"]
	if !strings.HasPrefix(srv["redis_version"], "7.") {
		t.Errorf("INFO redis_version %q: want 7.x", srv["redis_version"])
	}
	equal(t, "INFO redis_mode", srv["redis_mode"], "standalone")
	equal(t, "INFO tcp_port", srv["tcp_port"], strconv.Itoa(tg.Port))
	if up, err := strconv.Atoi(srv["uptime_in_seconds"]); err != nil || up < 0 {
		t.Errorf("INFO uptime_in_seconds %q", srv["uptime_in_seconds"])
	}
	if c, err := strconv.Atoi(info["Clients"]["connected_clients"]); err != nil || c < 1 {
		t.Errorf("INFO connected_clients %q", info["Clients"]["connected_clients"])
	}
	db0 := info["Keyspace"]["db0"]
	if !strings.HasPrefix(db0, "keys=3,expires=1,avg_ttl=") {
		t.Errorf("INFO keyspace db0 = %q, want keys=3,expires=1,avg_ttl=...", db0)
	}
	if _, ok := info["Keyspace"]["db1"]; ok {
		t.Errorf("INFO keyspace lists the empty db1")
	}
	only, err := rdb.InfoMap(ctx, "keyspace").Result()
	must(t, "INFO keyspace", err)
	if len(only) != 1 || only["Keyspace"] == nil {
		t.Errorf("INFO keyspace: sections %v, want only Keyspace", slices.Sorted(mapKeys(only)))
	}
}

// mapKeys returns the keys of m as an iterator.
func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func goRedisFlush(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, 30*time.Second)
	for i := range 25 {
		must(t, "SET", rdb.Set(ctx, "f:"+strconv.Itoa(i), i, 0).Err())
	}
	n, err := rdb.DBSize(ctx).Result()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE", n, int64(25))
	res, err := rdb.FlushDB(ctx).Result()
	must(t, "FLUSHDB", err)
	equal(t, "FLUSHDB", res, "OK")
	n, err = rdb.DBSize(ctx).Result()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE after FLUSHDB", n, int64(0))
	must(t, "SET", rdb.Set(ctx, "f:x", 1, 0).Err())
	must(t, "FLUSHDB ASYNC", rdb.FlushDBAsync(ctx).Err())
	n, err = rdb.DBSize(ctx).Result()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE after FLUSHDB ASYNC", n, int64(0))
	must(t, "SET", rdb.Set(ctx, "f:x", 1, 0).Err())
	must(t, "FLUSHALL", rdb.FlushAll(ctx).Err())
	n, err = rdb.DBSize(ctx).Result()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE after FLUSHALL", n, int64(0))
}

func goRedisSelect(t *testing.T, tg target, proto int, rdb *redis.Client) {
	ctx := testCtx(t, time.Minute)
	opts := goRedisOptions(tg, proto)
	opts.DB = 3 // go-redis sends SELECT 3 on every new connection
	opts.PoolSize = 4
	db3 := newGoRedis(t, opts)

	// Several connections at once: each one must be on db 3.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := "d3:" + strconv.Itoa(g)
			if err := db3.Set(ctx, k, g, 0).Err(); err != nil {
				errs <- fmt.Errorf("SET %s on db 3: %w", k, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, err := db3.DBSize(ctx).Result()
	must(t, "DBSIZE db 3", err)
	equal(t, "DBSIZE db 3", n, int64(8))
	n, err = rdb.DBSize(ctx).Result()
	must(t, "DBSIZE db 0", err)
	equal(t, "DBSIZE db 0", n, int64(0))
	n, err = rdb.Exists(ctx, "d3:0").Result()
	must(t, "EXISTS on db 0", err)
	equal(t, "EXISTS d3:0 on db 0", n, int64(0))
	info, err := db3.ClientInfo(ctx).Result()
	must(t, "CLIENT INFO", err)
	equal(t, "CLIENT INFO db", info.DB, 3)
	ks, err := rdb.InfoMap(ctx, "keyspace").Result()
	must(t, "INFO keyspace", err)
	if !strings.HasPrefix(ks["Keyspace"]["db3"], "keys=8,expires=0,") {
		t.Fatalf("INFO keyspace db3 = %q", ks["Keyspace"]["db3"])
	}

	// SWAPDB is seen at once by a client of the other database.
	must(t, "SWAPDB 0 3", rdb.Do(ctx, "SWAPDB", 0, 3).Err())
	n, err = rdb.DBSize(ctx).Result()
	must(t, "DBSIZE db 0 after SWAPDB", err)
	equal(t, "DBSIZE db 0 after SWAPDB", n, int64(8))
	n, err = db3.DBSize(ctx).Result()
	must(t, "DBSIZE db 3 after SWAPDB", err)
	equal(t, "DBSIZE db 3 after SWAPDB", n, int64(0))
	must(t, "SET on db 3 after SWAPDB", db3.Set(ctx, "d3:new", "x", 0).Err())
	v, err := db3.Get(ctx, "d3:new").Result()
	must(t, "GET on db 3 after SWAPDB", err)
	equal(t, "GET on db 3 after SWAPDB", v, "x")
	n, err = rdb.Exists(ctx, "d3:new").Result()
	must(t, "EXISTS on db 0", err)
	equal(t, "EXISTS d3:new on db 0", n, int64(0))
}
