package glob

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisConn is a minimal RESP2 client for differential tests.
type redisConn struct {
	c net.Conn
	r *bufio.Reader
}

// startRedis starts redis-server on a free loopback port for the test's
// lifetime, or skips (fails if TSTD_REQUIRE_REDIS=1) without one.
func startRedis(t *testing.T) *redisConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("TSTD_REQUIRE_REDIS") == "1" {
			t.Fatalf("redis-server not found and TSTD_REQUIRE_REDIS=1: %v", err)
		}
		t.Skipf("differential test skipped: redis-server not in PATH (%v)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			rc := &redisConn{c: c, r: bufio.NewReader(c)}
			t.Cleanup(func() { c.Close() })
			if _, err := rc.do("PING"); err == nil {
				return rc
			}
			c.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// do sends one command and returns the reply: string, []any, int64, nil,
// or an error for -ERR replies.
func (rc *redisConn) do(args ...string) (any, error) {
	rc.c.SetDeadline(time.Now().Add(30 * time.Second))
	buf := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := rc.c.Write(buf); err != nil {
		return nil, err
	}
	return rc.read()
}

type redisError string

func (e redisError) Error() string { return string(e) }

func (rc *redisConn) read() (any, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, errors.New("short line")
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, redisError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(rc.r, b); err != nil {
			return nil, err
		}
		return string(b[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		out := make([]any, 0, max(n, 0))
		for range n {
			v, err := rc.read()
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}

// alphabet is heavy in the matcher's metacharacters and edge bytes.
var alphabet = []byte("abcAB-^[]\\*?\x00\x7f\x80\xfe\xff09")

func randBytes(r *rand.Rand, maxLen int) string {
	n := r.IntN(maxLen + 1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestDifferentialKEYS stores random keys in a real redis-server and
// compares KEYS pattern with Match over the same keys.
func TestDifferentialKEYS(t *testing.T) {
	rc := startRedis(t)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GLOB_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (replay with GLOB_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0))

	keys := map[string]bool{}
	for len(keys) < 400 {
		keys[randBytes(r, 8)] = true
	}
	for _, k := range []string{"", "hello", "hallo", "h*llo", "[x]", `a\b`, "-", "^", strings.Repeat("a", 1001) + "b", strings.Repeat("a", 3000)} {
		keys[k] = true
	}
	for k := range keys {
		if _, err := rc.do("SET", k, "1"); err != nil {
			t.Fatal(err)
		}
	}
	patterns := []string{"*", "**", "?", "[", "[^]", "[a-]", `\`, `[\`, "[]]", "[!-~]", "[\x80-a]",
		"[a-\xff]", "*\x00*", "h[^a]llo", `h\*llo`, "*[", "[^-]*",
		strings.Repeat("a*", 1000) + "b", strings.Repeat("a*", 1001) + "b", strings.Repeat("*a", 30) + "b"}
	for range 600 {
		patterns = append(patterns, randBytes(r, 6))
	}
	for _, p := range patterns {
		reply, err := rc.do("KEYS", p)
		if err != nil {
			t.Fatalf("KEYS %q: %v", p, err)
		}
		var want []string
		for _, v := range reply.([]any) {
			want = append(want, v.(string))
		}
		var got []string
		for k := range keys {
			// KEYS skips the matcher for a lone "*".
			if p == "*" || MatchString(p, k, false) {
				got = append(got, k)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("pattern %q: redis %q, Match %q", p, want, got)
		}
	}
}
