package clients

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
	"github.com/toonstore/toonstore/pkg/server"
)

// Server kinds a target can be.
const (
	kindTstd  = "tstd"
	kindRedis = "redis"
)

// target is one running server a client test talks to.
type target struct {
	Kind string // kindTstd or kindRedis
	Host string // always 127.0.0.1
	Port int
}

// Addr is host:port.
func (tg target) Addr() string { return net.JoinHostPort(tg.Host, strconv.Itoa(tg.Port)) }

// eachServer runs fn twice: against a fresh in-process tstd (server=tstd)
// and against a fresh redis-server (server=redis), which proves that what fn
// asserts is Redis's behaviour. Both servers are closed when the subtest
// ends.
func eachServer(t *testing.T, fn func(t *testing.T, tg target)) {
	t.Helper()
	t.Run("server="+kindTstd, func(t *testing.T) { fn(t, startTstd(t)) })
	t.Run("server="+kindRedis, func(t *testing.T) { fn(t, startRedis(t)) })
}

// startTstd starts tstd in-process on a free loopback port over a temporary
// directory, and closes it (checking the error) in t.Cleanup.
func startTstd(t *testing.T) target {
	t.Helper()
	s, err := server.Start(server.Options{
		Addr:        "127.0.0.1:0",
		Dir:         t.TempDir(),
		StopTimeout: 10 * time.Second,
	})
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
	host, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatalf("tstd address %q: %v", s.Addr(), err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatalf("tstd port %q: %v", port, err)
	}
	return target{Kind: kindTstd, Host: host, Port: p}
}

// required reports whether missing tools must fail the tests (CI sets
// TSTD_REQUIRE_REDIS=1) instead of skipping them.
func required() bool { return os.Getenv("TSTD_REQUIRE_REDIS") == "1" }

// missing skips t, or fails it when required(), because a tool is missing.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if required() {
		t.Fatalf("%s, and TSTD_REQUIRE_REDIS=1", msg)
	}
	t.Skipf("skipping: %s (set TSTD_REQUIRE_REDIS=1 to make this a failure)", msg)
}

// lookTool returns the path of an executable on PATH, or skips/fails t
// (see missing) with hint saying how to install it.
func lookTool(t *testing.T, name, hint string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s not found in PATH (%s)", name, hint)
	}
	return p
}

// startRedis starts a redis-server with no persistence on a free loopback
// port (internal/redistest: skips or, with TSTD_REQUIRE_REDIS=1, fails when
// redis-server is missing), killed in t.Cleanup.
func startRedis(t *testing.T) target {
	t.Helper()
	rs := redistest.Start(t, redistest.Options{})
	return target{Kind: kindRedis, Host: "127.0.0.1", Port: rs.Port}
}

// testCtx returns a context that ends after d or when t ends.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// runScript runs name with args in dir, bounded by timeout, and fails t with
// the whole output when it exits non-zero or times out. It returns the
// combined output.
func runScript(t *testing.T, timeout time.Duration, dir string, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: timed out after %v; output:\n%s", name, strings.Join(args, " "), timeout, out)
	}
	if err != nil {
		t.Fatalf("%s %s: %v; output:\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// binaryValue returns every byte value 0..255 twice, then CR LF, NUL and
// invalid UTF-8 runs: a value no text codec round-trips by accident.
func binaryValue() []byte {
	b := make([]byte, 0, 600)
	for range 2 {
		for i := range 256 {
			b = append(b, byte(i))
		}
	}
	return append(b, "\r\n\x00\r\n\xff\xfe\xc3\x28$-1\r\n*3\r\n"...)
}
