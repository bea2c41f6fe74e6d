package difftest

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
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

// startPair starts a redis-server as the reference and the server selected
// by -diff.against as the server under test. Both stop in t.Cleanup.
func startPair(t *testing.T) pair {
	t.Helper()
	ref := startRedis(t)
	switch *flagAgainst {
	case "redis":
		return pair{refName: "redis", sutName: "redis#2", ref: ref, sut: startRedis(t)}
	case "tstd":
		return pair{refName: "redis", sutName: "tstd", ref: ref, sut: startTstd(t)}
	}
	t.Fatalf("-diff.against=%q: want tstd or redis", *flagAgainst)
	return pair{}
}

// requireRedis skips t (or fails it when TSTD_REQUIRE_REDIS=1) when
// redis-server is not installed, and returns its path.
func requireRedis(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("TSTD_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found in PATH and TSTD_REQUIRE_REDIS=1: %v", err)
		}
		t.Skipf("redis-server not found in PATH (%v): the differential tests need Redis 7.0; set TSTD_REQUIRE_REDIS=1 to make this a failure", err)
	}
	return path
}

// freePort returns a loopback port that was free a moment ago. Another
// process may take it before redis-server binds it; startRedis retries.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedis starts a redis-server on a free loopback port with no
// persistence, waits until it answers PING, and kills it in t.Cleanup.
func startRedis(t *testing.T) string {
	t.Helper()
	bin := requireRedis(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := tryStartRedis(t, bin)
		if err == nil {
			return addr
		}
		lastErr = err
	}
	t.Fatalf("start redis-server: %v", lastErr)
	return ""
}

func tryStartRedis(t *testing.T, bin string) (string, error) {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	var logBuf bytes.Buffer
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir)
	cmd.Stdout = &logBuf
	cmd.Stderr = &logBuf
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("exec %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			return "", fmt.Errorf("redis-server exited early on port %d: %s", port, logBuf.String())
		default:
		}
		if ping(addr) {
			t.Cleanup(stop)
			return addr, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("redis-server on port %d did not answer PING within 10s: %s", port, logBuf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping reports whether a server at addr answers PING with +PONG.
func ping(addr string) bool {
	c, err := dial(addr)
	if err != nil {
		return false
	}
	defer c.Close()
	rep, err := c.DoStrings("PING")
	return err == nil && string(rep) == "+PONG\r\n"
}
