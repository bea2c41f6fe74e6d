// Package config is tstd's one registry of configuration directives. The
// same table drives the redis.conf-style file (LoadFile), command-line
// flags (SetArgs), TSTD_* environment variables (LoadEnv), CONFIG GET and
// CONFIG SET (Get, Set), CONFIG REWRITE (Rewrite) and --help (Directives).
//
// The registry knows every directive of Redis 7.0.15 with Redis's types,
// bounds, defaults, aliases (slaveof for replicaof, hash-max-ziplist-entries
// for hash-max-listpack-entries, ...) and flags, and parses, validates and
// prints values exactly as Redis does, with Redis's error texts: clients,
// tools and operators see the same answers as from redis-server. Directives
// that do not apply to ToonStore's design (encoding thresholds, RDB and AOF
// file names, cluster, TLS, ...) are accepted, validated and reported back
// all the same; the server acts on those it registers OnChange hooks for.
//
// Defaults differ from Redis's only by design:
//
//	dir         ./data (absolute)   Redis: the working directory
//	bind        127.0.0.1           Redis: * -::* (tstd stays on loopback, as the seed)
//	appendonly  yes                 Redis: no (tstd always writes its log)
//
// and tstd adds its own directive:
//
//	capacity    10000               decoded values kept in the cache (entries)
//
// tstd never changes the process's working directory: "dir" is kept as an
// absolute path that the store opens.
//
// Values are held normalized, as CONFIG GET prints them: memory in bytes,
// booleans as yes/no, enums in their canonical spelling, "save" as
// "3600 1 300 100 60 10000". A Config is safe for concurrent use.
package config
