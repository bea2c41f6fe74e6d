package config

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/toonstore/toonstore/internal/redistest"
)

// Differential tests against a real redis-server 7.0. They skip without
// one, unless TSTD_REQUIRE_REDIS=1 (CI), where they fail.

// startRedis starts redis-server for the test and connects to it. Unlike
// other packages' tests it keeps Redis's default "save" so that defaults
// can be compared; the tests write no keys, and the server is killed,
// never shut down, so no RDB file is written.
func startRedis(t *testing.T) *redistest.Conn {
	t.Helper()
	return redistest.Dial(t, redistest.Start(t, redistest.Options{KeepSave: true}).Addr)
}

// redisConfig returns CONFIG GET pattern as a map.
func redisConfig(t *testing.T, rc *redistest.Conn, pattern string) map[string]string {
	t.Helper()
	reply, err := rc.Do("CONFIG", "GET", pattern)
	if err != nil {
		t.Fatalf("CONFIG GET %s: %v", pattern, err)
	}
	arr := reply.([]any)
	out := make(map[string]string, len(arr)/2)
	for i := 0; i+1 < len(arr); i += 2 {
		out[arr[i].(string)] = arr[i+1].(string)
	}
	return out
}

// redisSet runs CONFIG SET and returns "OK" or the error without "ERR ".
func redisSet(t *testing.T, rc *redistest.Conn, kv ...string) string {
	t.Helper()
	_, err := rc.Do(append([]string{"CONFIG", "SET"}, kv...)...)
	var re redistest.Error
	switch {
	case err == nil:
		return "OK"
	case errors.As(err, &re):
		return strings.TrimPrefix(string(re), "ERR ")
	}
	t.Fatalf("CONFIG SET %q: %v", kv, err)
	return ""
}

func mySet(c *Config, kv ...string) string {
	var pairs [][2]string
	for i := 0; i+1 < len(kv); i += 2 {
		pairs = append(pairs, [2]string{kv[i], kv[i+1]})
	}
	if err := c.Set(pairs); err != nil {
		return err.Error()
	}
	return "OK"
}

// byDesign are the directives whose default differs from redis-server's
// in this test, each for a reason.
var byDesign = map[string]string{
	"dir":        "tstd keeps its data in ./data; the test runs Redis in a temporary directory",
	"port":       "the test runs Redis on a free port (both default to 6379)",
	"appendonly": "tstd always writes its log, so it reports yes; Redis defaults to no",
}

// tstdOnly are directives Redis does not have.
var tstdOnly = map[string]bool{"capacity": true}

// TestRedisNamesAndDefaults: every directive Redis reports is known, with
// the same default, and hidden directives answer by exact name.
func TestRedisNamesAndDefaults(t *testing.T) {
	rc := startRedis(t)
	c := New()
	red := redisConfig(t, rc, "*")
	mine := map[string]string{}
	for _, kv := range c.Get("*") {
		mine[kv[0]] = kv[1]
	}
	if len(red) < 150 {
		t.Fatalf("redis reported only %d directives", len(red))
	}
	for name, rv := range red {
		mv, ok := mine[name]
		switch {
		case !ok:
			t.Errorf("directive %q unknown to tstd", name)
		case byDesign[name] == "" && mv != rv:
			t.Errorf("%s: redis default %q, tstd %q", name, rv, mv)
		}
	}
	for name := range mine {
		if _, ok := red[name]; !ok && !tstdOnly[name] {
			t.Errorf("tstd reports %q, redis does not", name)
		}
	}
	for _, d := range c.Directives() {
		if d.Flags&Hidden == 0 {
			continue
		}
		got := redisConfig(t, rc, d.Name)
		if got[d.Name] != c.Value(d.Name) {
			t.Errorf("hidden %s: redis %q, tstd %q", d.Name, got[d.Name], c.Value(d.Name))
		}
	}
}

// configSetCases are CONFIG SET argument lists run in order against both.
var configSetCases = [][]string{
	{"maxmemory", "1mb"}, {"maxmemory", "1GB"}, {"maxmemory", ""}, {"maxmemory", "-1"},
	{"maxmemory", "1.5gb"}, {"maxmemory", "10x"}, {"maxmemory", "18446744073709551615"},
	{"maxmemory", "18446744073709551616"}, {"maxmemory", "0"},
	{"maxmemory-clients", "10%"}, {"maxmemory-clients", "101%"}, {"maxmemory-clients", "-5%"},
	{"maxmemory-clients", "0%"}, {"maxmemory-clients", "0"},
	{"hz", "1000"}, {"hz", "0"}, {"hz", "-1"}, {"hz", "10"},
	{"timeout", "+1"}, {"timeout", "01"}, {"timeout", " 1"}, {"timeout", "2147483648"}, {"timeout", "30"},
	{"maxclients", "0"}, {"maxclients", "4294967296"},
	{"slowlog-log-slower-than", "-2"}, {"slowlog-max-len", "-1"},
	{"protected-mode", "YES"}, {"protected-mode", "1"}, {"protected-mode", "yes"},
	{"loglevel", "WARNING"}, {"loglevel", "loud"}, {"loglevel", "notice"},
	{"maxmemory-policy", "allkeys-lru"}, {"maxmemory-policy", "lru"}, {"maxmemory-policy", "noeviction"},
	{"appendfsync", "ALWAYS"}, {"appendfsync", "sometimes"}, {"appendfsync", "everysec"},
	{"oom-score-adj", "relative"}, {"oom-score-adj", "no"},
	{"shutdown-on-sigterm", "now force"}, {"shutdown-on-sigterm", "save nosave"},
	{"shutdown-on-sigterm", ""}, {"shutdown-on-sigterm", "default"},
	{"save", "900 1 300 10"}, {"save", "900"}, {"save", "0 1"}, {"save", "3600 "}, {"save", "abc 1"},
	{"save", ""}, {"save", "3600 1 300 100 60 10000"},
	{"notify-keyspace-events", "KEA"}, {"notify-keyspace-events", "Anm"},
	{"notify-keyspace-events", "Kx!"}, {"notify-keyspace-events", ""},
	{"client-output-buffer-limit", "replica 1kb 2mb 3"}, {"client-output-buffer-limit", "normal 1 2"},
	{"client-output-buffer-limit", "master 1 2 3"}, {"client-output-buffer-limit", "pubsub 1k 2x 3"},
	{"client-output-buffer-limit", "pubsub -1 1 1"}, {"client-output-buffer-limit", "normal 0 0 -1"},
	{"client-output-buffer-limit", "NORMAL 0 0 0 pubsub 32mb 8mb 60 replica 256mb 64mb 60"},
	{"oom-score-adj-values", "0 200"}, {"oom-score-adj-values", "0 200 5000"}, {"oom-score-adj-values", "0 200 800"},
	{"latency-tracking-info-percentiles", "50.0 99.90 0x10"}, {"latency-tracking-info-percentiles", "101"},
	{"latency-tracking-info-percentiles", "abc"}, {"latency-tracking-info-percentiles", ""},
	{"latency-tracking-info-percentiles", "50 99 99.9"},
	{"cluster-announce-hostname", "a_b"}, {"cluster-announce-hostname", "host-1.example"},
	{"cluster-announce-hostname", ""},
	{"activedefrag", "yes"}, {"activedefrag", "no"},
	{"slave-priority", "x"}, {"slave-priority", "1", "replica-priority", "2"}, {"replica-priority", "100"},
	{"foo", "1"}, {"foo", "1", "maxmemory", "x"}, {"maxmemory", "x", "foo", "1"},
	{"daemonize", "yes"}, {"daemonize", "yes", "foo", "1"}, {"Daemonize", "yes"},
	{"dir", "/tmp"}, {"dbfilename", "x.rdb"},
	{"maxmemory", "1", "MAXMEMORY", "2"}, {"MAXMEMORY", "x"},
	{"maxmemory", "1kb", "timeout", "x"},
	{"replicaof", "no one"}, {"slaveof", "x"},
	{"proto-max-bulk-len", "1kb"}, {"proto-max-bulk-len", "18446744073709551615"}, {"proto-max-bulk-len", "1gb"},
	{"hash-max-ziplist-entries", "-1"}, {"hash-max-listpack-entries", "100"}, {"hash-max-ziplist-value", "1kb"},
	{"list-max-ziplist-size", "-3"}, {"repl-backlog-size", "0"}, {"repl-backlog-size", "1mb"},
	{"proc-title-template", ""}, {"proc-title-template", "{foo}"}, {"proc-title-template", "{title} {port}"},
	{"proc-title-template", "{title} {listen-addr} {server-mode}"},
	{"acl-pubsub-default", "allchannels"}, {"acl-pubsub-default", "resetchannels"},
	{"lua-time-limit", "6000"}, {"busy-reply-threshold", "-1"}, {"tracking-table-max-keys", "1k"},
	{"unixsocketperm", "700"}, {"appendonly", "maybe"},
	{"maxmemory", "2mb", "maxmemory-policy", "allkeys-lfu", "hz", "20"},
	{"save", "1 4294967297"}, {"save", " 1 2"}, {"save", "+5 0"},
	{"client-output-buffer-limit", "normal 1 2 4294967295"}, {"client-output-buffer-limit", "normal 1 2 4294967297"},
	{"client-output-buffer-limit", "normal 1b 2B +3"}, {"maxmemory", "99999999999999999999gb"},
}

// TestRedisConfigSet runs the same CONFIG SET commands against Redis and
// a Config, comparing replies and the values afterwards.
func TestRedisConfigSet(t *testing.T) {
	rc := startRedis(t)
	c := New()
	for _, args := range configSetCases {
		want := redisSet(t, rc, args...)
		got := mySet(c, args...)
		if got != want {
			t.Errorf("CONFIG SET %q:\n redis %q\n tstd  %q", args, want, got)
		}
		for i := 0; i < len(args); i += 2 {
			name := strings.ToLower(args[i])
			if byDesign[name] != "" {
				continue
			}
			rv := redisConfig(t, rc, name)[name]
			if mv := c.Value(name); mv != rv {
				t.Errorf("after CONFIG SET %q: %s redis %q, tstd %q", args, name, rv, mv)
			}
		}
	}
}

// sweepSkip are directives the sweep leaves alone because setting them on
// the reference server has effects beyond the registry.
var sweepSkip = map[string]string{
	"port":                 "would move the reference server",
	"bind":                 "would rebind the reference server",
	"requirepass":          "would lock the test out",
	"appendonly":           "would start an AOF rewrite",
	"maxclients":           "Redis checks the value against the process's file limit",
	"oom-score-adj":        "Redis writes /proc/self/oom_score_adj, which may be refused",
	"oom-score-adj-values": "Redis writes /proc/self/oom_score_adj, which may be refused",
}

// TestRedisSweep sets every mutable directive Redis reports to a series
// of awkward values on both sides and compares replies and values.
func TestRedisSweep(t *testing.T) {
	rc := startRedis(t)
	c := New()
	red := redisConfig(t, rc, "*")
	names := make([]string, 0, len(red))
	for name := range red {
		names = append(names, name)
	}
	sort.Strings(names)
	probes := []string{"abc", "", "-1", "0", "1", "yes", "NO", "1kb", "10%", "1 2",
		"2147483648", "9223372036854775808", "18446744073709551615", "-9223372036854775809"}
	for _, name := range names {
		if sweepSkip[name] != "" || strings.HasPrefix(name, "tls-") {
			continue // tls-*: Redis reconfigures OpenSSL and fails without certificates
		}
		rOrig, mOrig := red[name], c.Value(name)
		for _, p := range probes {
			want := redisSet(t, rc, name, p)
			got := mySet(c, name, p)
			if got != want {
				t.Errorf("CONFIG SET %s %q:\n redis %q\n tstd  %q", name, p, want, got)
			}
			if want == "OK" && got == "OK" {
				if rv, mv := redisConfig(t, rc, name)[name], c.Value(name); rv != mv && byDesign[name] == "" {
					t.Errorf("after CONFIG SET %s %q: redis %q, tstd %q", name, p, rv, mv)
				}
				if r := redisSet(t, rc, name, rOrig); r != "OK" {
					t.Fatalf("restoring %s on redis: %s", name, r)
				}
				if r := mySet(c, name, mOrig); r != "OK" {
					t.Fatalf("restoring %s on tstd: %s", name, r)
				}
			}
		}
	}
}

// redisStartupError starts redis-server with a configuration file (or
// none) and extra arguments followed by "--port 99999", which is always
// invalid, so that the server exits after parsing. It returns the line
// number, line and reason of the fatal error.
func redisStartupError(dir, bin, file string, args ...string) (line int, text, reason string, err error) {
	var argv []string
	if file != "" {
		argv = append(argv, file)
	}
	argv = append(append(argv, args...), "--port", "99999")
	cmd := exec.Command(bin, argv...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i, l := range lines {
		if rest, ok := strings.CutPrefix(l, "Reading the configuration file, at line "); ok {
			line, _ = strconv.Atoi(rest)
			if i+2 < len(lines) {
				text = strings.TrimSuffix(strings.TrimPrefix(lines[i+1], ">>> '"), "'")
				reason = lines[i+2]
			}
			return line, text, reason, nil
		}
	}
	return 0, "", "", fmt.Errorf("redis-server %q: no fatal config error in output:\n%s", argv, out)
}

// startupResult is one redis-server start-up probe.
type startupResult struct {
	line         int
	text, reason string
}

// redisStartupErrors runs the probes (file, args) concurrently: each
// start takes a fraction of a second, mostly waiting.
func redisStartupErrors(t *testing.T, bin string, probes [][]string) []startupResult {
	t.Helper()
	out := make([]startupResult, len(probes))
	errs := make([]error, len(probes))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		dir := t.TempDir()
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r := &out[i]
			r.line, r.text, r.reason, errs[i] = redisStartupError(dir, bin, p[0], p[1:]...)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestRedisStartupValues checks immutable directives, which CONFIG SET
// cannot reach, through redis-server's own command-line parsing.
func TestRedisStartupValues(t *testing.T) {
	bin := redistest.Require(t, "redis-server")
	// Each start-up costs about 0.2s here, so probe by type.
	values := map[Type][]string{
		TypeBool:    {"abc", "YES"},
		TypeInt:     {"abc", "-1", "99999999999", "0"},
		TypeOctal:   {"abc", "-1", "888", "777"},
		TypeEnum:    {"abc", "LOCAL"},
		TypeString:  {"", "a/b"},
		TypeSpecial: {"abc"},
	}
	type probe struct{ name, value string }
	var probes []probe
	var argv [][]string
	for _, d := range New().Directives() {
		if d.Flags&Immutable == 0 || d.Flags&Tstd != 0 {
			continue
		}
		if d.Type == TypeString && d.validate == nil && d.Name != "logfile" {
			continue // accepts anything; logfile stands for them all
		}
		for _, v := range values[d.Type] {
			probes = append(probes, probe{d.Name, v})
			argv = append(argv, []string{"", "--" + d.Name, v})
		}
	}
	results := redisStartupErrors(t, bin, argv)
	for i, p := range probes {
		r := results[i]
		redisOK := strings.HasPrefix(r.text, "port ")
		err := New().SetArgs(p.name, p.value)
		var fe *FileError
		switch {
		case redisOK && err != nil:
			t.Errorf("--%s %q: redis accepts, tstd: %v", p.name, p.value, err)
		case !redisOK && err == nil:
			t.Errorf("--%s %q: redis %q, tstd accepts", p.name, p.value, r.reason)
		case !redisOK && (!errors.As(err, &fe) || fe.Reason != r.reason):
			t.Errorf("--%s %q: redis %q, tstd %v", p.name, p.value, r.reason, err)
		}
	}
}

// TestRedisFileErrors loads the same configuration files into
// redis-server and LoadFile and compares where and why they fail.
func TestRedisFileErrors(t *testing.T) {
	bin := redistest.Require(t, "redis-server")
	files := []string{
		"maxmemory 1mb\nfoo bar",
		"maxmemory 1 2",
		"maxmemory x",
		"\n\nrequirepass \"abc",
		"requirepass 'a'b",
		"  # comment\n\tmaxmemory  x  \r",
		"save 900",
		"save 900 1\nsave 300 x",
		"replicaof h 70000",
		"replicaof h",
		"include",
		"sentinel monitor x",
		"mod.x",
		"databases 0",
		"list-max-ziplist-entries 5\nlist-max-ziplist-entries 5 6",
		"bind 1.1.1.1 2.2.2.2\nsave 10 1\nsave \"\"\nappendfsync no",
		"client-output-buffer-limit normal 1 2",
		"notify-keyspace-events KEA x",
		"hz 100000\nslaveof no one",
		"unixsocketperm 800",
		"dir /nonexistent-tstd-dir",
	}
	var argv [][]string
	for _, content := range files {
		p := filepath.Join(t.TempDir(), "redis.conf")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		argv = append(argv, []string{p})
	}
	results := redisStartupErrors(t, bin, argv)
	for i, content := range files {
		r := results[i]
		redisOK := strings.HasPrefix(r.text, "port ")
		err := New().LoadFile(argv[i][0])
		var fe *FileError
		switch {
		case content == "dir /nonexistent-tstd-dir":
			// By design: Redis must chdir into dir; tstd's store creates it.
			if redisOK || r.reason != "No such file or directory" || err != nil {
				t.Errorf("%q: redis %q, tstd %v", content, r.reason, err)
			}
		case redisOK && err != nil:
			t.Errorf("%q: redis accepts, tstd: %v", content, err)
		case !redisOK && !errors.As(err, &fe):
			t.Errorf("%q: redis line %d %q, tstd: %v", content, r.line, r.reason, err)
		case !redisOK && (fe.Line != r.line || fe.Text != r.text || fe.Reason != r.reason):
			t.Errorf("%q:\n redis line %d %q %q\n tstd  line %d %q %q", content, r.line, r.text, r.reason, fe.Line, fe.Text, fe.Reason)
		}
	}
}

// TestRedisRewrite runs the same CONFIG SETs and CONFIG REWRITE on Redis
// and on a Config loaded from the same file, and compares the rewritten
// files line by line (as multisets: Redis appends in hash order).
func TestRedisRewrite(t *testing.T) {
	// Start's flags override the file's port, bind, dir, appendonly and
	// daemonize on the Redis side; the comparison skips those lines.
	port := redistest.FreePort(t)
	dir := t.TempDir()
	body := strings.Join([]string{
		"# test configuration",
		"port " + strconv.Itoa(port),
		"bind 127.0.0.1",
		"dir " + dir,
		"appendonly no",
		"daemonize no",
		"save 900 1",
		"save 300 10",
		"slave-priority 50",
		"maxmemory 1mb",
		"timeout 0",
		"notify-keyspace-events \"\"",
		"rename-command FLUSHALL \"\"",
		"",
	}, "\n")
	redisFile := filepath.Join(dir, "redis.conf")
	myFile := filepath.Join(t.TempDir(), "tstd.conf")
	for _, p := range []string{redisFile, myFile} {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rc := redistest.Dial(t, redistest.Start(t, redistest.Options{KeepSave: true, ConfigFile: redisFile}).Addr)
	c := New()
	if err := c.LoadFile(myFile); err != nil {
		t.Fatal(err)
	}
	sets := [][]string{
		{"maxmemory", "2gb"}, {"loglevel", "warning"}, {"save", "60 1"},
		{"client-output-buffer-limit", "pubsub 1mb 2mb 30"}, {"notify-keyspace-events", "KEA"},
		{"timeout", "5"}, {"latency-tracking-info-percentiles", "90 99"}, {"masterauth", "p w\"x"},
		{"hash-max-listpack-entries", "100"}, {"maxmemory-clients", "5%"}, {"hz", "20"},
	}
	for _, kv := range sets {
		if got, want := mySet(c, kv...), redisSet(t, rc, kv...); got != want {
			t.Fatalf("CONFIG SET %q: redis %q, tstd %q", kv, want, got)
		}
	}
	if _, err := rc.Do("CONFIG", "REWRITE"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rewrite(myFile); err != nil {
		t.Fatal(err)
	}
	// dir, port: differ in this test by construction; bind, appendonly:
	// tstd's defaults differ by design; user: Redis writes its ACL users,
	// tstd leaves ACLs to the server.
	skip := map[string]bool{"dir": true, "port": true, "bind": true, "appendonly": true, "user": true}
	lines := func(p string) map[string]int {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, l := range strings.Split(string(data), "\n") {
			name, _, _ := strings.Cut(l, " ")
			if l != "" && !skip[name] {
				m[l]++
			}
		}
		return m
	}
	want, got := lines(redisFile), lines(myFile)
	for l, n := range want {
		if got[l] != n {
			t.Errorf("redis wrote %q %d times, tstd %d", l, n, got[l])
		}
	}
	for l, n := range got {
		if want[l] == 0 {
			t.Errorf("tstd wrote %q (%d times), redis did not", l, n)
		}
	}
}
