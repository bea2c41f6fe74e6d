package command

import (
	"fmt"
	"strings"
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/store"
)

// TestZSetErrors checks every error reply of the sorted set commands
// against the strings Redis 7.0.15 gives for the same commands (z is a
// zset, str a string).
func TestZSetErrors(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	do(t, s, cl, "ZADD", "z", "1", "a", "2", "b", "3", "c")
	do(t, s, cl, "SET", "str", "x")
	arity := func(name string) string { return kvErr("ERR wrong number of arguments for '" + name + "' command") }
	tests := []struct {
		name, cmd, want string
	}{
		{"zadd arity", "ZADD z 1", arity("zadd")},
		{"zincrby arity", "ZINCRBY z 1", arity("zincrby")},
		{"zrem arity", "ZREM z", arity("zrem")},
		{"zcard arity", "ZCARD", arity("zcard")},
		{"zscore arity", "ZSCORE z", arity("zscore")},
		{"zmscore arity", "ZMSCORE z", arity("zmscore")},
		{"zrank arity", "ZRANK z", arity("zrank")},
		{"zrevrank arity", "ZREVRANK z a b", arity("zrevrank")},
		{"zcount arity", "ZCOUNT z 1", arity("zcount")},
		{"zlexcount arity", "ZLEXCOUNT z -", arity("zlexcount")},
		{"zpopmin arity", "ZPOPMIN", arity("zpopmin")},
		{"zadd odd", "ZADD z 1 a 2", kvErr(ErrSyntax)},
		{"zadd no pairs", "ZADD z NX 1", kvErr(ErrSyntax)},
		{"zadd nx xx", "ZADD z NX XX 1 a", kvErr(errZAddXXNX)},
		{"zadd gt lt", "ZADD z GT LT 1 a", kvErr(errZAddGTLT)},
		{"zadd gt nx", "ZADD z GT NX 1 a", kvErr(errZAddGTLT)},
		{"zadd lt nx", "ZADD z LT NX 1 a", kvErr(errZAddGTLT)},
		{"zadd incr pairs", "ZADD z INCR 1 a 2 b", kvErr(errZAddIncr)},
		{"zadd float", "ZADD z x a", kvErr(ErrNotFloat)},
		{"zadd nan", "ZADD z nan a", kvErr(ErrNotFloat)},
		{"zadd underflow", "ZADD z 1e-400 a", kvErr(ErrNotFloat)},
		{"zadd overflow", "ZADD z 1e400 a", kvErr(ErrNotFloat)},
		{"zadd float second", "ZADD z 1 a y b", kvErr(ErrNotFloat)},
		{"zadd incr new -inf", "ZADD z INCR -inf inf", "$4\r\n-inf\r\n"},
		{"zincrby nan", "ZINCRBY z +inf inf", kvErr(errZScoreNaN)},
		{"zincrby float", "ZINCRBY z x a", kvErr(ErrNotFloat)},
		{"zincrby option", "ZINCRBY z nx a", kvErr(ErrSyntax)},
		{"zcount range", "ZCOUNT z x 1", kvErr("ERR min or max is not a float")},
		{"zcount range missing key", "ZCOUNT nokey 1 (y", kvErr("ERR min or max is not a float")},
		{"zlexcount range", "ZLEXCOUNT z a b", kvErr("ERR min or max not valid string range item")},
		{"zpopmin count", "ZPOPMIN z x", kvErr(errPositive)},
		{"zpopmin negative", "ZPOPMIN z -1", kvErr(errPositive)},
		{"zpopmax syntax", "ZPOPMAX z 1 2", kvErr(ErrSyntax)},
		{"zadd wrongtype", "ZADD str 1 a", kvErr(ErrWrongType)},
		{"zadd xx wrongtype", "ZADD str XX 1 a", kvErr(ErrWrongType)},
		{"zincrby wrongtype", "ZINCRBY str 1 a", kvErr(ErrWrongType)},
		{"zrem wrongtype", "ZREM str a", kvErr(ErrWrongType)},
		{"zcard wrongtype", "ZCARD str", kvErr(ErrWrongType)},
		{"zscore wrongtype", "ZSCORE str a", kvErr(ErrWrongType)},
		{"zmscore wrongtype", "ZMSCORE str a", kvErr(ErrWrongType)},
		{"zrank wrongtype", "ZRANK str a", kvErr(ErrWrongType)},
		{"zcount wrongtype", "ZCOUNT str 0 1", kvErr(ErrWrongType)},
		{"zlexcount wrongtype", "ZLEXCOUNT str - +", kvErr(ErrWrongType)},
		{"zpopmin wrongtype count 0", "ZPOPMIN str 0", kvErr(ErrWrongType)},
		{"zrange arity", "ZRANGE z 0", arity("zrange")},
		{"zrangestore arity", "ZRANGESTORE d z 0", arity("zrangestore")},
		{"zremrangebyrank arity", "ZREMRANGEBYRANK z 0", arity("zremrangebyrank")},
		{"zrange limit by rank", "ZRANGE z 0 1 LIMIT 0 1", kvErr(errZRangeLimit)},
		{"zrange bylex withscores", "ZRANGE z - + BYLEX WITHSCORES", kvErr(errZRangeLexScores)},
		{"zrange limit text", "ZRANGE z 0 1 LIMIT x 1", kvErr(ErrNotInteger)},
		{"zrange limit short", "ZRANGE z 0 1 BYSCORE LIMIT 1", kvErr(ErrSyntax)},
		{"zrange option", "ZRANGE z 0 1 FOO", kvErr(ErrSyntax)},
		{"zrange twice rev", "ZRANGE z 0 1 REV REV", kvErr(ErrSyntax)},
		{"zrevrange rev", "ZREVRANGE z 0 1 REV", kvErr(ErrSyntax)},
		{"zrangebyscore byscore", "ZRANGEBYSCORE z 0 1 BYSCORE", kvErr(ErrSyntax)},
		{"zrangestore withscores", "ZRANGESTORE d z 0 1 WITHSCORES", kvErr(ErrSyntax)},
		{"zrange rank", "ZRANGE z x 1", kvErr(ErrNotInteger)},
		{"zrange score", "ZRANGE z x 1 BYSCORE", kvErr(errZScoreRange)},
		{"zrange lex", "ZRANGE z a b BYLEX", kvErr(errZLexRange)},
		{"zremrangebyrank rank", "ZREMRANGEBYRANK z 0 x", kvErr(ErrNotInteger)},
		{"zremrangebyscore range", "ZREMRANGEBYSCORE z 0 x", kvErr(errZScoreRange)},
		{"zremrangebylex range", "ZREMRANGEBYLEX z - x", kvErr(errZLexRange)},
		{"zrange wrongtype", "ZRANGE str 0 1", kvErr(ErrWrongType)},
		{"zrangestore wrongtype", "ZRANGESTORE d str 0 1", kvErr(ErrWrongType)},
		{"zremrangebyrank wrongtype", "ZREMRANGEBYRANK str 0 1", kvErr(ErrWrongType)},
		{"zrandmember arity", "ZRANDMEMBER", arity("zrandmember")},
		{"zrandmember count", "ZRANDMEMBER z x", kvErr(ErrNotInteger)},
		{"zrandmember min", "ZRANDMEMBER z -9223372036854775808", kvErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")},
		{"zrandmember withscores range", "ZRANDMEMBER z 9223372036854775807 WITHSCORES", kvErr("ERR value is out of range")},
		{"zrandmember option", "ZRANDMEMBER z 1 FOO", kvErr(ErrSyntax)},
		{"zrandmember extra", "ZRANDMEMBER z 1 WITHSCORES x", kvErr(ErrSyntax)},
		{"zrandmember wrongtype", "ZRANDMEMBER str", kvErr(ErrWrongType)},
		{"zmpop arity", "ZMPOP 1 z", arity("zmpop")},
		{"zmpop numkeys", "ZMPOP 0 z MIN", kvErr("ERR numkeys should be greater than 0")},
		{"zmpop numkeys text", "ZMPOP x z MIN", kvErr("ERR numkeys should be greater than 0")},
		{"zmpop too many keys", "ZMPOP 2 z MIN", kvErr(ErrSyntax)},
		{"zmpop where", "ZMPOP 1 z FOO", kvErr(ErrSyntax)},
		{"zmpop count", "ZMPOP 1 z MIN COUNT 0", kvErr("ERR count should be greater than 0")},
		{"zmpop count twice", "ZMPOP 1 z MIN COUNT 1 COUNT 1", kvErr(ErrSyntax)},
		{"zmpop wrongtype", "ZMPOP 2 nokey str MIN", kvErr(ErrWrongType)},
		{"zmpop missing", "ZMPOP 1 nokey MIN", "*-1\r\n"},
		{"zscan cursor", "ZSCAN z x", kvErr("ERR invalid cursor")},
		{"zscan count zero", "ZSCAN z 0 COUNT 0", kvErr(ErrSyntax)},
		{"zscan count text", "ZSCAN z 0 COUNT x", kvErr(ErrNotInteger)},
		{"zscan option", "ZSCAN z 0 FOO bar", kvErr(ErrSyntax)},
		{"zscan wrongtype", "ZSCAN str 0", kvErr(ErrWrongType)},
		{"zunion arity", "ZUNION 1", arity("zunion")},
		{"zunionstore arity", "ZUNIONSTORE d 1", arity("zunionstore")},
		{"zintercard arity", "ZINTERCARD 1", arity("zintercard")},
		{"zunion numkeys text", "ZUNION x z", kvErr(ErrNotInteger)},
		{"zunion numkeys zero", "ZUNION 0 z", kvErr("ERR at least 1 input key is needed for 'zunion' command")},
		{"zinterstore numkeys zero", "ZINTERSTORE d 0 z", kvErr("ERR at least 1 input key is needed for 'zinterstore' command")},
		{"zintercard numkeys zero", "ZINTERCARD 0 z", kvErr("ERR at least 1 input key is needed for 'zintercard' command")},
		{"zunion too many keys", "ZUNION 3 z z", kvErr(ErrSyntax)},
		{"zunion weights short", "ZUNION 2 z z WEIGHTS 1", kvErr(ErrSyntax)},
		{"zunion weight float", "ZUNION 1 z WEIGHTS x", kvErr("ERR weight value is not a float")},
		{"zunion aggregate", "ZUNION 1 z AGGREGATE foo", kvErr(ErrSyntax)},
		{"zdiff weights", "ZDIFF 1 z WEIGHTS 1", kvErr(ErrSyntax)},
		{"zunionstore withscores", "ZUNIONSTORE d 1 z WITHSCORES", kvErr(ErrSyntax)},
		{"zintercard limit", "ZINTERCARD 1 z LIMIT -1", kvErr("ERR LIMIT can't be negative")},
		{"zintercard withscores", "ZINTERCARD 1 z WITHSCORES", kvErr(ErrSyntax)},
		{"zunion wrongtype", "ZUNION 2 z str", kvErr(ErrWrongType)},
		{"zinterstore wrongtype", "ZINTERSTORE d 2 nokey str", kvErr(ErrWrongType)},
		{"get of a zset", "GET z", kvErr(ErrWrongType)},
		{"sadd to a zset", "SADD z a", kvErr(ErrWrongType)},
		{"type", "TYPE z", "+zset\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require_Equal(t, do(t, s, cl, strings.Fields(tc.cmd)...), tc.want)
		})
	}
}

// TestZSetPersistence checks that zsets built by many writes (chained
// operations and folds), incremented, removed from and popped read the
// same after a restart of the cache over the same directory, with a tiny
// cache (evicting the decoded zset between commands) and a large one.
func TestZSetPersistence(t *testing.T) {
	for _, capacity := range []int{1, 1000} {
		t.Run(fmt.Sprintf("capacity%d", capacity), func(t *testing.T) {
			dir := t.TempDir()
			open := func() *Server {
				st, err := store.Open(dir, store.Options{})
				if err != nil {
					t.Fatalf("store.Open: %v", err)
				}
				c, err := cache.Open(st, cache.Options{Capacity: capacity, Shards: 1, NoActiveExpiry: true})
				if err != nil {
					t.Fatalf("cache.Open: %v", err)
				}
				return NewServer(c, nil, nil)
			}
			s := open()
			cl := s.NewClient()
			for i := range 2000 {
				m := fmt.Sprintf("m%d\r\n\x00", i%500)
				do(t, s, cl, "ZADD", "z", fmt.Sprint(i%37), m)
				if i%7 == 0 {
					do(t, s, cl, "ZREM", "z", fmt.Sprintf("m%d\r\n\x00", (i+11)%500))
					do(t, s, cl, "ZINCRBY", "z", "0.5", m)
				}
				if i%50 == 0 {
					do(t, s, cl, "SET", fmt.Sprintf("other%d", i), "x") // churn the cache
					do(t, s, cl, "GET", fmt.Sprintf("other%d", i))
					do(t, s, cl, "ZPOPMIN", "z")
					do(t, s, cl, "ZPOPMAX", "z", "2")
					do(t, s, cl, "ZADD", "z", "GT", "CH", "-0", m, "1e300", "big")
					do(t, s, cl, "ZREMRANGEBYRANK", "z", "3", "4")
					do(t, s, cl, "ZREMRANGEBYSCORE", "z", "(10", "10.5")
					do(t, s, cl, "ZRANGESTORE", "st", "z", "5", "15", "BYSCORE")
				}
				if i%333 == 0 {
					do(t, s, cl, "ZREMRANGEBYLEX", "z", "[m1", "(m2")
					do(t, s, cl, "ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "3")
				}
			}
			do(t, s, cl, "ZUNIONSTORE", "un", "2", "z", "st", "WEIGHTS", "2", "3")
			do(t, s, cl, "ZINCRBY", "un", "7", "big")
			do(t, s, cl, "ZPOPMIN", "un", "3")
			un := do(t, s, cl, "ZRANGE", "un", "0", "-1", "WITHSCORES")
			do(t, s, cl, "ZADD", "gone", "1", "a")
			do(t, s, cl, "ZPOPMIN", "gone", "5")
			require_Equal(t, do(t, s, cl, "EXPIRE", "z", "1000"), kvInt("1"))
			card := do(t, s, cl, "ZCARD", "z")
			all := do(t, s, cl, "ZRANGE", "z", "0", "-1", "WITHSCORES")
			st := do(t, s, cl, "ZRANGE", "st", "0", "-1", "WITHSCORES")
			if card == kvInt("0") || len(card) < 6 {
				t.Fatalf("zset too small: ZCARD %q", card)
			}
			var scores []string
			for i := range 500 {
				scores = append(scores, do(t, s, cl, "ZSCORE", "z", fmt.Sprintf("m%d\r\n\x00", i)),
					do(t, s, cl, "ZRANK", "z", fmt.Sprintf("m%d\r\n\x00", i)))
			}
			if err := s.Cache.Close(); err != nil {
				t.Fatal(err)
			}
			s = open()
			defer s.Cache.Close()
			cl = s.NewClient()
			require_Equal(t, do(t, s, cl, "ZCARD", "z"), card)
			require_Equal(t, do(t, s, cl, "ZRANGE", "z", "0", "-1", "WITHSCORES"), all)
			require_Equal(t, do(t, s, cl, "ZRANGE", "st", "0", "-1", "WITHSCORES"), st)
			for i := range 500 {
				require_Equal(t, do(t, s, cl, "ZSCORE", "z", fmt.Sprintf("m%d\r\n\x00", i)), scores[2*i])
				require_Equal(t, do(t, s, cl, "ZRANK", "z", fmt.Sprintf("m%d\r\n\x00", i)), scores[2*i+1])
			}
			require_Equal(t, do(t, s, cl, "ZRANGE", "un", "0", "-1", "WITHSCORES"), un)
			require_Equal(t, do(t, s, cl, "EXISTS", "gone"), kvInt("0"))
			require_Equal(t, do(t, s, cl, "TYPE", "z"), "+zset\r\n")
			if ttl := do(t, s, cl, "TTL", "z"); ttl == kvInt("-1") || ttl == kvInt("-2") {
				t.Fatalf("TTL after restart: %q", ttl)
			}
			require_Equal(t, do(t, s, cl, "GET", "z"), kvErr(ErrWrongType))
		})
	}
}
