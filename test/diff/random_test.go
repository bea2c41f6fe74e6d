package difftest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
)

// maxRandomMismatches stops a TestRandom run after this many mismatches:
// once the servers disagree their states diverge and later mismatches are
// mostly echoes of the first.
const maxRandomMismatches = 10

// gen generates random string and key commands over a small keyspace. It
// keeps a conservative model of which keys may carry a relative TTL: their
// expiry instant differs by the microseconds between the two sends, so
// TTL, PTTL, EXPIRETIME and PEXPIRETIME are asked only of keys that surely
// carry no relative TTL. Relative TTLs are at least 1000 s and absolute
// ones either long past or decades ahead, so nothing expires while a run
// is in progress except at once.
type gen struct {
	r      *rand.Rand
	db     int
	fuzzy  [randomDBs]map[string]bool // per database: key may carry a relative TTL
	linger [randomDBs]map[string]bool // per database: expired key may still be counted by DBSIZE
}

// randomDBs is how many databases TestRandom uses.
const randomDBs = 3

func newGen(seed int64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))}
	for i := range g.fuzzy {
		g.fuzzy[i] = map[string]bool{}
		g.linger[i] = map[string]bool{}
	}
	return g
}

var randomKeys = []string{
	"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9",
	"k10", "k11", "key", "kk", "", "bin\x00\r\n", "n0", "n1", "f0", "f1",
}

var randomPatterns = []string{
	"*", "k*", "k?", "k??", "k[0-4]", "k[^0-4]*", "*1*", "n*", "f?", "", "bin*", "\\k*", "[kn]?", "*\x00*",
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) key() string             { return g.pick(randomKeys) }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }

// value returns a random value: numbers, floats, edge numbers, binary.
func (g *gen) value() string {
	switch g.r.IntN(12) {
	case 0:
		return ""
	case 1:
		return strconv.Itoa(g.r.IntN(2001) - 1000)
	case 2:
		return g.pick([]string{"9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807", "99999999999999999999"})
	case 3:
		return strconv.FormatFloat(g.r.Float64()*200-100, 'f', g.r.IntN(6), 64)
	case 4:
		return g.pick([]string{"1e3", "5.0e3", "0.1", "-0", "+1", " 1", "1 ", "01", "0x10", "inf", "nan", "1.5\x00", "3.0000000000000000001"})
	case 5:
		return "a\r\nb\x00c\xff"
	case 6:
		return strings.Repeat(string(rune('a'+g.r.IntN(26))), g.r.IntN(300))
	default:
		return g.pick([]string{"v", "hello", "world", "x", "12", "-3", "7.25"})
	}
}

// intArg returns an integer-ish argument: mostly small valid values,
// sometimes zero, negative, overflowing or not a number.
func (g *gen) intArg() string {
	switch g.r.IntN(10) {
	case 0:
		return g.pick([]string{"abc", "", "1.5", " 1", "+1", "01", "-0", "99999999999999999999", "9223372036854775808"})
	case 1:
		return g.pick([]string{"9223372036854775807", "-9223372036854775808", "-9223372036854775807", "0"})
	case 2:
		return strconv.Itoa(-g.r.IntN(20))
	default:
		return strconv.Itoa(g.r.IntN(100))
	}
}

// relSeconds returns a relative TTL in seconds that is either invalid,
// zero or negative (the key is deleted at once) or at least 1000 s.
func (g *gen) relSeconds() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick([]string{"0", "-1", "-100", "abc", "9223372036854775807", "1.5", ""})
	default:
		return strconv.Itoa(1000 + g.r.IntN(100000))
	}
}

// relMillis is relSeconds in milliseconds.
func (g *gen) relMillis() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick([]string{"0", "-1", "-100", "abc", "9223372036854775807", "1.5"})
	default:
		return strconv.Itoa(1000000 + g.r.IntN(100000000))
	}
}

// absSeconds returns an absolute Unix time: in the past (delete at once),
// far ahead, or invalid.
func (g *gen) absSeconds() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick([]string{"0", "1", "-1", "1000", "abc", "9223372036854775807"})
	default:
		return strconv.Itoa(4102444800 + g.r.IntN(1000))
	}
}

func (g *gen) absMillis() string {
	switch g.r.IntN(6) {
	case 0:
		return g.pick([]string{"0", "1", "-1", "1000", "abc", "9223372036854775807"})
	default:
		return strconv.Itoa(4102444800000 + g.r.IntN(1000000))
	}
}

func (g *gen) markFuzzy(k string)    { g.fuzzy[g.db][k] = true }
func (g *gen) clearFuzzy(k string)   { delete(g.fuzzy[g.db], k) }
func (g *gen) isFuzzy(k string) bool { return g.fuzzy[g.db][k] }
func (g *gen) expireFlag() []string {
	switch g.r.IntN(8) {
	case 0:
		return []string{"NX"}
	case 1:
		return []string{"XX"}
	case 2:
		return []string{"GT"}
	case 3:
		return []string{"LT"}
	case 4:
		return []string{g.pick([]string{"NX", "XX", "GT", "LT", "nx", "gt"}), g.pick([]string{"NX", "XX", "GT", "LT", "bogus"})}
	}
	return nil
}

// next returns the next command and how to compare its reply ("" exact,
// "sort" or "scan").
func (g *gen) next() (args []string, mode string) {
	k := g.key()
	switch n := g.r.IntN(100); {
	case n < 10:
		return []string{"GET", k}, ""
	case n < 22:
		return g.set(k), ""
	case n < 24:
		return []string{"SETNX", k, g.value()}, ""
	case n < 26:
		g.markFuzzy(k)
		return []string{"SETEX", k, g.relSeconds(), g.value()}, ""
	case n < 27:
		g.markFuzzy(k)
		return []string{"PSETEX", k, g.relMillis(), g.value()}, ""
	case n < 29:
		g.clearFuzzy(k)
		return []string{"GETSET", k, g.value()}, ""
	case n < 30:
		g.clearFuzzy(k)
		return []string{"GETDEL", k}, ""
	case n < 32:
		return g.getex(k), ""
	case n < 34:
		args = []string{"MGET"}
		for i := g.r.IntN(5); i >= 0; i-- {
			args = append(args, g.key())
		}
		return args, ""
	case n < 36:
		cmd := g.pick([]string{"MSET", "MSETNX"})
		odd := g.chance(0.05) // wrong arity: fails, changes nothing
		args = []string{cmd}
		for i := g.r.IntN(4); i >= 0; i-- {
			kk := g.key()
			if cmd == "MSET" && !odd {
				g.clearFuzzy(kk)
			}
			args = append(args, kk, g.value())
		}
		if odd {
			args = args[:len(args)-1]
		}
		return args, ""
	case n < 39:
		return []string{"APPEND", k, g.value()}, ""
	case n < 40:
		return []string{"STRLEN", k}, ""
	case n < 42:
		return []string{"GETRANGE", k, g.intArg(), g.intArg()}, ""
	case n < 44:
		off := strconv.Itoa(g.r.IntN(60))
		if g.chance(0.1) {
			off = g.pick([]string{"-1", "536870912", "abc", "9223372036854775807"})
		}
		return []string{"SETRANGE", k, off, g.value()}, ""
	case n < 50:
		switch g.r.IntN(5) {
		case 0:
			return []string{"INCR", k}, ""
		case 1:
			return []string{"DECR", k}, ""
		case 2:
			return []string{"INCRBY", k, g.intArg()}, ""
		case 3:
			return []string{"DECRBY", k, g.intArg()}, ""
		}
		return []string{"INCRBYFLOAT", k, g.value()}, ""
	case n < 54:
		cmd := g.pick([]string{"DEL", "UNLINK", "EXISTS", "TOUCH"})
		args = []string{cmd}
		for i := g.r.IntN(3); i >= 0; i-- {
			kk := g.key()
			if cmd == "DEL" || cmd == "UNLINK" {
				g.clearFuzzy(kk)
			}
			args = append(args, kk)
		}
		return args, ""
	case n < 56:
		return []string{"TYPE", k}, ""
	case n < 59:
		dst := g.key()
		if g.isFuzzy(k) {
			g.markFuzzy(dst)
		}
		return []string{g.pick([]string{"RENAME", "RENAMENX"}), k, dst}, ""
	case n < 61:
		return []string{"KEYS", g.pick(randomPatterns)}, "sort"
	case n < 63:
		args = []string{"SCAN", "0"}
		if g.chance(0.5) {
			args = append(args, "MATCH", g.pick(randomPatterns))
		}
		if g.chance(0.5) {
			args = append(args, "COUNT", strconv.Itoa(1+g.r.IntN(5)))
		}
		if g.chance(0.2) {
			args = append(args, "TYPE", g.pick([]string{"string", "list", "STRING"}))
		}
		return args, "scan"
	case n < 70:
		return g.expire(k), ""
	case n < 73:
		g.clearFuzzy(k)
		return []string{"PERSIST", k}, ""
	case n < 78:
		if g.isFuzzy(k) {
			return []string{"EXISTS", k}, ""
		}
		// TTL and PTTL count down from absolute expiries too and could
		// tick between the two sends; EXPIRETIME and PEXPIRETIME cannot.
		return []string{g.pick([]string{"EXPIRETIME", "PEXPIRETIME"}), k}, ""
	case n < 80:
		if len(g.linger[g.db]) > 0 {
			// Look a lingering key up first; the smallest, so that a seed
			// always replays the same stream.
			lk := slices.Min(slices.Collect(maps.Keys(g.linger[g.db])))
			delete(g.linger[g.db], lk)
			return []string{"EXISTS", lk}, ""
		}
		return []string{"DBSIZE"}, ""
	case n < 84:
		db := g.r.IntN(randomDBs)
		if g.chance(0.05) {
			return []string{"SELECT", g.pick([]string{"16", "-1", "abc"})}, ""
		}
		g.db = db
		return []string{"SELECT", strconv.Itoa(db)}, ""
	case n < 86:
		a, b := g.r.IntN(randomDBs), g.r.IntN(randomDBs)
		g.fuzzy[a], g.fuzzy[b] = g.fuzzy[b], g.fuzzy[a]
		g.linger[a], g.linger[b] = g.linger[b], g.linger[a]
		return []string{"SWAPDB", strconv.Itoa(a), strconv.Itoa(b)}, ""
	case n < 87:
		if g.chance(0.3) {
			g.fuzzy[g.db] = map[string]bool{}
			g.linger[g.db] = map[string]bool{}
			return []string{"FLUSHDB"}, ""
		}
		return []string{"EXISTS", k}, ""
	case n < 89:
		// RANDOMKEY is deterministic only on a database of at most one
		// key, which the generator does not track; STRLEN instead.
		return []string{"STRLEN", k}, ""
	default:
		// Wrong arity and bad options of a random command.
		bad := [][]string{
			{"GET"}, {"SET", k}, {"INCRBY", k}, {"MSET", k}, {"GETRANGE", k, "0"},
			{"EXPIRE", k}, {"RENAME", k}, {"SET", k, "v", "EX"}, {"SET", k, "v", "NX", "XX"},
			{"GETEX", k, "EX", "100", "PERSIST"}, {"SETEX", k, "100"}, {"NOSUCH", k},
		}
		return bad[g.r.IntN(len(bad))], ""
	}
}

// set returns a SET with 0-3 random options, conflicting ones included.
func (g *gen) set(k string) []string {
	args := []string{"SET", k, g.value()}
	rel := false
	for i := g.r.IntN(4); i > 0; i-- {
		switch g.r.IntN(9) {
		case 0:
			args = append(args, "NX")
		case 1:
			args = append(args, "XX")
		case 2:
			args = append(args, "GET")
		case 3:
			args = append(args, "KEEPTTL")
		case 4:
			args = append(args, "EX", g.relSeconds())
			rel = true
		case 5:
			args = append(args, "PX", g.relMillis())
			rel = true
		case 6:
			args = append(args, "EXAT", g.absSeconds())
		case 7:
			args = append(args, "PXAT", g.absMillis())
		case 8:
			args = append(args, g.pick([]string{"nx", "get", "ex", "BOGUS"}))
		}
	}
	if rel {
		g.markFuzzy(k)
	}
	if len(args) == 3 {
		// A plain SET always succeeds and drops any TTL. With options it
		// may fail (NX, a syntax error) and keep the old TTL, so the model
		// clears nothing then.
		g.clearFuzzy(k)
	}
	// Redis 7.0 stores a SET whose absolute expiry is already past: the
	// key lingers, invisible, until a lookup or active expiry deletes it,
	// and DBSIZE counts it meanwhile, for a time that differs between
	// servers. The model remembers such keys until a lookup.
	for i := 3; i+1 < len(args); i++ {
		if (args[i] == "EXAT" || args[i] == "PXAT") && (args[i+1] == "1" || args[i+1] == "1000") {
			g.linger[g.db][k] = true
		}
	}
	return args
}

// getex returns a GETEX with random options.
func (g *gen) getex(k string) []string {
	args := []string{"GETEX", k}
	switch g.r.IntN(7) {
	case 0:
		args = append(args, "EX", g.relSeconds())
		g.markFuzzy(k)
	case 1:
		args = append(args, "PX", g.relMillis())
		g.markFuzzy(k)
	case 2:
		args = append(args, "EXAT", g.absSeconds())
	case 3:
		args = append(args, "PXAT", g.absMillis())
	case 4:
		args = append(args, "PERSIST")
	case 5:
		args = append(args, g.pick([]string{"EX", "BOGUS", "persist"}))
	}
	return args
}

// expire returns one of the EXPIRE family with random flags.
func (g *gen) expire(k string) []string {
	var args []string
	switch g.r.IntN(4) {
	case 0:
		args = []string{"EXPIRE", k, g.relSeconds()}
		g.markFuzzy(k)
	case 1:
		args = []string{"PEXPIRE", k, g.relMillis()}
		g.markFuzzy(k)
	case 2:
		args = []string{"EXPIREAT", k, g.absSeconds()}
	default:
		args = []string{"PEXPIREAT", k, g.absMillis()}
	}
	return append(args, g.expireFlag()...)
}

// TestRandom sends seeded random string and key commands to both servers,
// in RESP2 and in RESP3, and compares every reply byte for byte. The seed
// is logged; -diff.seed replays it, -diff.n sets the length.
func TestRandom(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (replay with: go test ./test/diff -run TestRandom -args -diff.seed=%d -diff.n=%d)", seed, seed, *flagN)
	redistest.Require(t, "redis-server")
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			runRandom(t, startPair(t), seed, proto)
		})
	}
}

func runRandom(t *testing.T, p pair, seed int64, proto int) {
	t.Helper()
	ref := &side{name: p.refName, addr: p.ref, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	sut := &side{name: p.sutName, addr: p.sut, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	defer ref.closeAll()
	defer sut.closeAll()
	if proto == 3 {
		if step1(t, "setup", "HELLO 3", "shape", ref, sut, 1, [][]byte{[]byte("HELLO"), []byte("3")}) > 0 {
			t.FailNow()
		}
	}
	g := newGen(seed)
	mismatches := 0
	var history []string
	for i := 0; i < *flagN; i++ {
		args, mode := g.next()
		text := quoteArgs(args)
		history = append(history, text)
		bs := make([][]byte, len(args))
		for j, a := range args {
			bs[j] = []byte(a)
		}
		where := fmt.Sprintf("seed %d command #%d", seed, i)
		if step1(t, where, text, mode, ref, sut, 1, bs) > 0 {
			if mismatches == 0 {
				from := max(0, len(history)-15)
				t.Logf("commands before the first mismatch:\n    %s", strings.Join(history[from:], "\n    "))
			}
			mismatches++
			if mismatches >= maxRandomMismatches {
				t.Fatalf("stopping after %d mismatches (seed %d)", mismatches, seed)
			}
		}
	}
	t.Logf("%d commands, %d mismatches, %s vs %s (seed %d)", *flagN, mismatches, p.refName, p.sutName, seed)
}

// quoteArgs renders args in the script syntax, for messages.
func quoteArgs(args []string) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\r\n\"'\\\x00") && strconv.CanBackquote(a) {
			parts[i] = a
		} else {
			parts[i] = strconv.Quote(a)
		}
	}
	return strings.Join(parts, " ")
}
