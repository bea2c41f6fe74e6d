package command

import (
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
)

// newTestServer returns a command server over a fresh cache in a temp dir,
// closed at the end of the test. cfg may be nil.
func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	c, err := cache.New(t.TempDir(), 1000)
	if err != nil {
		t.Fatalf("cache.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return NewServer(c, cfg, nil)
}

// do executes one command for client cl and returns the raw RESP reply.
func do(t *testing.T, s *Server, cl *Client, args ...string) string {
	t.Helper()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	return string(s.Execute(cl, bargs, nil))
}

// require_Equal fails the test if got != want.
func require_Equal[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}
