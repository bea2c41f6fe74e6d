package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func requireEqual[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func mustSet(t *testing.T, c *Config, kv ...string) {
	t.Helper()
	var pairs [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, [2]string{kv[i], kv[i+1]})
	}
	if err := c.Set(pairs); err != nil {
		t.Fatalf("Set(%q): %v", kv, err)
	}
}

func TestSetTypes(t *testing.T) {
	tests := []struct {
		name, value string
		want        string // value after, or error text
		wantErr     bool
	}{
		{"maxmemory", "1mb", "1048576", false},
		{"maxmemory", "1M", "1000000", false},
		{"maxmemory", "2GB", "2147483648", false},
		{"maxmemory", "", "0", false},
		{"maxmemory", "-1", "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value", true},
		{"maxmemory", "1.5gb", "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value", true},
		{"maxmemory", "18446744073709551615", "18446744073709551615", false},
		{"maxmemory-clients", "10%", "10%", false},
		{"maxmemory-clients", "0%", "0", false},
		{"maxmemory-clients", "101%", "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100", true},
		{"maxmemory-clients", "x", "CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value", true},
		{"hz", "1000", "500", false},
		{"hz", "0", "1", false},
		{"timeout", "+1", "CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer", true},
		{"timeout", "01", "CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer", true},
		{"timeout", "-1", "CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive", true},
		{"maxclients", "-1", "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive", true},
		{"slowlog-log-slower-than", "-1", "-1", false},
		{"list-max-ziplist-size", "-3", "-3", false},
		{"protected-mode", "NO", "no", false},
		{"protected-mode", "1", "CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'", true},
		{"loglevel", "WARNING", "warning", false},
		{"loglevel", "loud", "CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning", true},
		{"oom-score-adj", "relative", "yes", false},
		{"shutdown-on-sigterm", "now force", "now force", false},
		{"shutdown-on-sigterm", "save nosave", "CONFIG SET failed (possibly related to argument 'shutdown-on-sigterm') - shutdown options SAVE and NOSAVE can't be used simultaneously", true},
		{"save", "900 1 300 10", "900 1 300 10", false},
		{"save", "", "", false},
		{"save", "900", "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", true},
		{"save", "0 1", "CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", true},
		{"notify-keyspace-events", "KEA", "AKE", false},
		{"notify-keyspace-events", "Anm", "Am", false},
		{"notify-keyspace-events", "Kx!", "CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'.", true},
		{"client-output-buffer-limit", "replica 1kb 2mb 3", "normal 0 0 0 slave 1024 2097152 3 pubsub 33554432 8388608 60", false},
		{"client-output-buffer-limit", "master 1 2 3", "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.", true},
		{"oom-score-adj-values", "0 200", "CONFIG SET failed (possibly related to argument 'oom-score-adj-values') - wrong number of arguments", true},
		{"latency-tracking-info-percentiles", "50.0 99.90 0x10", "50 99.9 16", false},
		{"latency-tracking-info-percentiles", "101", "CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]", true},
		{"cluster-announce-hostname", "a_b", "CONFIG SET failed (possibly related to argument 'cluster-announce-hostname') - Hostnames may only contain alphanumeric characters, hyphens or dots", true},
		{"capacity", "5000", "5000", false},
		{"capacity", "0", "CONFIG SET failed (possibly related to argument 'capacity') - argument must be between 1 and 9223372036854775807 inclusive", true},
		{"activedefrag", "yes", "CONFIG SET failed (possibly related to argument 'activedefrag') - Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution", true},
		{"slave-priority", "x", "CONFIG SET failed (possibly related to argument 'slave-priority') - argument couldn't be parsed into an integer", true},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			c := New()
			before := c.Value(tc.name)
			err := c.Set([][2]string{{tc.name, tc.value}})
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error; value %q", c.Value(tc.name))
				}
				requireEqual(t, err.Error(), tc.want)
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("error %v is not ErrInvalid", err)
				}
				requireEqual(t, c.Value(tc.name), before)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			requireEqual(t, c.Value(tc.name), tc.want)
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name  string
		pairs [][2]string
		want  string
		kind  error
	}{
		{"unknown", [][2]string{{"foo", "1"}}, "Unknown option or number of arguments for CONFIG SET - 'foo'", ErrUnknown},
		{"unknown after bad value", [][2]string{{"maxmemory", "x"}, {"Foo", "1"}}, "Unknown option or number of arguments for CONFIG SET - 'Foo'", ErrUnknown},
		{"immutable", [][2]string{{"Daemonize", "yes"}}, "CONFIG SET failed (possibly related to argument 'Daemonize') - can't set immutable config", ErrImmutable},
		{"immutable before unknown", [][2]string{{"daemonize", "yes"}, {"foo", "1"}}, "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config", ErrImmutable},
		{"protected", [][2]string{{"dir", "/tmp"}}, "CONFIG SET failed (possibly related to argument 'dir') - can't set protected config", ErrProtected},
		{"duplicate", [][2]string{{"maxmemory", "1"}, {"MAXMEMORY", "2"}}, "CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter", ErrDuplicate},
		{"invalid uses registered name", [][2]string{{"MAXMEMORY", "x"}}, "CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New()
			err := c.Set(tc.pairs)
			if err == nil {
				t.Fatal("no error")
			}
			requireEqual(t, err.Error(), tc.want)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("%v is not %v", err, tc.kind)
			}
		})
	}
}

func TestSetAtomic(t *testing.T) {
	c := New()
	err := c.Set([][2]string{{"maxmemory", "1mb"}, {"timeout", "x"}})
	if err == nil {
		t.Fatal("no error")
	}
	requireEqual(t, c.Value("maxmemory"), "0")
	// Alias and name are distinct entries: the last one wins.
	mustSet(t, c, "slave-priority", "1", "replica-priority", "2")
	requireEqual(t, c.Value("slave-priority"), "2")
}

func TestOnChange(t *testing.T) {
	c := New()
	var calls []string
	c.OnChange("maxmemory", func(v string) error { calls = append(calls, "maxmemory="+v); return nil })
	c.OnChange("capacity", func(v string) error {
		calls = append(calls, "capacity="+v)
		if v == "13" {
			return errors.New("cannot shrink")
		}
		return nil
	})
	mustSet(t, c, "maxmemory", "1kb", "capacity", "20")
	requireEqual(t, calls, []string{"maxmemory=1024", "capacity=20"})

	calls = nil
	mustSet(t, c, "maxmemory", "1024") // unchanged: no hook
	requireEqual(t, len(calls), 0)

	err := c.Set([][2]string{{"maxmemory", "2kb"}, {"capacity", "13"}})
	requireEqual(t, err.Error(), "CONFIG SET failed (possibly related to argument 'capacity') - cannot shrink")
	if !errors.Is(err, ErrApply) {
		t.Fatalf("%v is not ErrApply", err)
	}
	requireEqual(t, c.Value("maxmemory"), "1024")
	requireEqual(t, c.Value("capacity"), "20")
	requireEqual(t, calls, []string{"maxmemory=2048", "capacity=13", "maxmemory=1024", "capacity=20"})

	defer func() {
		if recover() == nil {
			t.Fatal("OnChange of an unknown name did not panic")
		}
	}()
	c.OnChange("nope", func(string) error { return nil })
}

func TestGet(t *testing.T) {
	c := New()
	requireEqual(t, c.Get("MaxMemory"), [][2]string{{"MaxMemory", "0"}})
	requireEqual(t, c.Get("key-load-delay"), [][2]string{{"key-load-delay", "0"}}) // hidden, exact
	requireEqual(t, c.Get("nope"), [][2]string(nil))
	requireEqual(t, c.Get("*delay*"), [][2]string{{"repl-disable-tcp-nodelay", "no"}, {"repl-diskless-sync-delay", "5"}})
	requireEqual(t, c.Get("SLAVEOF*"), [][2]string{{"slaveof", ""}})
	got := c.Get("*priority")
	requireEqual(t, got, [][2]string{{"replica-priority", "100"}, {"slave-priority", "100"}})
	requireEqual(t, c.GetAll("maxmemory", "maxmemory", "hz"), [][2]string{{"maxmemory", "0"}, {"hz", "10"}})
	if d := c.Value("dir"); !filepath.IsAbs(d) || filepath.Base(d) != "data" {
		t.Fatalf("dir = %q", d)
	}
	requireEqual(t, c.Int("maxmemory-clients"), int64(0))
	mustSet(t, c, "maxmemory-clients", "5%", "maxmemory", "1gb")
	requireEqual(t, c.Int("maxmemory-clients"), int64(-5))
	requireEqual(t, c.Int("maxmemory"), int64(1<<30))
	requireEqual(t, c.Bool("appendonly"), true)
	requireEqual(t, c.String("appendfsync"), "everysec")
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line string
		want []string
		ok   bool
	}{
		{"", []string{}, true},
		{"  save 900 1  ", []string{"save", "900", "1"}, true},
		{`requirepass "a b\x41\n\""`, []string{"requirepass", "a bA\n\""}, true},
		{`x 'it\'s' ""`, []string{"x", "it's", ""}, true},
		{`x "abc"d`, nil, false},
		{`x "abc`, nil, false},
		{`x 'abc`, nil, false},
		{`x a"b c"d`, nil, false},
		{`x a"b c" d`, []string{"x", "ab c", "d"}, true},
		{"x\tb", []string{"x", "b"}, true},
		{`x "\q"`, []string{"x", "q"}, true},
	}
	for _, tc := range tests {
		got, ok := SplitArgs(tc.line)
		if ok != tc.ok || (ok && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "inc1.conf", "maxmemory 2mb\n")
	writeFile(t, dir, "inc2.conf", "timeout 7\n")
	main := writeFile(t, dir, "tstd.conf", strings.Join([]string{
		"# comment",
		"",
		"   daemonize no   ",
		"SAVE 900 1",
		"save 300 10",
		"bind 1.2.3.4",
		"bind 127.0.0.1 ::1",
		`requirepass "p w"`,
		"include " + filepath.Join(dir, "inc*.conf"),
		"include " + filepath.Join(dir, "none*.conf"),
		"slaveof 10.0.0.1 6380",
		"hash-max-ziplist-entries 7",
		"list-max-ziplist-entries 5",
		"rename-command FLUSHALL \"\"",
		"user alice on >pw ~* +@all",
		"unixsocketperm 700",
		"capacity 42\r",
	}, "\n"))
	c := New()
	if err := c.LoadFile(main); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"daemonize": "no", "save": "900 1 300 10", "bind": "127.0.0.1 ::1", "requirepass": "p w",
		"maxmemory": "2097152", "timeout": "7", "replicaof": "10.0.0.1 6380",
		"hash-max-listpack-entries": "7", "unixsocketperm": "700", "capacity": "42",
	} {
		if got := c.Value(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	requireEqual(t, c.Renames(), [][2]string{{"FLUSHALL", ""}})
	requireEqual(t, c.Users(), [][]string{{"alice", "on", ">pw", "~*", "+@all"}})
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		content string
		line    int
		reason  string
	}{
		{"maxmemory 1mb\nfoo bar", 2, "Bad directive or wrong number of arguments"},
		{"maxmemory 1 2", 1, "wrong number of arguments"},
		{"maxmemory x", 1, "argument must be a memory value"},
		{"\n\nrequirepass \"abc", 3, "Unbalanced quotes in configuration line"},
		{"save 900", 1, "Invalid save parameters"},
		{"replicaof h 70000", 1, "Invalid master port"},
		{"include", 1, "Bad directive or wrong number of arguments"},
		{"sentinel monitor x", 1, "sentinel directive while not in sentinel mode"},
		{"mod.x", 1, "Module config specified without value"},
		{"databases 0", 1, "argument must be between 1 and 2147483647 inclusive"},
		{"cluster-enabled yes\nreplicaof h 1", 0, "replicaof directive not allowed in cluster mode"},
	}
	for _, tc := range tests {
		p := writeFile(t, t.TempDir(), "x.conf", tc.content)
		err := New().LoadFile(p)
		var fe *FileError
		if !errors.As(err, &fe) || !errors.Is(err, ErrFile) {
			t.Fatalf("%q: error %v", tc.content, err)
		}
		if fe.Line != tc.line || fe.Reason != tc.reason {
			t.Errorf("%q: line %d reason %q; want %d %q", tc.content, fe.Line, fe.Reason, tc.line, tc.reason)
		}
	}
	if err := New().LoadFile(filepath.Join(t.TempDir(), "missing.conf")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestLoadEnvAndArgs(t *testing.T) {
	c := New()
	env := []string{"PATH=/bin", "TSTD_MAXMEMORY=1gb", "TSTD_APPENDFSYNC=always", "TSTD_SAVE=60 5",
		"TSTD_SERVER_CPULIST=0-3", "TSTD_REQUIRE_REDIS=1", "TSTD_DATABASES=4"}
	if err := c.LoadEnv(env); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, c.Value("maxmemory"), "1073741824")
	requireEqual(t, c.Value("appendfsync"), "always")
	requireEqual(t, c.Value("save"), "60 5")
	requireEqual(t, c.Value("server_cpulist"), "0-3")
	requireEqual(t, c.Value("databases"), "4")
	requireEqual(t, c.UnknownEnv(env), []string{"TSTD_REQUIRE_REDIS"})
	err := c.LoadEnv([]string{"TSTD_HZ=fast"})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Reason != "argument couldn't be parsed into an integer" {
		t.Fatalf("bad env: %v", err)
	}

	if err := c.SetArgs("save", "10", "1", "20", "2"); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, c.Value("save"), "60 5 10 1 20 2") // start-up save lines add up
	if err := c.SetArgs("Port", "7000"); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, c.Int("port"), int64(7000))
	if err := c.SetArgs("nope", "1"); err == nil || err.(*FileError).Reason != "Bad directive or wrong number of arguments" {
		t.Fatalf("SetArgs(nope): %v", err)
	}
}

func TestDirectives(t *testing.T) {
	c := New()
	ds := c.Directives()
	for i := 1; i < len(ds); i++ {
		if ds[i-1].Name >= ds[i].Name {
			t.Fatalf("not sorted at %q", ds[i].Name)
		}
	}
	d, ok := c.Lookup("hash-max-ziplist-entries")
	if !ok || d.Name != "hash-max-listpack-entries" || d.Type != TypeInt || !d.Unsigned {
		t.Fatalf("Lookup: %+v", d)
	}
	for _, d := range ds {
		if d.Usage == "" && d.Name == "capacity" {
			t.Fatal("capacity has no usage line")
		}
		// Every default must be a value the directive accepts and prints back unchanged.
		if d.Name == "dir" || d.Name == "replicaof" { // "no one" spells the empty default
			continue
		}
		args := []string{d.Default}
		if d.Flags&MultiArg != 0 {
			args = splitSpaces(d.Default)
		}
		v, reason := d.parse(&setCtx{cur: d.Default}, args)
		if reason != "" || v != d.Default {
			t.Errorf("%s: default %q parses to %q, %q", d.Name, d.Default, v, reason)
		}
	}
}

func TestConcurrent(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 200 {
				_ = c.Set([][2]string{{"maxmemory", itoa(int64(i*1000 + j))}})
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				_ = c.Get("max*")
				_ = c.Int("maxmemory")
			}
		}()
	}
	wg.Wait()
}

func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "tstd.conf", strings.Join([]string{
		"# my settings",
		"maxmemory 1mb",
		"save 900 1",
		"save 300 10",
		"slave-priority 50",
		"timeout 0",
		"rename-command FLUSHALL \"\"",
		"maxmemory 3mb",
		"",
	}, "\n"))
	c := New()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	// A line the registry does not know (an older directive, say).
	data, _ := os.ReadFile(p)
	writeFile(t, dir, "tstd.conf", strings.Replace(string(data), "timeout 0\n", "timeout 0\nfrobnicate 1\n", 1))
	mustSet(t, c, "maxmemory", "2gb", "loglevel", "warning", "requirepass", "p w", "save", "60 1",
		"client-output-buffer-limit", "pubsub 1mb 2mb 30")
	if err := c.Rewrite(p); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"# my settings",
		"maxmemory 2gb",
		"save 60 1",
		"",
		"replica-priority 50",
		"timeout 0",
		"# ??? frobnicate 1",
		"rename-command FLUSHALL \"\"",
		"",
		rewriteSignature,
	}, "\n")
	got := string(data)
	if !strings.HasPrefix(got, want+"\n") {
		t.Fatalf("rewritten file:\n%s\nwant prefix:\n%s", got, want)
	}
	for _, line := range []string{`requirepass "p w"`, "loglevel warning", "client-output-buffer-limit pubsub 1mb 2mb 30",
		"latency-tracking-info-percentiles 50 99 99.9", `dir "` + c.Value("dir") + `"`} {
		if !strings.Contains(got, "\n"+line+"\n") {
			t.Errorf("missing %q in:\n%s", line, got)
		}
	}
	// Loading the rewritten file reproduces every value.
	c2 := New()
	if err := c2.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	requireEqual(t, c2.Get("*"), c.Get("*"))
}

// Config must satisfy pkg/command's Config interface (declared there; not
// imported here to keep the dependency arrow).
var _ interface {
	Get(pattern string) [][2]string
	Set(pairs [][2]string) error
	Value(name string) string
} = (*Config)(nil)
