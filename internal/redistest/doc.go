// Package redistest is test support for differential tests against a real
// redis-server 7.0: it finds the Redis tools, starts a throwaway
// redis-server on a free loopback port, and talks RESP to it.
//
// It is imported only by _test.go files (the architecture test keeps it out
// of every package's non-test imports) and uses only the standard library.
//
// # Finding Redis
//
// A test that needs a Redis tool calls Require (Start does it for
// redis-server). When the tool is not in PATH the test is skipped with a
// reason, unless the environment sets TSTD_REQUIRE_REDIS=1, as CI does: then
// it fails, so that CI never skips a differential test silently.
//
// # Servers
//
// Start runs redis-server on 127.0.0.1 with no persistence (unless asked),
// in a fresh t.TempDir(), waits until it answers PING, and kills it in
// t.Cleanup. A server is never shut down cleanly, so it writes no RDB file
// on exit.
//
// # Clients
//
// Conn is a minimal RESP client: Do decodes RESP2 replies into Go values,
// DoRaw returns a reply's exact bytes (RESP2 or RESP3) for byte-for-byte
// comparison. ReadReply and AppendCommand are the wire-level halves, for
// tests with their own connection handling. The reader is strict: it
// rejects what is not valid RESP instead of guessing, so a malformed reply
// from a server under test is a test failure, not a silent pass.
package redistest
