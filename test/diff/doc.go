// Package difftest is the differential proof that tstd speaks Redis: it runs
// the same commands against an in-process tstd (pkg/server) and a real
// redis-server 7.0 and compares the raw RESP replies byte for byte.
//
// The package holds only tests. Four of them:
//
//   - TestScripts replays testdata/*.txt, command scripts in redis-cli-like
//     quoting with per-command directives (see script_test.go), once in RESP2
//     and once in RESP3.
//   - TestProtocol sends raw, often malformed, byte sequences and compares the
//     whole byte stream each server answers with.
//   - TestRandom sends seeded random string and key commands over a small
//     keyspace; -diff.seed replays a failing run.
//   - TestRandomCollections sends seeded random hash, list, set and sorted
//     set commands over a keyspace of a few keys per type (collections grow,
//     shrink, empty, change type; WRONGTYPE), byte for byte wherever Redis's
//     reply is determined (random_coll_test.go says when it is not);
//     -diff.seed replays it, -diff.colln sets its length (3000 per protocol).
//
// Flags (after -args): -diff.against=redis compares two redis-servers, which
// validates the harness itself; -diff.n and -diff.seed size and replay
// TestRandom. A missing redis-server skips the tests with a reason, unless
// TSTD_REQUIRE_REDIS=1 is set, in which case they fail.
package difftest
