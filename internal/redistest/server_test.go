package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records Skipf and Fatalf and ends the goroutine, as testing.T
// does, without ending the test, so that a helper's decision can be
// checked. Run the helper with run.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn in a goroutine of its own, so that fakeTB may end it, and
// waits for it.
func run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

func TestRequireMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, env := range []string{"", "1"} {
		t.Run("TSTD_REQUIRE_REDIS="+env, func(t *testing.T) {
			t.Setenv("TSTD_REQUIRE_REDIS", env)
			f := &fakeTB{TB: t}
			run(func() {
				Require(f, "redis-server")
				t.Error("Require returned for a missing tool")
			})
			msg := f.skipped
			if env == "1" {
				msg = f.failed
			}
			if (f.skipped != "") == (f.failed != "") || !strings.Contains(msg, "redis-server not found") {
				t.Fatalf("skipped %q, failed %q", f.skipped, f.failed)
			}
		})
	}
}

func TestRequireFound(t *testing.T) {
	dir := t.TempDir()
	tool := filepath.Join(dir, "redis-cli")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	f := &fakeTB{TB: t}
	var got string
	run(func() { got = Require(f, "redis-cli") })
	if got != tool || f.skipped != "" || f.failed != "" {
		t.Fatalf("Require = %q (skipped %q, failed %q), want %q", got, f.skipped, f.failed, tool)
	}
}

func TestStart(t *testing.T) {
	s := Start(t, Options{})
	if s.Addr != fmt.Sprintf("127.0.0.1:%d", s.Port) {
		t.Fatalf("Addr %q, Port %d", s.Addr, s.Port)
	}
	c := Dial(t, s.Addr)
	steps := []struct {
		args []string
		want any
	}{
		{[]string{"SET", "k", "v"}, "OK"},
		{[]string{"GET", "k"}, "v"},
		{[]string{"GET", "missing"}, nil},
		{[]string{"INCRBY", "n", "-3"}, int64(-3)},
		{[]string{"MGET", "k", "missing"}, []any{"v", nil}},
		{[]string{"CONFIG", "GET", "save"}, []any{"save", ""}},
		{[]string{"CONFIG", "GET", "appendonly"}, []any{"appendonly", "no"}},
		{[]string{"CONFIG", "GET", "bind"}, []any{"bind", "127.0.0.1"}},
	}
	for _, st := range steps {
		got, err := c.Do(st.args...)
		if err != nil || !reflect.DeepEqual(got, st.want) {
			t.Fatalf("%q = %#v, %v; want %#v", st.args, got, err, st.want)
		}
	}
	if _, err := c.Do("NOSUCH"); err == nil || !strings.HasPrefix(err.Error(), "ERR unknown command") {
		t.Fatalf("NOSUCH: %v", err)
	}
	if got, err := c.DoRaw("HELLO", "3"); err != nil || !strings.HasPrefix(string(got), "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n") {
		t.Fatalf("HELLO 3 = %q, %v", got, err)
	}
	if got, err := c.DoRaw("HGETALL", "nosuch"); err != nil || string(got) != "%0\r\n" {
		t.Fatalf("HGETALL in RESP3 = %q, %v", got, err)
	}
	if err := c.Write([]byte("PING\r\nECHO hi\r\n")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+PONG\r\n", "$2\r\nhi\r\n"} {
		if got, err := c.ReadRaw(); err != nil || string(got) != want {
			t.Fatalf("inline reply %q, %v; want %q", got, err, want)
		}
	}
}

func TestStartOptions(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "redis.conf")
	if err := os.WriteFile(conf, []byte("maxmemory 1mb\nport 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := Start(t, Options{Args: []string{"--requirepass", "pw"}, KeepSave: true, ConfigFile: conf})
	if err := Ping(s.Addr); err != nil {
		t.Fatalf("Ping a server with a password: %v", err)
	}
	c := Dial(t, s.Addr)
	if _, err := c.Do("GET", "k"); err == nil || !strings.HasPrefix(err.Error(), "NOAUTH") {
		t.Fatalf("GET before AUTH: %v", err)
	}
	for _, st := range []struct {
		args []string
		want any
	}{
		{[]string{"AUTH", "pw"}, "OK"},
		{[]string{"CONFIG", "GET", "save"}, []any{"save", "3600 1 300 100 60 10000"}},
		{[]string{"CONFIG", "GET", "maxmemory"}, []any{"maxmemory", "1048576"}},
		{[]string{"CONFIG", "GET", "port"}, []any{"port", fmt.Sprint(s.Port)}},
	} {
		got, err := c.Do(st.args...)
		if err != nil || !reflect.DeepEqual(got, st.want) {
			t.Fatalf("%q = %#v, %v; want %#v", st.args, got, err, st.want)
		}
	}
}

func TestStartBadArgs(t *testing.T) {
	Require(t, "redis-server")
	f := &fakeTB{TB: t}
	run(func() {
		Start(f, Options{Args: []string{"--no-such-directive", "x"}})
		t.Error("Start returned with a bad directive")
	})
	if !strings.Contains(f.failed, "exited during start-up") || !strings.Contains(f.failed, "no-such-directive") {
		t.Fatalf("failure %q, want redis-server's complaint", f.failed)
	}
}

func TestPingNothingListening(t *testing.T) {
	if err := Ping(fmt.Sprintf("127.0.0.1:%d", FreePort(t))); err == nil {
		t.Fatal("Ping with nothing listening succeeded")
	}
}
