package difftest

import (
	"flag"
	"testing"

	"github.com/toonstore/toonstore/internal/redistest"
)

var (
	flagAgainst = flag.String("diff.against", "tstd",
		"server compared with redis-server: tstd, or redis to validate the harness with two redis-servers")
	flagN       = flag.Int("diff.n", 2000, "number of commands TestRandom sends")
	flagSeed    = flag.Int64("diff.seed", 0, "TestRandom seed; 0 picks one from the clock")
	flagVerbose = flag.Bool("diff.v", false, "log every command with the reference reply")
)

// pair is the two servers under comparison: ref is always a real
// redis-server, sut the server under test.
type pair struct {
	refName, sutName string
	ref, sut         string // addresses "127.0.0.1:port"
}

// startPair starts a redis-server as the reference (internal/redistest: no
// persistence; the test skips without Redis unless TSTD_REQUIRE_REDIS=1)
// and the server selected by -diff.against as the server under test. Both
// stop in t.Cleanup.
func startPair(t *testing.T) pair {
	t.Helper()
	ref := redistest.Start(t, redistest.Options{}).Addr
	switch *flagAgainst {
	case "redis":
		return pair{refName: "redis", sutName: "redis#2", ref: ref, sut: redistest.Start(t, redistest.Options{}).Addr}
	case "tstd":
		return pair{refName: "redis", sutName: "tstd", ref: ref, sut: startTstd(t)}
	}
	t.Fatalf("-diff.against=%q: want tstd or redis", *flagAgainst)
	return pair{}
}
