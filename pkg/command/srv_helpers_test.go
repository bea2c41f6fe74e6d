package command

import (
	"errors"
	"path"
	"strings"
	"sync"
	"testing"

	"github.com/toonstore/toonstore/internal/redistest"
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

// connCase is a table row of the connection and server groups' tests: on
// a fresh server and client, run pre in order, then cmd, and compare cmd's
// reply with want.
type connCase struct {
	name  string
	proto int      // 0: RESP2
	pass  string   // for the caller's config: requirepass
	pre   []string // commands run first, replies ignored
	cmd   string
	want  string
}

// runConnCases runs each case as a subtest on newConnServer over cfg(tc),
// or over no Config when cfg is nil.
func runConnCases(t *testing.T, cases []connCase, cfg func(connCase) Config) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			if cfg != nil {
				c = cfg(tc)
			}
			s, cl := newConnServer(t, c)
			if tc.proto != 0 {
				cl.Proto = tc.proto
			}
			for _, p := range tc.pre {
				doAll(t, s, cl, p)
			}
			require_Equal(t, doAll(t, s, cl, tc.cmd), tc.want)
		})
	}
}

// startSrvRedis starts redis-server 7.0 for the test, with extra
// command-line arguments, and connects to it (see internal/redistest: it
// skips the test without redis-server, unless TSTD_REQUIRE_REDIS=1).
func startSrvRedis(t *testing.T, extra ...string) *redistest.Conn {
	t.Helper()
	return redistest.Dial(t, redistest.Start(t, redistest.Options{Args: extra}).Addr)
}

// redisDo sends one command to r and returns its raw reply.
func redisDo(t *testing.T, r *redistest.Conn, args ...string) string {
	t.Helper()
	raw, err := r.DoRaw(args...)
	if err != nil {
		t.Fatalf("reading reply to %q: %v", args, err)
	}
	return string(raw)
}
