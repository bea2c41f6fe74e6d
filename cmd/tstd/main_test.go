package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/toonstore/toonstore/internal/redistest"
	"github.com/toonstore/toonstore/pkg/server"
	"github.com/urfave/cli/v2"
)

// tstdBin is the tstd binary, built once per test run by TestMain.
var tstdBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tstd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tstdBin = filepath.Join(dir, "tstd")
	build := exec.Command("go", "build", "-o", tstdBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tstd:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTstd runs tstd with args on a free port and waits until it answers
// PING.
func startTstd(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	port := redistest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	all := append([]string{"--bind", addr, "--data", dir, "--loglevel", "notice"}, args...)
	p := &proc{t: t, cmd: exec.Command(tstdBin, all...), addr: addr, log: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("tstd output:\n%s", p.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("tstd exited during start-up: %v\n%s", p.err, p.log.String())
		default:
		}
		if redistest.Ping(addr) == nil {
			// A PING answered NOAUTH (requirepass) says nothing of the
			// load (-LOADING comes after the auth check): wait for it.
			p.waitLog("tstd ready to accept connections")
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("tstd not answering on %s after 30s\n%s", addr, p.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits until the output contains text and returns the output:
// tstd logs its start-up line just after it starts answering, so a PING
// reply does not mean the line is there yet.
func (p *proc) waitLog(text string) string {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := p.log.String()
		if strings.Contains(out, text) {
			return out
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no %q in the output after 10s:\n%s", text, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("tstd did not exit within 60s\n%s", p.log.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		p.t.Fatalf("wait: %v", p.err)
	}
	return 0
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

func client(t *testing.T, addr string, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db, DisableIdentity: true,
		DialTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRestartAfterSIGTERM(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			p := startTstd(t, dir, nil)
			type kv struct {
				db      int
				k, v    string
				withTTL bool
			}
			var all []kv
			for db := range 4 {
				c := client(t, p.addr, db)
				for i := range 50 {
					e := kv{db: db, k: fmt.Sprintf("k%d", i), v: fmt.Sprintf("v%d-%d\r\n\x00", db, i), withTTL: i%5 == 0}
					ttl := time.Duration(0)
					if e.withTTL {
						ttl = time.Hour
					}
					if err := c.Set(ctx, e.k, e.v, ttl).Err(); err != nil {
						t.Fatal(err)
					}
					all = append(all, e)
				}
				// An expired key and a deleted key must stay gone.
				if err := c.Set(ctx, "short", "x", 50*time.Millisecond).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Set(ctx, "deleted", "x", 0).Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.Del(ctx, "deleted").Err(); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(100 * time.Millisecond) // let "short" expire
			p.signal(sig)
			if code := p.wait(); code != 0 {
				t.Fatalf("exit code %d after %v, want 0\n%s", code, sig, p.log.String())
			}
			if out := p.log.String(); !strings.Contains(out, "store closed cleanly") {
				t.Fatalf("no clean store close in the log:\n%s", out)
			}

			q := startTstd(t, dir, nil)
			q.waitLog(`"keys_recovered": `)
			for _, e := range all {
				c := client(t, q.addr, e.db)
				got, err := c.Get(ctx, e.k).Result()
				if err != nil || got != e.v {
					t.Fatalf("db %d GET %s = %q, %v; want %q", e.db, e.k, got, err, e.v)
				}
				ttl, err := c.TTL(ctx, e.k).Result()
				if err != nil {
					t.Fatal(err)
				}
				if e.withTTL != (ttl > 0) || (e.withTTL && ttl > time.Hour) {
					t.Fatalf("db %d TTL %s = %v (withTTL %v)", e.db, e.k, ttl, e.withTTL)
				}
			}
			for db := range 4 {
				c := client(t, q.addr, db)
				if n, err := c.Exists(ctx, "short", "deleted").Result(); err != nil || n != 0 {
					t.Fatalf("db %d: expired/deleted keys back: %d, %v", db, n, err)
				}
				if n, err := c.DBSize(ctx).Result(); err != nil || n != 50 {
					// "short" may still be counted until removed; Redis counts it too.
					if n != 51 {
						t.Fatalf("db %d DBSIZE = %d, %v; want 50", db, n, err)
					}
				}
			}
		})
	}
}

// TestKill9KeepsAcknowledgedWrites: under every appendfsync policy, every
// write that got +OK survives SIGKILL of the process (durability table:
// "lost on process crash: none"; with always the write is also on disk,
// everysec and no leave it in the page cache, which a process crash keeps).
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	for _, policy := range []string{"always", "everysec", "no"} {
		t.Run("appendfsync="+policy, func(t *testing.T) { kill9KeepsAcknowledged(t, policy) })
	}
}

func kill9KeepsAcknowledged(t *testing.T, policy string) {
	dir := t.TempDir()
	ctx := context.Background()
	p := startTstd(t, dir, nil, "--appendfsync", policy)

	const writers = 8
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var total sync.WaitGroup
	total.Add(writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := redis.NewClient(&redis.Options{Addr: p.addr, DisableIdentity: true, MaxRetries: -1,
				ReadTimeout: 10 * time.Second, PoolSize: 1})
			defer c.Close()
			counted := false
			for i := 0; ; i++ {
				select {
				case <-stop:
					if !counted {
						total.Done()
					}
					return
				default:
				}
				// Odd writers pipeline 32 SETs of about 1 KiB (the store
				// flushes such a batch with pwrite), even ones send one
				// small SET at a time (copied into the mapping).
				n, pad := 1, i%50
				if w%2 == 1 {
					n, pad = 32, 1000+i%50
				}
				kv := make([][2]string, n)
				pipe := c.Pipeline()
				for j := range kv {
					k := fmt.Sprintf("w%d:%d:%d", w, i, j)
					kv[j] = [2]string{k, fmt.Sprintf("value-%s-%s", k, strings.Repeat("x", pad))}
					pipe.Set(ctx, k, kv[j][1], 0)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					if !counted {
						total.Done()
					}
					return // the server is gone
				}
				mu.Lock()
				for _, e := range kv {
					acked[e[0]] = e[1]
				}
				mu.Unlock()
				if i == 200 && !counted {
					counted = true
					total.Done()
				}
			}
		}()
	}
	total.Wait() // every writer has 200 acknowledged writes; they keep going
	p.signal(syscall.SIGKILL)
	p.wait()
	close(stop)
	wg.Wait()
	if len(acked) < writers*200 {
		t.Fatalf("only %d acknowledged writes", len(acked))
	}

	q := startTstd(t, dir, nil)
	c := client(t, q.addr, 0)
	for k, v := range acked {
		got, err := c.Get(ctx, k).Result()
		if err != nil || got != v {
			t.Fatalf("acknowledged %s lost after kill -9: GET = %.40q, %v; want %.40q (%d acked)", k, got, err, v, len(acked))
		}
	}
	t.Logf("%d acknowledged writes all back after kill -9", len(acked))
}

func TestShutdownCommandExitsZero(t *testing.T) {
	dir := t.TempDir()
	p := startTstd(t, dir, nil)
	c := client(t, p.addr, 0)
	if err := c.Set(context.Background(), "a", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	_ = c.Shutdown(context.Background()).Err() // the connection closes without a reply
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d after SHUTDOWN, want 0", code)
	}
	q := startTstd(t, dir, nil)
	if got, err := client(t, q.addr, 0).Get(context.Background(), "a").Result(); err != nil || got != "1" {
		t.Fatalf("GET a = %q, %v after SHUTDOWN and restart", got, err)
	}
}

func runTstd(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(tstdBin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("run tstd: %v", err)
	}
	return 0, string(out)
}

func TestHealth(t *testing.T) {
	p := startTstd(t, t.TempDir(), nil, "--requirepass", "s3cret")
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"live with password", []string{"health", "--addr", p.addr, "--password", "s3cret"}, 0, "healthy"},
		{"seed flag", []string{"--health", "--bind", p.addr, "--requirepass", "s3cret"}, 0, "healthy"},
		{"wrong password", []string{"health", "--addr", p.addr, "--password", "nope"}, 1, "WRONGPASS"},
		{"no password", []string{"health", "--addr", p.addr}, 1, "NOAUTH"},
		{"closed port", []string{"health", "--addr", fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))}, 1, "unhealthy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runTstd(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, output %q; want %d and %q", code, out, tc.code, tc.out)
			}
		})
	}
}

// TestConfigPrecedence: defaults < config file < TSTD_* env < flags.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(t.TempDir(), "tstd.conf")
	if err := os.WriteFile(conf, []byte("databases 4\nmaxclients 100\nhz 20\nmaxmemory 1mb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := redistest.FreePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(tstdBin, conf, "--bind", addr, "--data", dir, "--hz", "40")
	cmd.Env = append(os.Environ(), "TSTD_MAXCLIENTS=200", "TSTD_HZ=30")
	log := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for redistest.Ping(addr) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not up:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := client(t, addr, 0)
	want := map[string]string{
		"databases":  "4",       // file
		"maxclients": "200",     // env over file
		"hz":         "40",      // flag over env over file
		"maxmemory":  "1048576", // file
		"capacity":   "10000",   // default
		"dir":        dir,       // --data
	}
	for name, v := range want {
		got, err := c.ConfigGet(context.Background(), name).Result()
		if err != nil || got[name] != v {
			t.Fatalf("CONFIG GET %s = %v, %v; want %q", name, got, err, v)
		}
	}
	if err := c.Do(context.Background(), "SELECT", 4).Err(); err == nil {
		t.Fatalf("SELECT 4 accepted with databases 4")
	}
}

func TestBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(conf, []byte("port 6379\nappendfsync sometimes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runTstd(t, nil, conf, "--data", t.TempDir())
	if code != 1 || !strings.Contains(out, "FATAL CONFIG FILE ERROR") || !strings.Contains(out, "line 2") {
		t.Fatalf("exit %d, output %q", code, out)
	}
	code, out = runTstd(t, []string{"TSTD_MAXCLIENTS=lots"}, "--data", t.TempDir(), "--port", "0")
	if code != 1 || !strings.Contains(out, "FATAL") {
		t.Fatalf("bad env: exit %d, output %q", code, out)
	}
	code, out = runTstd(t, nil, "--version")
	if code != 0 || !strings.Contains(out, "0.1.0") {
		t.Fatalf("--version: exit %d, output %q", code, out)
	}
}

// TestSizeLoops: the default is half the processors (at least one), an
// explicit --loops is kept, and GOMAXPROCS follows the loops (capped at the
// processors) unless the environment sets it.
func TestSizeLoops(t *testing.T) {
	tests := []struct {
		flag       int
		env        string
		procs      int
		loops, set int
	}{
		{0, "", 1, 1, 1},
		{0, "", 2, 1, 1},
		{0, "", 3, 1, 1},
		{0, "", 8, 4, 4},
		{-1, "", 8, 4, 4},
		{2, "", 2, 2, 2},
		{4, "", 2, 4, 2},
		{0, "2", 2, 1, 0},
		{3, "8", 8, 3, 0},
	}
	for _, tc := range tests {
		loops, set := sizeLoops(tc.flag, tc.env, tc.procs)
		if loops != tc.loops || set != tc.set {
			t.Errorf("sizeLoops(%d, %q, %d) = %d, %d; want %d, %d", tc.flag, tc.env, tc.procs, loops, set, tc.loops, tc.set)
		}
	}
}

// TestLoopsAndProcsLogged: the running process uses what sizeLoops says,
// and says so in its start-up line.
func TestLoopsAndProcsLogged(t *testing.T) {
	cpus := runtime.NumCPU()
	cases := []struct {
		name  string
		env   []string
		args  []string
		loops int
		procs int
	}{
		{"default", []string{"GOMAXPROCS="}, nil, max(cpus/2, 1), max(cpus/2, 1)},
		{"explicit loops", []string{"GOMAXPROCS="}, []string{"--loops", "2"}, 2, min(2, cpus)},
		{"GOMAXPROCS from the environment", []string{"GOMAXPROCS=3"}, nil, 1, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := startTstd(t, t.TempDir(), tc.env, tc.args...)
			out := p.waitLog("tstd listening")
			want := fmt.Sprintf(`"loops": %d, "gomaxprocs": %d`, tc.loops, tc.procs)
			if !strings.Contains(out, want) {
				t.Fatalf("start-up line lacks %s:\n%s", want, out)
			}
		})
	}
}

// --round-spin and --round-wait: the default is the server's; 0 turns
// them off, which server.Options spells negative (its 0 is the default).
func TestRoundFlags(t *testing.T) {
	for _, tc := range []struct{ flag, want time.Duration }{
		{0, -1},
		{-time.Microsecond, -1},
		{server.DefaultRoundSpin, server.DefaultRoundSpin},
		{server.DefaultRoundWait, server.DefaultRoundWait},
		{50 * time.Microsecond, 50 * time.Microsecond},
	} {
		if got := offFlag(tc.flag); got != tc.want {
			t.Errorf("offFlag(%v) = %v, want %v", tc.flag, got, tc.want)
		}
	}
	for _, name := range []string{"round-spin", "round-wait"} {
		var def any
		for _, f := range baseFlags() {
			if df, ok := f.(*cli.DurationFlag); ok && df.Name == name {
				def = df.Value
			}
		}
		want := map[string]time.Duration{"round-spin": server.DefaultRoundSpin, "round-wait": server.DefaultRoundWait}[name]
		if def != want {
			t.Errorf("--%s defaults to %v, want %v", name, def, want)
		}
	}
}
