package difftest

import (
	"context"
	"testing"
	"time"

	"github.com/toonstore/toonstore/pkg/server"
)

// startTstd starts the server under test in-process on a free loopback port
// with a fresh data directory and stops it in t.Cleanup.
func startTstd(t *testing.T) string {
	t.Helper()
	s, err := server.Start(server.Options{Addr: "127.0.0.1:0", Dir: t.TempDir(), StopTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("start tstd: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close tstd: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatalf("tstd did not load: %v", err)
	}
	return s.Addr()
}
