package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startTimeout bounds the wait for a started redis-server to answer PING.
const startTimeout = 10 * time.Second

// startAttempts is how many ports Start tries: a port FreePort found free
// may be taken by another process before redis-server binds it.
const startAttempts = 3

// Require returns the path of the Redis tool named tool ("redis-server",
// "redis-cli", "redis-benchmark"). When it is not in PATH it skips t with a
// reason, or fails t when the environment sets TSTD_REQUIRE_REDIS=1 (CI);
// either way it does not return.
func Require(t testing.TB, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err == nil {
		return path
	}
	if os.Getenv("TSTD_REQUIRE_REDIS") == "1" {
		t.Fatalf("%s not found in PATH and TSTD_REQUIRE_REDIS=1: %v", tool, err)
	}
	t.Skipf("skipping: %s not found in PATH (%v); the test needs Redis 7.0 (apt-get install redis-server redis-tools); set TSTD_REQUIRE_REDIS=1 to make this a failure", tool, err)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago. Another
// process may take it before the caller binds it.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Options configure Start.
type Options struct {
	// Args are extra redis-server arguments, e.g. {"--requirepass", "pw"}.
	// They come after Start's own, so they may override them.
	Args []string
	// KeepSave omits `--save ""`, leaving Redis's default save points (or
	// the ConfigFile's), for tests that compare default configuration.
	// The server is killed, never shut down, so it still writes no RDB
	// file unless the test asks for one.
	KeepSave bool
	// ConfigFile, if set, is passed to redis-server as its configuration
	// file (CONFIG REWRITE writes to it). Start's flags come after it and
	// override its port, bind, dir, appendonly and daemonize.
	ConfigFile string
}

// Server is a running redis-server started by Start.
type Server struct {
	Addr string // "127.0.0.1:port"
	Port int
}

// Start starts redis-server (found with Require) with
//
//	--port P --bind 127.0.0.1 --save "" --appendonly no --daemonize no --dir t.TempDir()
//
// and opts.Args, on a free port P, waits until it answers PING (at most
// 10 s), and kills it and waits for it in t.Cleanup. A server that exits
// during start-up (its port was taken) is retried on another port; if none
// comes up, t fails with redis-server's output.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Require(t, "redis-server")
	var errs []error
	for range startAttempts {
		s, err := tryStart(t, bin, opts)
		if err == nil {
			return s
		}
		errs = append(errs, err)
	}
	t.Fatalf("start redis-server: %v", errors.Join(errs...))
	return nil
}

// tryStart makes one attempt of Start on one port.
func tryStart(t testing.TB, bin string, opts Options) (*Server, error) {
	t.Helper()
	port := FreePort(t)
	var args []string
	if opts.ConfigFile != "" {
		args = append(args, opts.ConfigFile) // redis-server wants it first
	}
	args = append(args, "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	if !opts.KeepSave {
		args = append(args, "--save", "")
	}
	args = append(args, "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	args = append(args, opts.Args...)
	cmd := exec.Command(bin, args...)
	// out is written by exec's copying goroutine until the process exits:
	// read it only after <-exited.
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("exec %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("redis-server %s exited during start-up:\n%s", strings.Join(args, " "), out.String())
		default:
		}
		if Ping(addr) == nil {
			t.Cleanup(stop)
			return &Server{Addr: addr, Port: port}, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("redis-server on %s did not answer PING within %v:\n%s", addr, startTimeout, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Ping sends PING on a new connection to addr and returns nil if the server
// answers +PONG, or NOAUTH (a server that requires a password is up too).
// It gives up after about 3 s. It is safe for concurrent use.
func Ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("PING %s: %w (read %q)", addr, err, line)
	}
	if line != "+PONG\r\n" && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("PING %s: %q", addr, line)
	}
	return nil
}
