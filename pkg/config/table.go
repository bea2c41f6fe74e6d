package config

import (
	"math"
	"strconv"
	"strings"
)

// The registry: every directive of Redis 7.0.15 (the set CONFIG GET *
// returns, plus its hidden ones), with Redis's types, bounds, defaults and
// flags as in src/config.c's static_configs table, and tstd's own
// directives. Defaults differ from Redis only where tstd's design requires
// it; each such line says why.

const (
	intMax   = math.MaxInt32
	intMin   = math.MinInt32
	uintMax  = math.MaxUint32
	longMax  = math.MaxInt64 // long, long long, ssize_t and size_t bounds on 64-bit
	ullMax   = -1            // ULLONG_MAX as an unsigned bound
	noAlias  = ""
	mutable  = Flag(0)
	defaultP = "3600 1 300 100 60 10000"
)

func boolD(name, alias string, fl Flag, def bool) Directive {
	d := Directive{Name: name, Alias: alias, Type: TypeBool, Flags: fl, Default: "no"}
	if def {
		d.Default = "yes"
	}
	return d
}

// intD is a signed C integer config (int, long, long long, time_t, off_t
// and, as Redis checks it, unsigned long).
func intD(name, alias string, fl Flag, lo, hi, def int64) Directive {
	return Directive{Name: name, Alias: alias, Type: TypeInt, Flags: fl, Min: lo, Max: hi, Default: itoa(def)}
}

// uintD is an unsigned C integer config (unsigned int, size_t).
func uintD(name, alias string, fl Flag, lo, hi, def int64) Directive {
	d := intD(name, alias, fl, lo, hi, def)
	d.Unsigned = true
	return d
}

func memD(name, alias string, fl Flag, lo, hi, def int64, unsigned bool) Directive {
	return Directive{Name: name, Alias: alias, Type: TypeMemory, Flags: fl, Min: lo, Max: hi,
		Unsigned: unsigned, Default: strconv.FormatUint(uint64(def), 10)}
}

func enumD(name, alias string, fl Flag, def string, words ...string) Directive {
	vals := make([]int, len(words))
	for i := range vals {
		vals[i] = i
	}
	return Directive{Name: name, Alias: alias, Type: TypeEnum, Flags: fl, Enum: words, enumVals: vals, Default: def}
}

func strD(name, alias string, fl Flag, def string, validate func(string) string) Directive {
	return Directive{Name: name, Alias: alias, Type: TypeString, Flags: fl, Default: def, validate: validate}
}

func specialD(name, alias string, fl Flag, def string, fn func(*setCtx, []string) (string, string)) Directive {
	return Directive{Name: name, Alias: alias, Type: TypeSpecial, Flags: fl, Default: def, special: fn}
}

// builtins returns a fresh copy of the registry.
func builtins() []Directive {
	// usage lists the directives tstd acts on, with a line for --help. Keep it
	// honest: a directive belongs here once the server applies it.
	usageLines := map[string]string{
		"bind":                        "interfaces to listen on, space separated",
		"port":                        "TCP port to listen on",
		"dir":                         "data directory holding the store's files (tstd default ./data)",
		"capacity":                    "decoded values kept in the in-memory cache (entries)",
		"maxmemory":                   "cap on the cache's decoded bytes (0 = entries only); eviction never loses data",
		"appendonly":                  "always yes in tstd: every write is appended to the store's log",
		"appendfsync":                 "when the log is fsynced: always, everysec or no",
		"auto-aof-rewrite-percentage": "compact the log when dead bytes reach this % of live bytes (0 = never)",
		"auto-aof-rewrite-min-size":   "never compact a log smaller than this",
		"requirepass":                 "password for the default user (AUTH)",
		"loglevel":                    "debug, verbose, notice or warning",
		"logfile":                     "log file path; empty logs to standard output",
		"databases":                   "number of logical databases (SELECT 0..n-1)",
		"maxclients":                  "maximum simultaneous client connections",
		"timeout":                     "close idle client connections after this many seconds (0 = never)",
		"tcp-keepalive":               "TCP keepalive period in seconds (0 = off)",
		"proto-max-bulk-len":          "largest bulk string a client may send",
		"client-query-buffer-limit":   "largest pending query buffer per client",
		"client-output-buffer-limit":  "per-class output buffer limits: class hard soft seconds",
	}
	ds := []Directive{
		// Bool configs.
		boolD("rdbchecksum", noAlias, Immutable, true),
		boolD("daemonize", noAlias, Immutable, false),
		boolD("io-threads-do-reads", noAlias, Immutable, false),
		boolD("always-show-logo", noAlias, Immutable, false),
		boolD("protected-mode", noAlias, mutable, true),
		boolD("rdbcompression", noAlias, mutable, true),
		boolD("rdb-del-sync-files", noAlias, mutable, false),
		boolD("activerehashing", noAlias, mutable, true),
		boolD("stop-writes-on-bgsave-error", noAlias, mutable, true),
		boolD("set-proc-title", noAlias, Immutable, true),
		boolD("dynamic-hz", noAlias, mutable, true),
		boolD("lazyfree-lazy-eviction", noAlias, mutable, false),
		boolD("lazyfree-lazy-expire", noAlias, mutable, false),
		boolD("lazyfree-lazy-server-del", noAlias, mutable, false),
		boolD("lazyfree-lazy-user-del", noAlias, mutable, false),
		boolD("lazyfree-lazy-user-flush", noAlias, mutable, false),
		boolD("repl-disable-tcp-nodelay", noAlias, mutable, false),
		boolD("repl-diskless-sync", noAlias, mutable, true),
		boolD("aof-rewrite-incremental-fsync", noAlias, mutable, true),
		boolD("no-appendfsync-on-rewrite", noAlias, mutable, false),
		boolD("cluster-require-full-coverage", noAlias, mutable, true),
		boolD("rdb-save-incremental-fsync", noAlias, mutable, true),
		boolD("aof-load-truncated", noAlias, mutable, true),
		boolD("aof-use-rdb-preamble", noAlias, mutable, true),
		boolD("aof-timestamp-enabled", noAlias, mutable, false),
		boolD("cluster-replica-no-failover", "cluster-slave-no-failover", mutable, false),
		boolD("replica-lazy-flush", "slave-lazy-flush", mutable, false),
		boolD("replica-serve-stale-data", "slave-serve-stale-data", mutable, true),
		boolD("replica-read-only", "slave-read-only", mutable, true),
		boolD("replica-ignore-maxmemory", "slave-ignore-maxmemory", mutable, true),
		boolD("jemalloc-bg-thread", noAlias, mutable, true),
		func() Directive {
			// tstd, like a Redis built without its patched jemalloc, cannot defragment.
			d := boolD("activedefrag", noAlias, mutable, false)
			d.validate = func(v string) string {
				if v == "yes" {
					return "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
				}
				return ""
			}
			return d
		}(),
		boolD("syslog-enabled", noAlias, Immutable, false),
		boolD("cluster-enabled", noAlias, Immutable, false),
		// tstd differs by design: every write goes to the store's log, so
		// the truthful answer is yes (Redis: no).
		boolD("appendonly", noAlias, DenyLoading, true),
		boolD("cluster-allow-reads-when-down", noAlias, mutable, false),
		boolD("cluster-allow-pubsubshard-when-down", noAlias, mutable, true),
		boolD("crash-log-enabled", noAlias, mutable, true),
		boolD("crash-memcheck-enabled", noAlias, mutable, true),
		boolD("use-exit-on-panic", noAlias, Hidden, false),
		boolD("disable-thp", noAlias, Immutable, true),
		boolD("cluster-allow-replica-migration", noAlias, mutable, true),
		boolD("replica-announced", noAlias, mutable, true),
		boolD("latency-tracking", noAlias, mutable, true),
		boolD("aof-disable-auto-gc", noAlias, mutable, false),
		boolD("replica-ignore-disk-write-errors", noAlias, mutable, false),
		boolD("tls-cluster", noAlias, mutable, false),
		boolD("tls-replication", noAlias, mutable, false),
		boolD("tls-prefer-server-ciphers", noAlias, mutable, false),
		boolD("tls-session-caching", noAlias, mutable, true),

		// String configs.
		strD("aclfile", noAlias, Immutable, "", nil),
		strD("unixsocket", noAlias, Immutable, "", nil),
		strD("pidfile", noAlias, Immutable, "", nil),
		strD("replica-announce-ip", "slave-announce-ip", mutable, "", nil),
		strD("masteruser", noAlias, Sensitive, "", nil),
		strD("cluster-announce-ip", noAlias, mutable, "", nil),
		strD("cluster-config-file", noAlias, Immutable, "nodes.conf", nil),
		strD("cluster-announce-hostname", noAlias, mutable, "", validHostname),
		strD("syslog-ident", noAlias, Immutable, "redis", nil),
		strD("dbfilename", noAlias, Protected, "dump.rdb", validBaseName("dbfilename", "filename", true)),
		strD("appendfilename", noAlias, Immutable, "appendonly.aof", validBaseName("appendfilename", "filename", false)),
		strD("appenddirname", noAlias, Immutable, "appendonlydir", validBaseName("appenddirname", "dirname", false)),
		strD("server_cpulist", noAlias, Immutable, "", nil),
		strD("bio_cpulist", noAlias, Immutable, "", nil),
		strD("aof_rewrite_cpulist", noAlias, Immutable, "", nil),
		strD("bgsave_cpulist", noAlias, Immutable, "", nil),
		strD("ignore-warnings", noAlias, mutable, "", nil),
		strD("proc-title-template", noAlias, mutable, "{title} {listen-addr} {server-mode}", validProcTitle),
		strD("bind-source-addr", noAlias, mutable, "", nil),
		strD("logfile", noAlias, Immutable, "", nil),
		strD("masterauth", noAlias, Sensitive, "", nil),
		strD("requirepass", noAlias, Sensitive, "", nil),
		strD("tls-cert-file", noAlias, mutable, "", nil),
		strD("tls-key-file", noAlias, mutable, "", nil),
		strD("tls-key-file-pass", noAlias, Sensitive, "", nil),
		strD("tls-client-cert-file", noAlias, mutable, "", nil),
		strD("tls-client-key-file", noAlias, mutable, "", nil),
		strD("tls-client-key-file-pass", noAlias, Sensitive, "", nil),
		strD("tls-dh-params-file", noAlias, mutable, "", nil),
		strD("tls-ca-cert-file", noAlias, mutable, "", nil),
		strD("tls-ca-cert-dir", noAlias, mutable, "", nil),
		strD("tls-protocols", noAlias, mutable, "", nil),
		strD("tls-ciphers", noAlias, mutable, "", nil),
		strD("tls-ciphersuites", noAlias, mutable, "", nil),

		// Enum configs.
		enumD("supervised", noAlias, Immutable, "no", "upstart", "systemd", "auto", "no"),
		enumD("syslog-facility", noAlias, Immutable, "local0", "user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"),
		enumD("repl-diskless-load", noAlias, DenyLoading, "disabled", "disabled", "on-empty-db", "swapdb"),
		enumD("loglevel", noAlias, mutable, "notice", "debug", "verbose", "notice", "warning"),
		enumD("maxmemory-policy", noAlias, mutable, "noeviction", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"),
		enumD("appendfsync", noAlias, mutable, "everysec", "everysec", "always", "no"),
		func() Directive {
			d := enumD("oom-score-adj", noAlias, mutable, "no", "no", "yes", "relative", "absolute")
			d.enumVals = []int{0, 1, 1, 2} // "relative" is "yes"
			return d
		}(),
		enumD("acl-pubsub-default", noAlias, mutable, "resetchannels", "allchannels", "resetchannels"),
		enumD("sanitize-dump-payload", noAlias, mutable, "no", "no", "yes", "clients"),
		enumD("enable-protected-configs", noAlias, Immutable, "no", "no", "yes", "local"),
		enumD("enable-debug-command", noAlias, Immutable, "no", "no", "yes", "local"),
		enumD("enable-module-command", noAlias, Immutable, "no", "no", "yes", "local"),
		enumD("cluster-preferred-endpoint-type", noAlias, mutable, "ip", "ip", "hostname", "unknown-endpoint"),
		enumD("propagation-error-behavior", noAlias, mutable, "ignore", "ignore", "panic", "panic-on-replicas"),
		shutdownD("shutdown-on-sigint"),
		shutdownD("shutdown-on-sigterm"),
		enumD("tls-auth-clients", noAlias, mutable, "yes", "no", "yes", "optional"),

		// Integer configs.
		intD("databases", noAlias, Immutable, 1, intMax, 16),
		intD("port", noAlias, mutable, 0, 65535, 6379),
		intD("io-threads", noAlias, Immutable, 1, 128, 1),
		intD("auto-aof-rewrite-percentage", noAlias, mutable, 0, intMax, 100),
		intD("cluster-replica-validity-factor", "cluster-slave-validity-factor", mutable, 0, intMax, 10),
		intD("list-max-listpack-size", "list-max-ziplist-size", mutable, intMin, intMax, -2),
		intD("tcp-keepalive", noAlias, mutable, 0, intMax, 300),
		intD("cluster-migration-barrier", noAlias, mutable, 0, intMax, 1),
		intD("active-defrag-cycle-min", noAlias, mutable, 1, 99, 1),
		intD("active-defrag-cycle-max", noAlias, mutable, 1, 99, 25),
		intD("active-defrag-threshold-lower", noAlias, mutable, 0, 1000, 10),
		intD("active-defrag-threshold-upper", noAlias, mutable, 0, 1000, 100),
		intD("lfu-log-factor", noAlias, mutable, 0, intMax, 10),
		intD("lfu-decay-time", noAlias, mutable, 0, intMax, 1),
		intD("replica-priority", "slave-priority", mutable, 0, intMax, 100),
		intD("repl-diskless-sync-delay", noAlias, mutable, 0, intMax, 5),
		intD("maxmemory-samples", noAlias, mutable, 1, intMax, 5),
		intD("maxmemory-eviction-tenacity", noAlias, mutable, 0, 100, 10),
		intD("timeout", noAlias, mutable, 0, intMax, 0),
		intD("replica-announce-port", "slave-announce-port", mutable, 0, 65535, 0),
		intD("tcp-backlog", noAlias, Immutable, 0, intMax, 511),
		intD("cluster-port", noAlias, Immutable, 0, 65535, 0),
		intD("cluster-announce-bus-port", noAlias, mutable, 0, 65535, 0),
		intD("cluster-announce-port", noAlias, mutable, 0, 65535, 0),
		intD("cluster-announce-tls-port", noAlias, mutable, 0, 65535, 0),
		intD("repl-timeout", noAlias, mutable, 1, intMax, 60),
		intD("repl-ping-replica-period", "repl-ping-slave-period", mutable, 1, intMax, 10),
		intD("list-compress-depth", noAlias, mutable, 0, intMax, 0),
		intD("rdb-key-save-delay", noAlias, Hidden, intMin, intMax, 0),
		intD("key-load-delay", noAlias, Hidden, intMin, intMax, 0),
		intD("active-expire-effort", noAlias, mutable, 1, 10, 1),
		func() Directive {
			// Redis accepts any hz but clamps it to [1, 500] when applying.
			d := intD("hz", noAlias, mutable, 0, intMax, 10)
			d.fix = func(v string, _ bool) string {
				n, _ := strconv.ParseInt(v, 10, 64)
				return itoa(min(max(n, 1), 500))
			}
			return d
		}(),
		intD("min-replicas-to-write", "min-slaves-to-write", mutable, 0, intMax, 0),
		intD("min-replicas-max-lag", "min-slaves-max-lag", mutable, 0, intMax, 10),
		intD("watchdog-period", noAlias, Hidden, 0, intMax, 0),
		intD("shutdown-timeout", noAlias, mutable, 0, intMax, 10),
		intD("repl-diskless-sync-max-replicas", noAlias, mutable, 0, intMax, 0),
		intD("tls-port", noAlias, mutable, 0, 65535, 0),
		intD("tls-session-cache-size", noAlias, mutable, 0, intMax, 20480),
		intD("tls-session-cache-timeout", noAlias, mutable, 0, intMax, 300),

		// Unsigned int configs.
		uintD("maxclients", noAlias, mutable, 1, uintMax, 10000),
		{Name: "unixsocketperm", Type: TypeOctal, Flags: Immutable, Min: 0, Max: 0o777, Unsigned: true, Default: "0"},
		uintD("socket-mark-id", noAlias, Immutable, 0, uintMax, 0),

		// Unsigned long configs: Redis bounds-checks them as signed.
		intD("active-defrag-max-scan-fields", noAlias, mutable, 1, longMax, 1000),
		intD("slowlog-max-len", noAlias, mutable, 0, longMax, 128),
		intD("acllog-max-len", noAlias, mutable, 0, longMax, 128),

		// Long long configs.
		intD("busy-reply-threshold", "lua-time-limit", mutable, 0, longMax, 5000),
		intD("cluster-node-timeout", noAlias, mutable, 0, longMax, 15000),
		intD("slowlog-log-slower-than", noAlias, mutable, -1, longMax, 10000),
		intD("latency-monitor-threshold", noAlias, mutable, 0, longMax, 0),
		memD("proto-max-bulk-len", noAlias, mutable, 1024*1024, longMax, 512*1024*1024, false),
		intD("stream-node-max-entries", noAlias, mutable, 0, longMax, 100),
		func() Directive {
			// CONFIG SET raises it to 16kb when resizing the backlog; a
			// file's value stays as given.
			d := memD("repl-backlog-size", noAlias, mutable, 1, longMax, 1024*1024, false)
			d.fix = func(v string, runtime bool) string {
				if n, _ := strconv.ParseInt(v, 10, 64); runtime && n < 16*1024 {
					return "16384"
				}
				return v
			}
			return d
		}(),

		// Unsigned long long configs.
		memD("maxmemory", noAlias, mutable, 0, ullMax, 0, true),
		memD("cluster-link-sendbuf-limit", noAlias, mutable, 0, ullMax, 0, true),

		// size_t configs.
		uintD("hash-max-listpack-entries", "hash-max-ziplist-entries", mutable, 0, longMax, 512),
		uintD("set-max-intset-entries", noAlias, mutable, 0, longMax, 512),
		uintD("zset-max-listpack-entries", "zset-max-ziplist-entries", mutable, 0, longMax, 128),
		memD("active-defrag-ignore-bytes", noAlias, mutable, 1, longMax, 100<<20, true),
		memD("hash-max-listpack-value", "hash-max-ziplist-value", mutable, 0, longMax, 64, true),
		memD("stream-node-max-bytes", noAlias, mutable, 0, longMax, 4096, true),
		memD("zset-max-listpack-value", "zset-max-ziplist-value", mutable, 0, longMax, 64, true),
		memD("hll-sparse-max-bytes", noAlias, mutable, 0, longMax, 3000, true),
		uintD("tracking-table-max-keys", noAlias, mutable, 0, longMax, 1000000),
		memD("client-query-buffer-limit", noAlias, mutable, 1024*1024, longMax, 1024*1024*1024, true),
		{Name: "maxmemory-clients", Type: TypeMemoryPercent, Min: -100, Max: longMax, Default: "0"},

		// time_t and off_t configs.
		intD("repl-backlog-ttl", noAlias, mutable, 0, longMax, 3600),
		memD("auto-aof-rewrite-min-size", noAlias, mutable, 0, longMax, 64*1024*1024, false),
		intD("loading-process-events-interval-bytes", noAlias, Hidden, 1024, intMax, 2*1024*1024),

		// Special configs.
		// tstd differs by design: its data lives in ./data, not the
		// working directory, so that the seed's --data default holds.
		specialD("dir", noAlias, Protected|DenyLoading, "./data", parseDir),
		specialD("save", noAlias, MultiArg, defaultP, parseSave),
		specialD("client-output-buffer-limit", noAlias, MultiArg,
			"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", parseClientOutputBufferLimit),
		specialD("oom-score-adj-values", noAlias, MultiArg, "0 200 800", parseOOMScoreAdjValues),
		specialD("notify-keyspace-events", noAlias, mutable, "", parseNotify),
		// tstd differs by design: it listens on loopback unless told
		// otherwise, as the seed did (Redis's compiled default: "* -::*").
		specialD("bind", noAlias, MultiArg, "127.0.0.1", parseBind),
		specialD("replicaof", "slaveof", Immutable|MultiArg, "", parseReplicaOf),
		specialD("latency-tracking-info-percentiles", noAlias, MultiArg, "50 99 99.9", parsePercentiles),

		// tstd's own directives.
		intD("capacity", noAlias, Tstd, 1, longMax, 10000),
	}
	for i := range ds {
		ds[i].Usage = usageLines[ds[i].Name]
	}
	return ds
}

// shutdownD is shutdown-on-sigint/sigterm: flag words combined.
func shutdownD(name string) Directive {
	d := enumD(name, noAlias, MultiArg, "default", "default", "save", "nosave", "now", "force")
	d.enumVals = []int{0, 1, 2, 4, 8}
	d.validate = func(v string) string {
		f := strings.Fields(v)
		has := func(w string) bool {
			for _, x := range f {
				if x == w {
					return true
				}
			}
			return false
		}
		if has("save") && has("nosave") {
			return "shutdown options SAVE and NOSAVE can't be used simultaneously"
		}
		return ""
	}
	return d
}
