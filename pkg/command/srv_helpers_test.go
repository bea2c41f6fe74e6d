package command

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test helpers of the connection and server groups.

// fakeConfig is a Config over a map, for tests. Set rejects unknown names
// with Redis's text, so the command layer's error framing can be checked.
type fakeConfig struct {
	mu   sync.Mutex
	vals map[string]string
	file string // ConfigFile; "" = none
	rew  int    // Rewrite calls
}

func newFakeConfig(kv ...string) *fakeConfig {
	f := &fakeConfig{vals: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.vals[kv[i]] = kv[i+1]
	}
	return f
}

func (f *fakeConfig) Get(pattern string) [][2]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out [][2]string
	for k, v := range f.vals {
		if ok, _ := path.Match(pattern, k); ok {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

func (f *fakeConfig) Set(pairs [][2]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range pairs {
		if _, ok := f.vals[p[0]]; !ok {
			return errors.New("Unknown option or number of arguments for CONFIG SET - '" + p[0] + "'")
		}
	}
	for _, p := range pairs {
		f.vals[p[0]] = p[1]
	}
	return nil
}

func (f *fakeConfig) Value(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vals[name]
}

// fakeRewriter is a fakeConfig that also implements ConfigRewriter.
type fakeRewriter struct{ *fakeConfig }

func (f fakeRewriter) ConfigFile() string { return f.file }
func (f fakeRewriter) Rewrite() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rew++
	return nil
}

// newConnServer returns a Server without a keyspace (nil cache), enough for
// the commands that do not touch keys, and a registered client.
func newConnServer(t *testing.T, cfg Config) (*Server, *Client) {
	t.Helper()
	s := NewServer(nil, cfg, nil)
	cl := s.NewClient()
	cl.Addr, cl.LAddr, cl.FD = "127.0.0.1:50000", "127.0.0.1:6379", 7
	s.Clients.Add(cl)
	return s, cl
}

// doAll runs cmds (space-separated arguments) in order and returns the
// reply of the last one.
func doAll(t *testing.T, s *Server, cl *Client, cmds ...string) string {
	t.Helper()
	var r string
	for _, c := range cmds {
		r = do(t, s, cl, strings.Split(c, " ")...)
	}
	return r
}

// srvRedis is a raw connection to a redis-server started for one test.
type srvRedis struct {
	c net.Conn
	r *bufio.Reader
}

// startSrvRedis starts redis-server 7.0 on a free loopback port for the
// test's lifetime, with extra command-line arguments. It skips the test if
// redis-server is missing, unless TSTD_REQUIRE_REDIS=1, where it fails.
func startSrvRedis(t *testing.T, extra ...string) *srvRedis {
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
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir()}, extra...)
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			return &srvRedis{c: c, r: bufio.NewReader(c)}
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start on port %d: %v", port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// do sends one command and returns its raw reply bytes.
func (r *srvRedis) do(t *testing.T, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	r.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	var out []byte
	if err := readRawReply(r.r, &out); err != nil {
		t.Fatalf("reading reply to %q: %v", args, err)
	}
	return string(out)
}

// readRawReply appends one RESP2/RESP3 reply, raw, to out.
func readRawReply(r *bufio.Reader, out *[]byte) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	*out = append(*out, line...)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	n, _ := strconv.Atoi(strings.TrimRight(line[1:], "\r\n"))
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		*out = append(*out, buf...)
	case '*', '~', '>':
		for i := 0; i < n; i++ {
			if err := readRawReply(r, out); err != nil {
				return err
			}
		}
	case '%', '|':
		for i := 0; i < 2*n; i++ {
			if err := readRawReply(r, out); err != nil {
				return err
			}
		}
	}
	return nil
}
