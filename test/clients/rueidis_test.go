package clients

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
)

// newRueidis returns a rueidis client for tg, closed in t.Cleanup. rueidis
// speaks RESP3 only (HELLO 3 on connect). It is created as users create it
// (rueidis.NewClient, which first probes CLUSTER and falls back to a
// single-node client on tstd's and Redis's replies), except:
//
//   - DisableCache: rueidis's client-side caching turns on CLIENT TRACKING on
//     every connection (and fails the connection when it is refused); tstd
//     does not implement CLIENT TRACKING yet, so the cache is off and DoCache
//     is not exercised.
//   - DisableRetry: a failed command fails the test instead of being retried.
func newRueidis(t *testing.T, tg target, edit func(*rueidis.ClientOption)) rueidis.Client {
	t.Helper()
	opt := rueidis.ClientOption{
		InitAddress:      []string{tg.Addr()},
		DisableCache:     true,
		DisableRetry:     true,
		ConnWriteTimeout: 10 * time.Second,
	}
	opt.Dialer.Timeout = 5 * time.Second
	if edit != nil {
		edit(&opt)
	}
	c, err := rueidis.NewClient(opt)
	if err != nil {
		t.Fatalf("rueidis.NewClient %s: %v", tg.Addr(), err)
	}
	t.Cleanup(c.Close)
	return c
}

// errNotInteger is Redis's reply to INCR on a value that is not an integer.
const errNotInteger = "ERR value is not an integer or out of range"

// isRueidisErr reports whether err is the Redis error reply want. rueidis
// drops the "ERR " prefix of error replies from Error(), so it is compared
// without it.
func isRueidisErr(err error, want string) bool {
	var re *rueidis.RedisError
	return errors.As(err, &re) && re.Error() == strings.TrimPrefix(want, "ERR ")
}

// TestRueidis drives tstd (and, as the reference, redis-server) with rueidis.
func TestRueidis(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, tg target, c rueidis.Client)
	}{
		{"strings", rueidisStrings},
		{"binary", rueidisBinary},
		{"domulti", rueidisDoMulti},
		{"auto-pipelining", rueidisConcurrent},
		{"options", rueidisOptions},
	}
	eachServer(t, func(t *testing.T, tg target) {
		c := newRueidis(t, tg, nil)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testCtx(t, 10*time.Second)
				must(t, "FLUSHALL", c.Do(ctx, c.B().Flushall().Build()).Error())
				tc.run(t, tg, c)
			})
		}
	})
}

func rueidisStrings(t *testing.T, tg target, c rueidis.Client) {
	ctx := testCtx(t, 30*time.Second)
	hello, err := c.Do(ctx, c.B().Hello().Protover(3).Build()).ToMap()
	must(t, "HELLO 3", err)
	protoMsg := hello["proto"]
	proto, err := protoMsg.AsInt64()
	must(t, "HELLO proto", err)
	equal(t, "HELLO proto", proto, int64(3))

	must(t, "SET", c.Do(ctx, c.B().Set().Key("r:a").Value("hello").Build()).Error())
	v, err := c.Do(ctx, c.B().Get().Key("r:a").Build()).ToString()
	must(t, "GET", err)
	equal(t, "GET", v, "hello")
	if _, err := c.Do(ctx, c.B().Get().Key("r:missing").Build()).ToString(); !rueidis.IsRedisNil(err) {
		t.Fatalf("GET missing: err %v, want a Redis nil", err)
	}
	n, err := c.Do(ctx, c.B().Incr().Key("r:n").Build()).AsInt64()
	must(t, "INCR", err)
	equal(t, "INCR", n, int64(1))
	n, err = c.Do(ctx, c.B().Incrby().Key("r:n").Increment(9).Build()).AsInt64()
	must(t, "INCRBY", err)
	equal(t, "INCRBY", n, int64(10))
	f, err := c.Do(ctx, c.B().Incrbyfloat().Key("r:n").Increment(0.5).Build()).AsFloat64()
	must(t, "INCRBYFLOAT", err)
	equal(t, "INCRBYFLOAT", f, 10.5)
	err = c.Do(ctx, c.B().Incr().Key("r:a").Build()).Error()
	if !isRueidisErr(err, errNotInteger) {
		t.Fatalf("INCR on a non-integer: %v", err)
	}

	must(t, "MSET", c.Do(ctx, c.B().Mset().KeyValue().KeyValue("r:m1", "1").KeyValue("r:m2", "2").Build()).Error())
	arr, err := c.Do(ctx, c.B().Mget().Key("r:m1", "r:missing", "r:m2").Build()).ToArray()
	must(t, "MGET", err)
	equal(t, "MGET length", len(arr), 3)
	for i, want := range []string{"1", "", "2"} {
		got, err := arr[i].ToString()
		if want == "" {
			if !arr[i].IsNil() {
				t.Fatalf("MGET[%d]: %v, want nil", i, arr[i])
			}
			continue
		}
		must(t, "MGET element", err)
		equal(t, "MGET["+strconv.Itoa(i)+"]", got, want)
	}
	// rueidis.MGet is the helper users call; it maps keys to replies.
	m, err := rueidis.MGet(c, ctx, []string{"r:m1", "r:m2", "r:missing"})
	must(t, "rueidis.MGet", err)
	m2, missingMsg := m["r:m2"], m["r:missing"]
	if s, _ := m2.ToString(); s != "2" || !missingMsg.IsNil() {
		t.Fatalf("rueidis.MGet: %v", m)
	}

	ok, err := c.Do(ctx, c.B().Expire().Key("r:a").Seconds(100).Build()).AsBool()
	must(t, "EXPIRE", err)
	equal(t, "EXPIRE", ok, true)
	ttl, err := c.Do(ctx, c.B().Ttl().Key("r:a").Build()).AsInt64()
	must(t, "TTL", err)
	if ttl < 90 || ttl > 100 {
		t.Fatalf("TTL after EXPIRE 100: %d", ttl)
	}
	keys, err := c.Do(ctx, c.B().Keys().Pattern("r:m*").Build()).AsStrSlice()
	must(t, "KEYS", err)
	equal(t, "KEYS r:m*", len(keys), 2)
	size, err := c.Do(ctx, c.B().Dbsize().Build()).AsInt64()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE", size, int64(4))
}

func rueidisBinary(t *testing.T, tg target, c rueidis.Client) {
	ctx := testCtx(t, 30*time.Second)
	bin := binaryValue()
	key := rueidis.BinaryString([]byte("rb:\x00\xff\r\n"))
	must(t, "SET binary", c.Do(ctx, c.B().Set().Key(key).Value(rueidis.BinaryString(bin)).Build()).Error())
	got, err := c.Do(ctx, c.B().Get().Key(key).Build()).AsBytes()
	must(t, "GET binary", err)
	if !bytes.Equal(got, bin) {
		t.Fatalf("GET binary: %d bytes, want %d, first difference at %d", len(got), len(bin), firstDiff(got, bin))
	}
	big := bytes.Repeat(bin, 2000) // about 1.2 MB
	must(t, "SET big", c.Do(ctx, c.B().Set().Key("rb:big").Value(rueidis.BinaryString(big)).Build()).Error())
	arr, err := c.Do(ctx, c.B().Mget().Key("rb:big", key).Build()).ToArray()
	must(t, "MGET binary", err)
	b0, err0 := arr[0].AsBytes()
	b1, err1 := arr[1].AsBytes()
	if err0 != nil || err1 != nil || !bytes.Equal(b0, big) || !bytes.Equal(b1, bin) {
		t.Fatalf("MGET binary: %d and %d bytes (%v, %v)", len(b0), len(b1), err0, err1)
	}
	n, err := c.Do(ctx, c.B().Strlen().Key("rb:big").Build()).AsInt64()
	must(t, "STRLEN", err)
	equal(t, "STRLEN big", n, int64(len(big)))
}

func rueidisDoMulti(t *testing.T, tg target, c rueidis.Client) {
	ctx := testCtx(t, time.Minute)
	const n = 300
	cmds := make(rueidis.Commands, 0, 3*n)
	for i := range n {
		k := "rm:" + strconv.Itoa(i)
		cmds = append(cmds,
			c.B().Set().Key(k).Value(strconv.Itoa(i)).Build(),
			c.B().Incr().Key(k).Build(),
			c.B().Get().Key(k).Build())
	}
	res := c.DoMulti(ctx, cmds...)
	equal(t, "DoMulti replies", len(res), 3*n)
	for i := range n {
		if err := res[3*i].Error(); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
		if v, err := res[3*i+1].AsInt64(); err != nil || v != int64(i+1) {
			t.Fatalf("INCR %d: %d, %v", i, v, err)
		}
		if v, err := res[3*i+2].ToString(); err != nil || v != strconv.Itoa(i+1) {
			t.Fatalf("GET %d: %q, %v", i, v, err)
		}
	}
	// A failing command in the batch fails alone.
	res = c.DoMulti(ctx,
		c.B().Set().Key("rm:s").Value("abc").Build(),
		c.B().Incr().Key("rm:s").Build(),
		c.B().Get().Key("rm:s").Build())
	if err := res[1].Error(); !isRueidisErr(err, errNotInteger) {
		t.Fatalf("INCR on a string in DoMulti: %v", err)
	}
	if v, err := res[2].ToString(); err != nil || v != "abc" {
		t.Fatalf("GET after the failed INCR: %q, %v", v, err)
	}
	size, err := c.Do(ctx, c.B().Dbsize().Build()).AsInt64()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE", size, int64(n+1))
}

// rueidisConcurrent has 50 goroutines share the client: rueidis pipelines
// their concurrent Do calls onto its few connections.
func rueidisConcurrent(t *testing.T, tg target, c rueidis.Client) {
	ctx := testCtx(t, 2*time.Minute)
	const workers, iters = 50, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctr := fmt.Sprintf("rc:%d:ctr", w)
			for i := range iters {
				k := fmt.Sprintf("rc:%d:%d", w, i)
				v := fmt.Sprintf("%d/%d", w, i)
				if err := c.Do(ctx, c.B().Set().Key(k).Value(v).Build()).Error(); err != nil {
					errs <- fmt.Errorf("SET %s: %w", k, err)
					return
				}
				if got, err := c.Do(ctx, c.B().Get().Key(k).Build()).ToString(); err != nil || got != v {
					errs <- fmt.Errorf("GET %s: %q, %v; want %q", k, got, err, v)
					return
				}
				if got, err := c.Do(ctx, c.B().Incr().Key(ctr).Build()).AsInt64(); err != nil || got != int64(i+1) {
					errs <- fmt.Errorf("INCR %s: %d, %v; want %d", ctr, got, err, i+1)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	size, err := c.Do(ctx, c.B().Dbsize().Build()).AsInt64()
	must(t, "DBSIZE", err)
	equal(t, "DBSIZE", size, int64(workers*(iters+1)))
}

// rueidisOptions checks SelectDB and ClientName, which rueidis applies on
// connect (SELECT, and SETNAME inside HELLO).
func rueidisOptions(t *testing.T, tg target, c rueidis.Client) {
	ctx := testCtx(t, 30*time.Second)
	c3 := newRueidis(t, tg, func(o *rueidis.ClientOption) {
		o.SelectDB = 3
		o.ClientName = "tstd-rueidis"
	})
	must(t, "SET on db 3", c3.Do(ctx, c3.B().Set().Key("ro:k").Value("v").Build()).Error())
	n, err := c.Do(ctx, c.B().Exists().Key("ro:k").Build()).AsInt64()
	must(t, "EXISTS on db 0", err)
	equal(t, "EXISTS on db 0", n, int64(0))
	n, err = c3.Do(ctx, c3.B().Dbsize().Build()).AsInt64()
	must(t, "DBSIZE on db 3", err)
	equal(t, "DBSIZE on db 3", n, int64(1))
	name, err := c3.Do(ctx, c3.B().ClientGetname().Build()).ToString()
	must(t, "CLIENT GETNAME", err)
	equal(t, "CLIENT GETNAME", name, "tstd-rueidis")
	info, err := c3.Do(ctx, c3.B().ClientInfo().Build()).ToString()
	must(t, "CLIENT INFO", err)
	fields := strings.Fields(info)
	for _, want := range []string{"name=tstd-rueidis", "db=3", "resp=3"} {
		if !slices.Contains(fields, want) {
			t.Fatalf("CLIENT INFO lacks %q: %s", want, info)
		}
	}
}
