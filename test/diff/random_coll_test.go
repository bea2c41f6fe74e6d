package difftest

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
)

var flagCollN = flag.Int("diff.colln", 3000, "number of commands TestRandomCollections sends per protocol")

// collCmd is one generated collection command and how to compare its
// replies.
//
// Redis leaves the order of some replies unspecified: the members of a set
// or the fields of a hash held as a hash table come in dict order, which
// depends on a per-process seed. tstd replies those in a documented
// deterministic order instead. Such replies are compared exactly whenever
// Redis's order is in fact determined, and as multisets (pairs kept
// together) only when it is not:
//
//   - compact lists keys whose encoding decides the order: the runner asks
//     the reference redis-server OBJECT ENCODING of each before the command
//     (read-only, not compared); if every one is absent or compact
//     (listpack, intset), Redis's order is defined and the reply must match
//     to the byte; otherwise mode applies.
//   - intsExact: the reply is a set Redis builds afresh as an intset
//     (SUNION, SDIFF, SPOP of the whole set): compared exactly
//     when the reference reply holds at most 512 members, all canonical
//     integers, since Redis then replies them in numeric order.
type collCmd struct {
	args      []string
	mode      string // "", "sort", "pairs", "shape", "near", "scan", "scanpairs"
	compact   []string
	intsExact bool
	// onlyCompact: the command is sent only if every one of these keys is
	// absent or compact on the reference, and skipped (sent to neither
	// server) otherwise. For lex ranges over a zset whose scores differ:
	// Redis walks a skip list's levels, which are random, so the result
	// is undefined (two redis-servers disagree); over a listpack it is a
	// linear scan, deterministic. The stream stays a function of the seed:
	// Redis's encodings are.
	onlyCompact []string
}

// collGen generates random commands of the collection types over a small
// keyspace: three keys per type, a string key and a key no command creates
// on purpose, so that collections grow, shrink, get emptied, change type
// through RENAME and the *STORE commands, and WRONGTYPE happens. Members
// come from small pools, so collections stay mostly under Redis's compact
// encoding limits and most replies compare exactly; rare bulk commands push
// a key over Redis's default limits (513 hash fields, 513 set integers,
// 129 zset members, values longer than 64 bytes).
//
// The generator never looks at server state: a seed alone fixes the stream
// (TestCollGenReplays). Randomly mutating commands are issued only in
// deterministic forms: SPOP with a count larger than any set pops all.
// Relative TTLs are at least 1000 s, so nothing expires during a run
// except at once (a TTL of 0 or in the past).
type collGen struct {
	r *rand.Rand
}

func newCollGen(seed int64) *collGen {
	return &collGen{r: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5851f42d4c957f2d))}
}

var (
	collHashKeys = []string{"h0", "h1", "h2"}
	collListKeys = []string{"l0", "l1", "l2"}
	collSetKeys  = []string{"s0", "s1", "s2"}
	collZKeys    = []string{"z0", "z1", "z2"}
	collLexKeys  = []string{"zl0", "zl1"} // every score 0; never a RENAME or STORE target
	collOther    = []string{"str", "none"}
	collAllKeys  = concat(collHashKeys, collListKeys, collSetKeys, collZKeys, collOther)

	collLong = strings.Repeat("L", 70) // over hash/zset-max-listpack-value

	collListVals = []string{"a", "b", "c", "d", "e", "1", "2", "10", "-1", "", "x\x00y", "a b"}
	collSetInts  = []string{"0", "1", "2", "3", "5", "7", "10", "11", "20", "42", "-3", "-10", "100", "9223372036854775807", "-9223372036854775808"}
	collSetStrs  = []string{"a", "b", "c", "hello", "01", "1.0", "+1", "", "\x00bin", "-0", " 1"}
	collFields   = []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "n", "a", "", "bin\x00\xff"}
	collHVals    = []string{"v", "0", "1", "-5", "10", "1.5", "3.0e2", "abc", "", "9223372036854775807", "-9223372036854775808", "0.1"}
	collMembers  = []string{"a", "b", "c", "d", "e", "f", "g", "m0", "m1", "m2", "", "\x00z"}
)

func concat(xs ...[]string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

func (g *collGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }
func (g *collGen) chance(p float64) bool   { return g.r.Float64() < p }

// key returns a key of the wanted type, or any key (WRONGTYPE, absent)
// about one time in twelve.
func (g *collGen) key(ofType []string) string {
	if g.chance(0.08) {
		return g.pick(collAllKeys)
	}
	return g.pick(ofType)
}

// keys returns 1 to max keys, mostly of the wanted type.
func (g *collGen) keys(ofType []string, max int) []string {
	n := 1 + g.r.IntN(max)
	out := make([]string, n)
	for i := range out {
		out[i] = g.key(ofType)
	}
	return out
}

// smallInt returns an index-like argument: mostly small, sometimes
// negative, large or not a number.
func (g *collGen) smallInt() string {
	switch g.r.IntN(14) {
	case 0:
		return g.pick([]string{"abc", "", "1.5", "9223372036854775807", "-9223372036854775808", "99999999999999999999"})
	case 1, 2, 3:
		return strconv.Itoa(-1 - g.r.IntN(8))
	default:
		return strconv.Itoa(g.r.IntN(10))
	}
}

// count returns a COUNT-like argument: mostly positive and small.
func (g *collGen) count() string {
	switch g.r.IntN(12) {
	case 0:
		return g.pick([]string{"0", "-1", "abc", "-9223372036854775808", "9223372036854775807"})
	case 1:
		return strconv.Itoa(20 + g.r.IntN(200))
	default:
		return strconv.Itoa(1 + g.r.IntN(5))
	}
}

// randCount returns the count of SRANDMEMBER, HRANDFIELD or ZRANDMEMBER:
// small, negative (repetitions allowed), zero, invalid or extreme. Never a
// huge negative count without WITH*: Redis 7.0 would try to reply 2^63
// elements.
func (g *collGen) randCount(with bool) string {
	switch g.r.IntN(12) {
	case 0:
		return g.pick([]string{"0", "abc", "", "-9223372036854775808", "9223372036854775807", "1000"})
	case 1:
		if with {
			return g.pick([]string{"-9223372036854775807", "-4611686018427387904"})
		}
		return "-1"
	case 2, 3, 4:
		return strconv.Itoa(-1 - g.r.IntN(6))
	default:
		return strconv.Itoa(1 + g.r.IntN(6))
	}
}

// score returns a score argument that prints the same in C and Go: mostly
// small dyadic numbers (sums are exact whatever the order of addition),
// sometimes infinities, -0, decimals and invalid ones.
func (g *collGen) score() string {
	switch g.r.IntN(20) {
	case 0:
		return g.pick([]string{"inf", "-inf", "+inf", "-0", "0.1", "1e3", "-2.5e-3", "3.14159", "1e300"})
	case 1:
		return g.pick([]string{"nan", "abc", "", "1e400", "1.5x", " 1", "0x10", "--1"})
	case 2, 3, 4:
		return strconv.FormatFloat(float64(g.r.IntN(41)-20)/4, 'f', -1, 64)
	default:
		return strconv.Itoa(g.r.IntN(21) - 10)
	}
}

// scoreBound returns a ZRANGEBYSCORE bound.
func (g *collGen) scoreBound() string {
	switch g.r.IntN(12) {
	case 0:
		return g.pick([]string{"-inf", "+inf", "inf", "(-inf", "(+inf"})
	case 1:
		return g.pick([]string{"abc", "(", "[1", "(abc", "nan", ""})
	case 2, 3, 4:
		return "(" + strconv.Itoa(g.r.IntN(21)-10)
	default:
		return strconv.FormatFloat(float64(g.r.IntN(41)-20)/2, 'f', -1, 64)
	}
}

// lexBound returns a ZRANGEBYLEX bound.
func (g *collGen) lexBound() string {
	switch g.r.IntN(10) {
	case 0:
		return g.pick([]string{"-", "+"})
	case 1:
		return g.pick([]string{"a", "", "[", "(", "-a", "+a"})
	default:
		return g.pick([]string{"[", "("}) + g.pick(collMembers)
	}
}

func (g *collGen) hval() string {
	if g.chance(0.02) {
		return collLong
	}
	if g.chance(0.2) {
		return strconv.Itoa(g.r.IntN(200) - 100)
	}
	return g.pick(collHVals)
}

func (g *collGen) field() string {
	if g.chance(0.01) {
		return collLong
	}
	return g.pick(collFields)
}

func (g *collGen) member() string {
	if g.chance(0.01) {
		return collLong
	}
	return g.pick(collMembers)
}

func (g *collGen) setMember() string {
	switch {
	case g.chance(0.005):
		return collLong
	case g.chance(0.12):
		return g.pick(collSetStrs)
	}
	return g.pick(collSetInts)
}

func (g *collGen) listVal() string {
	if g.chance(0.02) {
		return collLong
	}
	return g.pick(collListVals)
}

func (g *collGen) leftRight() string {
	if g.chance(0.03) {
		return g.pick([]string{"MIDDLE", "left", "Right"})
	}
	return g.pick([]string{"LEFT", "RIGHT"})
}

// numKeys returns "numkeys key..." for the commands that take a key count,
// sometimes with a count that does not match.
func (g *collGen) numKeys(ofType []string, max int) []string {
	ks := g.keys(ofType, max)
	n := strconv.Itoa(len(ks))
	if g.chance(0.04) {
		n = g.pick([]string{"0", "-1", "abc", strconv.Itoa(len(ks) + 1)})
	}
	return append([]string{n}, ks...)
}

// next returns the next command.
func (g *collGen) next() collCmd {
	switch n := g.r.IntN(100); {
	case n < 24:
		return g.hash()
	case n < 48:
		return g.list()
	case n < 70:
		return g.set()
	case n < 94:
		return g.zset()
	default:
		return g.generic()
	}
}

func cmd(args ...string) collCmd { return collCmd{args: args} }

func (g *collGen) hash() collCmd {
	k := g.key(collHashKeys)
	switch g.r.IntN(24) {
	case 0, 1, 2, 3:
		args := []string{g.pick([]string{"HSET", "HSET", "HMSET"}), k}
		for i := g.r.IntN(3); i >= 0; i-- {
			args = append(args, g.field(), g.hval())
		}
		if g.chance(0.03) {
			args = args[:len(args)-1] // wrong arity
		}
		return cmd(args...)
	case 4:
		if g.chance(0.1) {
			// Past hash-max-listpack-entries (512): Redis converts to a
			// hash table.
			args := []string{"HSET", k}
			for i := 0; i < 513; i++ {
				args = append(args, "big"+strconv.Itoa(i), strconv.Itoa(i))
			}
			return cmd(args...)
		}
		return cmd("HSETNX", k, g.field(), g.hval())
	case 5:
		return cmd("HGET", k, g.field())
	case 6:
		args := []string{"HMGET", k}
		for i := g.r.IntN(4); i >= 0; i-- {
			args = append(args, g.field())
		}
		return cmd(args...)
	case 7, 8:
		args := []string{"HDEL", k}
		for i := g.r.IntN(3); i >= 0; i-- {
			args = append(args, g.field())
		}
		return cmd(args...)
	case 9:
		return cmd("HEXISTS", k, g.field())
	case 10:
		return cmd("HLEN", k)
	case 11:
		return cmd("HSTRLEN", k, g.field())
	case 12:
		return collCmd{args: []string{"HKEYS", k}, mode: "sort", compact: []string{k}}
	case 13:
		return collCmd{args: []string{"HVALS", k}, mode: "sort", compact: []string{k}}
	case 14, 15:
		return collCmd{args: []string{"HGETALL", k}, mode: "pairs", compact: []string{k}}
	case 16, 17:
		return cmd("HINCRBY", k, g.field(), g.pick([]string{"1", "-1", "5", "100", "abc", "9223372036854775807", "-9223372036854775808", "0"}))
	case 18, 19:
		inc := g.pick([]string{"1", "-1", "0.5", "2.25", "-0.125", "1e3", "abc", "inf", "-inf", "nan", "0", "3"})
		return cmd("HINCRBYFLOAT", k, g.field(), inc)
	case 20:
		args := []string{"HRANDFIELD", k}
		if g.chance(0.7) {
			with := g.chance(0.5)
			args = append(args, g.randCount(with))
			if with {
				args = append(args, "WITHVALUES")
			}
		}
		return collCmd{args: args, mode: "shape"}
	case 21:
		// A count at least the hash's size returns the whole hash.
		args := []string{"HRANDFIELD", k, "1000"}
		mode := "sort"
		if g.chance(0.5) {
			args = append(args, "WITHVALUES")
			mode = "pairs"
		}
		return collCmd{args: args, mode: mode, compact: []string{k}}
	default:
		return collCmd{args: g.scanArgs("HSCAN", k), mode: "scanpairs", compact: []string{k}}
	}
}

// scanArgs returns a *SCAN from cursor 0 with random MATCH and COUNT.
func (g *collGen) scanArgs(name, k string) []string {
	args := []string{name, k, "0"}
	if g.chance(0.4) {
		args = append(args, "MATCH", g.pick([]string{"*", "f*", "?", "[a-c]*", "*1*", "m?", "big1*", "1*", "-*", "x"}))
	}
	if g.chance(0.5) {
		args = append(args, "COUNT", strconv.Itoa(1+g.r.IntN(20)))
	}
	if g.chance(0.03) {
		args = append(args, g.pick([]string{"COUNT", "BOGUS", "TYPE"}))
	}
	return args
}

func (g *collGen) list() collCmd {
	k := g.key(collListKeys)
	switch g.r.IntN(26) {
	case 0, 1, 2, 3:
		args := []string{g.pick([]string{"LPUSH", "RPUSH"}), k}
		for i := g.r.IntN(4); i >= 0; i-- {
			args = append(args, g.listVal())
		}
		if g.chance(0.01) {
			for i := 0; i < 200; i++ {
				args = append(args, strconv.Itoa(i%7))
			}
		}
		return cmd(args...)
	case 4:
		return cmd(g.pick([]string{"LPUSHX", "RPUSHX"}), k, g.listVal(), g.listVal())
	case 5, 6:
		args := []string{g.pick([]string{"LPOP", "RPOP"}), k}
		if g.chance(0.5) {
			args = append(args, g.count())
		}
		return cmd(args...)
	case 7:
		return cmd("LLEN", k)
	case 8, 9:
		return cmd("LRANGE", k, g.smallInt(), g.smallInt())
	case 10:
		return cmd("LINDEX", k, g.smallInt())
	case 11:
		return cmd("LSET", k, g.smallInt(), g.listVal())
	case 12:
		return cmd("LINSERT", k, g.pick([]string{"BEFORE", "AFTER", "before", "MIDDLE"}), g.listVal(), g.listVal())
	case 13:
		return cmd("LREM", k, g.smallInt(), g.listVal())
	case 14:
		return cmd("LTRIM", k, g.smallInt(), g.smallInt())
	case 15, 16:
		args := []string{"LPOS", k, g.listVal()}
		for i := g.r.IntN(3); i > 0; i-- {
			switch g.r.IntN(4) {
			case 0:
				args = append(args, "RANK", g.pick([]string{"1", "2", "-1", "-2", "0", "3", "-9223372036854775808", "abc"}))
			case 1:
				args = append(args, "COUNT", g.pick([]string{"0", "1", "2", "5", "-1"}))
			case 2:
				args = append(args, "MAXLEN", g.pick([]string{"0", "1", "3", "10", "-1"}))
			default:
				args = append(args, g.pick([]string{"RANK", "BOGUS"}))
			}
		}
		return cmd(args...)
	case 17, 18, 19:
		return cmd("LMOVE", k, g.key(collListKeys), g.leftRight(), g.leftRight())
	case 20:
		return cmd("RPOPLPUSH", k, g.key(collListKeys))
	case 21, 22:
		args := append([]string{"LMPOP"}, g.numKeys(collListKeys, 3)...)
		args = append(args, g.leftRight())
		if g.chance(0.5) {
			args = append(args, "COUNT", g.count())
		}
		return cmd(args...)
	default:
		return cmd("LRANGE", k, "0", "-1")
	}
}

func (g *collGen) set() collCmd {
	k := g.key(collSetKeys)
	switch g.r.IntN(26) {
	case 0, 1, 2, 3, 4:
		args := []string{"SADD", k}
		for i := g.r.IntN(4); i >= 0; i-- {
			args = append(args, g.setMember())
		}
		if g.chance(0.01) {
			// Past set-max-intset-entries: Redis converts to a hash table.
			for i := 0; i < 520; i++ {
				args = append(args, strconv.Itoa(1000+i))
			}
		}
		return cmd(args...)
	case 5, 6, 7:
		args := []string{"SREM", k}
		for i := g.r.IntN(4); i >= 0; i-- {
			args = append(args, g.setMember())
		}
		return cmd(args...)
	case 8:
		return cmd("SISMEMBER", k, g.setMember())
	case 9:
		args := []string{"SMISMEMBER", k}
		for i := g.r.IntN(3); i >= 0; i-- {
			args = append(args, g.setMember())
		}
		return cmd(args...)
	case 10, 11:
		return collCmd{args: []string{"SMEMBERS", k}, mode: "sort", compact: []string{k}}
	case 12:
		return cmd("SCARD", k)
	case 13:
		return cmd("SMOVE", k, g.key(collSetKeys), g.setMember())
	case 14:
		ks := g.keys(collSetKeys, 3)
		return collCmd{args: append([]string{"SINTER"}, ks...), mode: "sort", compact: ks}
	case 15:
		args := append([]string{"SINTERCARD"}, g.numKeys(collSetKeys, 3)...)
		if g.chance(0.4) {
			args = append(args, "LIMIT", g.pick([]string{"0", "1", "2", "-1", "abc"}))
		}
		return cmd(args...)
	case 16:
		return collCmd{args: append([]string{"SUNION"}, g.keys(collSetKeys, 3)...), mode: "sort", intsExact: true}
	case 17:
		return collCmd{args: append([]string{"SDIFF"}, g.keys(collSetKeys, 3)...), mode: "sort", intsExact: true}
	case 18, 19:
		name := g.pick([]string{"SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"})
		return cmd(append([]string{name, g.key(collSetKeys)}, g.keys(collSetKeys, 3)...)...)
	case 20:
		// A count larger than any set pops it whole: deterministic.
		return collCmd{args: []string{"SPOP", k, g.pick([]string{"1000", "600"})}, mode: "sort", intsExact: true}
	case 21:
		args := []string{"SRANDMEMBER", k}
		if g.chance(0.7) {
			args = append(args, g.randCount(false))
		}
		return collCmd{args: args, mode: "shape"}
	case 22:
		// The whole set, in the set's own order (not rebuilt as SPOP's).
		return collCmd{args: []string{"SRANDMEMBER", k, "1000"}, mode: "sort", compact: []string{k}}
	default:
		return collCmd{args: g.scanArgs("SSCAN", k), mode: "scan", compact: []string{k}}
	}
}

// zaddArgs returns a ZADD with random flags, mostly valid combinations.
func (g *collGen) zaddArgs(k string) []string {
	args := []string{"ZADD", k}
	incr := false
	for i := g.r.IntN(3); i > 0; i-- {
		f := g.pick([]string{"NX", "XX", "GT", "LT", "CH", "CH", "INCR", "nx", "gt"})
		incr = incr || f == "INCR"
		args = append(args, f)
	}
	pairs := 1 + g.r.IntN(3)
	if incr && g.chance(0.9) {
		pairs = 1
	}
	for i := 0; i < pairs; i++ {
		args = append(args, g.score(), g.member())
	}
	if g.chance(0.01) {
		// Past zset-max-listpack-entries: Redis converts to a skip list.
		for i := 0; i < 130; i++ {
			args = append(args, strconv.Itoa(i%9), "big"+strconv.Itoa(i))
		}
	}
	if g.chance(0.02) {
		args = args[:len(args)-1]
	}
	return args
}

// zrangeArgs returns a ZRANGE (or ZRANGESTORE dst) with random options.
func (g *collGen) zrangeArgs(head ...string) []string {
	args := append([]string(nil), head...)
	var by string
	switch g.r.IntN(4) {
	case 0:
		by = "BYSCORE"
	case 1:
		by = "BYLEX"
	}
	rev := g.chance(0.3)
	switch by {
	case "BYSCORE":
		args = append(args, g.scoreBound(), g.scoreBound(), by)
	case "BYLEX":
		args = append(args, g.lexBound(), g.lexBound(), by)
	default:
		args = append(args, g.smallInt(), g.smallInt())
	}
	if rev {
		args = append(args, "REV")
	}
	if g.chance(0.3) {
		args = append(args, "LIMIT", g.smallInt(), g.pick([]string{"1", "2", "5", "-1", "0"}))
	}
	if head[0] == "ZRANGE" && g.chance(0.4) {
		args = append(args, "WITHSCORES")
	}
	if opts := len(head) + 2; len(args)-opts >= 2 && g.chance(0.1) {
		// Swap two options: mostly fine (order does not matter), sometimes
		// a LIMIT's arguments get separated, which is an error.
		i, j := opts+g.r.IntN(len(args)-opts), opts+g.r.IntN(len(args)-opts)
		args[i], args[j] = args[j], args[i]
	}
	return args
}

// zalgebraOpts appends WEIGHTS / AGGREGATE / WITHSCORES options.
func (g *collGen) zalgebraOpts(args []string, nkeys int, diff, withScores bool) []string {
	if !diff && g.chance(0.4) {
		args = append(args, "WEIGHTS")
		n := nkeys
		if g.chance(0.05) {
			n++
		}
		for i := 0; i < n; i++ {
			args = append(args, g.pick([]string{"1", "2", "0", "-1", "0.5", "inf", "-inf", "abc", "3"}))
		}
	}
	if !diff && g.chance(0.4) {
		args = append(args, "AGGREGATE", g.pick([]string{"SUM", "MIN", "MAX", "sum", "max", "AVG"}))
	}
	if withScores && g.chance(0.5) {
		args = append(args, "WITHSCORES")
	}
	return args
}

// zset returns a sorted set command. A lex range over a regular zset key
// is sent only while Redis holds the key as a listpack (see
// collCmd.onlyCompact); the lex keys, whose scores are all equal, take lex
// ranges at any size.
func (g *collGen) zset() collCmd {
	if g.chance(0.15) {
		return g.lexZSet()
	}
	c := g.zsetAny()
	if isLex(c.args) {
		src := c.args[1]
		if strings.EqualFold(c.args[0], "ZRANGESTORE") {
			src = c.args[2]
		}
		c.onlyCompact = []string{src}
	}
	return c
}

// isLex reports whether args is a lex range command.
func isLex(args []string) bool {
	if strings.Contains(strings.ToUpper(args[0]), "LEX") {
		return true
	}
	for _, a := range args {
		if strings.EqualFold(a, "BYLEX") {
			return true
		}
	}
	return false
}

// lexZSet returns a command on the lex keys, which only ever hold
// members of score 0.
func (g *collGen) lexZSet() collCmd {
	k := g.pick(collLexKeys)
	switch g.r.IntN(14) {
	case 0, 1, 2:
		args := []string{"ZADD", k}
		if g.chance(0.3) {
			args = append(args, g.pick([]string{"NX", "XX", "CH"}))
		}
		for i := g.r.IntN(3); i >= 0; i-- {
			args = append(args, "0", g.member())
		}
		if g.chance(0.03) {
			for i := 0; i < 130; i++ {
				args = append(args, "0", "big"+strconv.Itoa(i))
			}
		}
		return cmd(args...)
	case 3:
		return cmd("ZREM", k, g.member(), g.member())
	case 4:
		return cmd("ZLEXCOUNT", k, g.lexBound(), g.lexBound())
	case 5, 6:
		name := g.pick([]string{"ZRANGEBYLEX", "ZREVRANGEBYLEX"})
		args := []string{name, k, g.lexBound(), g.lexBound()}
		if g.chance(0.3) {
			args = append(args, "LIMIT", g.smallInt(), g.pick([]string{"1", "3", "-1"}))
		}
		return cmd(args...)
	case 7, 8:
		args := []string{"ZRANGE", k, g.lexBound(), g.lexBound(), "BYLEX"}
		if g.chance(0.3) {
			args = append(args, "REV")
		}
		if g.chance(0.3) {
			args = append(args, "LIMIT", g.smallInt(), g.pick([]string{"1", "2", "-1"}))
		}
		return cmd(args...)
	case 9:
		return cmd("ZRANGESTORE", g.pick(collLexKeys), k, g.lexBound(), g.lexBound(), "BYLEX")
	case 10:
		return cmd("ZREMRANGEBYLEX", k, g.lexBound(), g.lexBound())
	case 11:
		return cmd(g.pick([]string{"ZPOPMIN", "ZPOPMAX"}), k, g.count())
	case 12:
		return cmd("ZCARD", k)
	default:
		return cmd("ZRANGE", k, "0", "-1")
	}
}

func (g *collGen) zsetAny() collCmd {
	k := g.key(collZKeys)
	// Sets are valid inputs of the zset algebra (score 1).
	inputs := concat(collZKeys, collZKeys, collSetKeys[:1])
	switch g.r.IntN(40) {
	case 0, 1, 2, 3, 4:
		return cmd(g.zaddArgs(k)...)
	case 5, 6:
		return cmd("ZINCRBY", k, g.score(), g.member())
	case 7, 8:
		args := []string{"ZREM", k}
		for i := g.r.IntN(3); i >= 0; i-- {
			args = append(args, g.member())
		}
		return cmd(args...)
	case 9:
		return cmd("ZCARD", k)
	case 10:
		return cmd("ZSCORE", k, g.member())
	case 11:
		args := []string{"ZMSCORE", k}
		for i := g.r.IntN(3); i >= 0; i-- {
			args = append(args, g.member())
		}
		return cmd(args...)
	case 12:
		return cmd(g.pick([]string{"ZRANK", "ZREVRANK"}), k, g.member())
	case 13:
		return cmd("ZCOUNT", k, g.scoreBound(), g.scoreBound())
	case 14:
		return cmd("ZLEXCOUNT", k, g.lexBound(), g.lexBound())
	case 15, 16, 17:
		return cmd(g.zrangeArgs("ZRANGE", k)...)
	case 18:
		return cmd(g.zrangeArgs("ZRANGESTORE", g.key(collZKeys), k)...)
	case 19, 20:
		name := g.pick([]string{"ZRANGEBYSCORE", "ZREVRANGEBYSCORE"})
		args := []string{name, k, g.scoreBound(), g.scoreBound()}
		if g.chance(0.4) {
			args = append(args, "WITHSCORES")
		}
		if g.chance(0.3) {
			args = append(args, "LIMIT", g.smallInt(), g.pick([]string{"1", "3", "-1", "0"}))
		}
		return cmd(args...)
	case 21:
		name := g.pick([]string{"ZRANGEBYLEX", "ZREVRANGEBYLEX"})
		args := []string{name, k, g.lexBound(), g.lexBound()}
		if g.chance(0.3) {
			args = append(args, "LIMIT", g.smallInt(), g.pick([]string{"1", "3", "-1"}))
		}
		return cmd(args...)
	case 22:
		args := []string{"ZREVRANGE", k, g.smallInt(), g.smallInt()}
		if g.chance(0.5) {
			args = append(args, "WITHSCORES")
		}
		return cmd(args...)
	case 23, 24:
		args := []string{g.pick([]string{"ZPOPMIN", "ZPOPMAX"}), k}
		if g.chance(0.5) {
			args = append(args, g.count())
		}
		return cmd(args...)
	case 25:
		args := append([]string{"ZMPOP"}, g.numKeys(collZKeys, 3)...)
		args = append(args, g.pick([]string{"MIN", "MAX", "min", "BOTH"}))
		if g.chance(0.5) {
			args = append(args, "COUNT", g.count())
		}
		return cmd(args...)
	case 26, 27:
		name := g.pick([]string{"ZUNION", "ZINTER"})
		nk := g.numKeys(inputs, 3)
		args := append([]string{name}, nk...)
		return cmd(g.zalgebraOpts(args, len(nk)-1, false, true)...)
	case 28:
		nk := g.numKeys(inputs, 3)
		args := append([]string{"ZDIFF"}, nk...)
		return cmd(g.zalgebraOpts(args, len(nk)-1, true, true)...)
	case 29, 30:
		name := g.pick([]string{"ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"})
		nk := g.numKeys(inputs, 3)
		args := append([]string{name, g.key(collZKeys)}, nk...)
		return cmd(g.zalgebraOpts(args, len(nk)-1, name == "ZDIFFSTORE", false)...)
	case 31:
		args := append([]string{"ZINTERCARD"}, g.numKeys(inputs, 3)...)
		if g.chance(0.4) {
			args = append(args, "LIMIT", g.pick([]string{"0", "1", "2", "-1"}))
		}
		return cmd(args...)
	case 32:
		return cmd("ZREMRANGEBYSCORE", k, g.scoreBound(), g.scoreBound())
	case 33:
		return cmd("ZREMRANGEBYRANK", k, g.smallInt(), g.smallInt())
	case 34:
		return cmd("ZREMRANGEBYLEX", k, g.lexBound(), g.lexBound())
	case 35:
		args := []string{"ZRANDMEMBER", k}
		if g.chance(0.7) {
			with := g.chance(0.5)
			args = append(args, g.randCount(with))
			if with {
				args = append(args, "WITHSCORES")
			}
		}
		return collCmd{args: args, mode: "shape"}
	case 36:
		args := []string{"ZRANDMEMBER", k, "1000"}
		mode := "sort"
		if g.chance(0.5) {
			args = append(args, "WITHSCORES")
			mode = "pairs"
		}
		return collCmd{args: args, mode: mode, compact: []string{k}}
	case 37:
		return cmd("ZRANGE", k, "0", "-1", "WITHSCORES")
	default:
		return collCmd{args: g.scanArgs("ZSCAN", k), mode: "scanpairs", compact: []string{k}}
	}
}

// generic returns a key command on collection keys.
func (g *collGen) generic() collCmd {
	k := g.pick(collAllKeys)
	switch g.r.IntN(11) {
	case 0, 1:
		return cmd("TYPE", k)
	case 2:
		return cmd("DEL", k, g.pick(collAllKeys))
	case 3:
		return cmd("EXISTS", k, g.pick(collAllKeys))
	case 4:
		// Mostly within a type, so that keys keep their types long enough.
		dst := g.pick(collAllKeys)
		for _, fam := range [][]string{collHashKeys, collListKeys, collSetKeys, collZKeys} {
			if slices.Contains(fam, k) && g.chance(0.8) {
				dst = g.pick(fam)
			}
		}
		return cmd(g.pick([]string{"RENAME", "RENAME", "RENAMENX"}), k, dst)
	case 5:
		return cmd("EXPIRE", k, g.pick([]string{"1000", "50000", "0", "-1"}))
	case 6:
		return cmd("PEXPIREAT", k, g.pick([]string{"1", "4102444800000"}))
	case 7:
		return cmd("PERSIST", k)
	case 8:
		return collCmd{args: []string{"TTL", k}, mode: "near"}
	case 9:
		return cmd("SET", "str", g.pick([]string{"v", "1", ""}))
	default:
		return cmd("EXISTS", k)
	}
}

// TestCollGenReplays checks that a seed always yields the same command
// stream, which -diff.seed relies on.
func TestCollGenReplays(t *testing.T) {
	a, b, c := newCollGen(7), newCollGen(7), newCollGen(8)
	same := true
	for i := 0; i < 5000; i++ {
		x, y, z := a.next(), b.next(), c.next()
		if quoteArgs(x.args) != quoteArgs(y.args) || x.mode != y.mode {
			t.Fatalf("command #%d: %s vs %s", i, quoteArgs(x.args), quoteArgs(y.args))
		}
		same = same && quoteArgs(x.args) == quoteArgs(z.args)
	}
	if same {
		t.Error("seeds 7 and 8 generated the same 5000 commands")
	}
}

// TestRandomCollections sends seeded random hash, list, set and sorted set
// commands to both servers, in RESP2 and RESP3, and compares every reply:
// byte for byte where Redis's reply is determined, as a multiset where its
// order is not (see collCmd), by shape for random replies. The seed is
// logged; -diff.seed replays it and -diff.colln sets the length.
func TestRandomCollections(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with: go test ./test/diff -run TestRandomCollections -args -diff.seed=%d -diff.colln=%d)", seed, seed, *flagCollN)
	redistest.Require(t, "redis-server")
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			runRandomColl(t, startPair(t), seed, proto)
		})
	}
}

func runRandomColl(t *testing.T, p pair, seed int64, proto int) {
	t.Helper()
	ref := &side{name: p.refName, addr: p.ref, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	sut := &side{name: p.sutName, addr: p.sut, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	defer ref.closeAll()
	defer sut.closeAll()
	rc, err := ref.get(1)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sut.get(1)
	if err != nil {
		t.Fatal(err)
	}
	setup := [][]string{{"FLUSHALL"}, {"SET", "str", "v"}}
	if proto == 3 {
		setup = append([][]string{{"HELLO", "3"}}, setup...)
	}
	for _, args := range setup {
		a, errA := rc.DoStrings(args...)
		b, errB := sc.DoStrings(args...)
		if errA != nil || errB != nil {
			t.Fatalf("setup %q: %v %v", args, errA, errB)
		}
		if ok, why := compare("shape", a, b); !ok {
			t.Fatalf("setup %q: %s: %q vs %q", args, why, a, b)
		}
	}
	g := newCollGen(seed)
	mismatches, exact, skipped, wrongType, errs := 0, 0, 0, 0, 0
	var history []string
	for i := 0; i < *flagCollN; i++ {
		c := g.next()
		text := quoteArgs(c.args)
		history = append(history, text)
		if send, err := compactAll(rc, c.onlyCompact); err != nil {
			t.Fatalf("seed %d command #%d: %s: probe: %v", seed, i, text, err)
		} else if !send {
			skipped++
			continue
		}
		mode, err := collMode(rc, c)
		if err != nil {
			t.Fatalf("seed %d command #%d: %s: probe: %v", seed, i, text, err)
		}
		a, b, err := collDo(rc, sc, mode, c.args)
		if err != nil {
			t.Fatalf("seed %d command #%d: %s: %v", seed, i, text, err)
		}
		if mode == "" && c.intsExact && !allInts(a) {
			mode = c.mode
		}
		if mode == "" {
			exact++
		}
		if bytes.HasPrefix(a, []byte("-WRONGTYPE")) {
			wrongType++
		} else if len(a) > 0 && a[0] == '-' {
			errs++
		}
		if *flagVerbose {
			t.Logf("#%d %s [%s] -> %s", i, text, mode, strconv.Quote(string(a)))
		}
		if ok, why := compareColl(mode, a, b); !ok {
			if mismatches == 0 {
				from := max(0, len(history)-15)
				t.Logf("commands before the first mismatch:\n    %s", strings.Join(history[from:], "\n    "))
			}
			t.Errorf("seed %d command #%d: %s (%s, mode %q)\n    %s: %s\n    %s: %s", seed, i, text, why, mode,
				p.refName, strconv.Quote(string(a)), p.sutName, strconv.Quote(string(b)))
			mismatches++
			if mismatches >= maxRandomMismatches {
				t.Fatalf("stopping after %d mismatches (seed %d)", mismatches, seed)
			}
		}
	}
	t.Logf("%d commands (%d compared byte for byte, %d lex ranges over a skip list skipped; %d WRONGTYPE, %d other errors), %d mismatches, %s vs %s, RESP%d (seed %d)",
		*flagCollN, exact, skipped, wrongType, errs, mismatches, p.refName, p.sutName, proto, seed)
}

// collMode decides how c's replies compare: "" (exactly) when Redis's
// reply order is determined, c.mode otherwise. It asks the reference
// OBJECT ENCODING of c.compact's keys.
func collMode(ref *conn, c collCmd) (string, error) {
	switch {
	case c.intsExact:
		return "", nil // decided on the reply: allInts
	case c.compact == nil:
		return c.mode, nil
	}
	ok, err := compactAll(ref, c.compact)
	if err != nil || !ok {
		return c.mode, err
	}
	// Compact: the order is defined, and a *SCAN's first call returns
	// everything with cursor 0.
	return "", nil
}

// compactAll reports whether the reference holds every one of keys
// compactly (listpack, intset) or not at all.
func compactAll(ref *conn, keys []string) (bool, error) {
	for _, k := range keys {
		rep, err := ref.DoStrings("OBJECT", "ENCODING", k)
		if err != nil {
			return false, err
		}
		switch string(rep) {
		case "$-1\r\n", "_\r\n", "$8\r\nlistpack\r\n", "$6\r\nintset\r\n":
		default:
			if strings.HasPrefix(string(rep), "-") {
				return false, fmt.Errorf("OBJECT ENCODING %q: %q", k, rep)
			}
			return false, nil
		}
	}
	return true, nil
}

// allInts reports whether the aggregate reply raw holds at most 512
// members, all canonical integers: a set Redis replies from an intset,
// in numeric order.
func allInts(raw []byte) bool {
	v, err := parseValue(raw)
	if err != nil || (v.typ != '*' && v.typ != '~') || len(v.elems) > 512 {
		return false
	}
	for _, e := range v.elems {
		if e.typ != '$' {
			return false
		}
		if _, ok := setIntString(string(e.str)); !ok {
			return false
		}
	}
	return true
}

func setIntString(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && strconv.FormatInt(n, 10) == s
}

// collDo sends args to both servers. In the modes "scan" and "scanpairs"
// each server is iterated from the given cursor back to 0 and the reply
// returned is a synthetic one listing the elements (or field/value pairs)
// sorted.
func collDo(ref, sut *conn, mode string, args []string) (a, b []byte, err error) {
	bs := make([][]byte, len(args))
	for i, s := range args {
		bs[i] = []byte(s)
	}
	if a, err = ref.Do(bs...); err != nil {
		return nil, nil, fmt.Errorf("reference: %w", err)
	}
	if b, err = sut.Do(bs...); err != nil {
		return nil, nil, fmt.Errorf("server under test: %w", err)
	}
	if string(a) == closedReply || string(b) == closedReply {
		return nil, nil, fmt.Errorf("connection closed: %q vs %q", a, b)
	}
	if mode != "scan" && mode != "scanpairs" {
		return a, b, nil
	}
	if a, err = scanRest(ref, bs, a, mode == "scanpairs"); err != nil {
		return nil, nil, fmt.Errorf("reference: %w", err)
	}
	if b, err = scanRest(sut, bs, b, mode == "scanpairs"); err != nil {
		return nil, nil, fmt.Errorf("server under test: %w", err)
	}
	return a, b, nil
}

// scanRest continues a key-scan (HSCAN key cursor ...) whose first reply
// is first and returns "*N\r\n" followed by the sorted elements (pairs
// concatenated when pairs is set), or first itself when it is not a
// cursor reply.
func scanRest(c *conn, args [][]byte, first []byte, pairs bool) ([]byte, error) {
	var all []string
	rep := first
	for iter := 0; ; iter++ {
		v, err := parseValue(rep)
		if err != nil {
			return nil, err
		}
		if v.typ != '*' || len(v.elems) != 2 || v.elems[0].typ != '$' || v.elems[1].typ != '*' {
			if iter == 0 {
				return rep, nil
			}
			return nil, fmt.Errorf("iteration %d answered %q", iter, rep)
		}
		es := v.elems[1].elems
		if pairs && len(es)%2 != 0 {
			return nil, fmt.Errorf("odd number of elements in %q", rep)
		}
		for i := 0; i < len(es); i++ {
			s := string(es[i].raw)
			if pairs {
				i++
				s += string(es[i].raw)
			}
			all = append(all, s)
		}
		if string(v.elems[0].str) == "0" {
			break
		}
		if iter > 100000 {
			return nil, fmt.Errorf("no end after %d calls", iter)
		}
		next := append([][]byte(nil), args...)
		next[2] = v.elems[0].str
		if rep, err = c.Do(next...); err != nil {
			return nil, err
		}
	}
	sort.Strings(all)
	out := []byte("*" + strconv.Itoa(len(all)) + "\r\n")
	for _, e := range all {
		out = append(out, e...)
	}
	return out, nil
}

// compareColl is compare with two more modes: "pairs" compares an
// aggregate of field/value pairs (a RESP2 flat array, a RESP3 map or an
// array of two-element arrays) as a multiset of pairs; "near" accepts
// integers that differ by at most 1 when both are positive (a TTL read a
// second boundary apart). "scanpairs" replies are already canonical.
func compareColl(mode string, a, b []byte) (bool, string) {
	if bytes.Equal(a, b) {
		return true, ""
	}
	switch mode {
	case "scanpairs":
		return compare("scan", a, b)
	case "near":
		x, errX := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(string(a), ":"), "\r\n"), 10, 64)
		y, errY := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(string(b), ":"), "\r\n"), 10, 64)
		if errX == nil && errY == nil && x > 0 && y > 0 && x-y <= 1 && y-x <= 1 {
			return true, ""
		}
		return false, "replies differ"
	case "pairs":
		ea, oka := pairElems(a)
		eb, okb := pairElems(b)
		if !oka || !okb || a[0] != b[0] || len(ea) != len(eb) {
			return false, "replies differ"
		}
		for i := range ea {
			if ea[i] != eb[i] {
				return false, fmt.Sprintf("sorted pairs differ: %q vs %q", ea[i], eb[i])
			}
		}
		return true, ""
	}
	return compare(mode, a, b)
}

// pairElems returns the pairs of a pair aggregate as sorted strings.
func pairElems(raw []byte) ([]string, bool) {
	v, err := parseValue(raw)
	if err != nil {
		return nil, false
	}
	var out []string
	switch {
	case v.typ == '%':
		return sortedElems(v)
	case v.typ == '*' && len(v.elems) > 0 && v.elems[0].typ == '*':
		return sortedElems(v)
	case v.typ == '*' && len(v.elems)%2 == 0:
		for i := 0; i < len(v.elems); i += 2 {
			out = append(out, string(v.elems[i].raw)+string(v.elems[i+1].raw))
		}
	default:
		return nil, false
	}
	sort.Strings(out)
	return out, true
}
