package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/pkg/server"
)

// TestHealthLoading: a server still loading its dataset (held in its load
// in-process) is reported as loading: exit 1 (not ready), or exit 0 with
// --loading-ok (alive, for liveness probes); once loaded, healthy.
func TestHealthLoading(t *testing.T) {
	gate := make(chan struct{})
	s, err := server.Start(server.Options{Addr: "127.0.0.1:0", Dir: t.TempDir(), Loops: 1, BeforeLoad: func() { <-gate }})
	if err != nil {
		t.Fatal(err)
	}
	released := false
	t.Cleanup(func() {
		if !released {
			close(gate)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"loading", []string{"health", "--addr", s.Addr()}, 1, "loading the dataset (0.00% of 0 bytes, eta"},
		{"loading ok", []string{"health", "--addr", s.Addr(), "--loading-ok"}, 0, "alive: " + s.Addr() + " is loading the dataset"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runTstd(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, output %q; want %d and %q", code, out, tc.code, tc.out)
			}
		})
	}
	close(gate)
	released = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if code, out := runTstd(t, nil, "health", "--addr", s.Addr(), "--loading-ok"); code != 0 || !strings.Contains(out, "healthy") {
		t.Fatalf("after the load: exit %d, output %q", code, out)
	}
}
