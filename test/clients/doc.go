// Package clients proves that tstd works with the Redis client libraries
// people actually use, driven as their users drive them: go-redis/v9 (RESP2
// and RESP3, pooled, pipelined), rueidis (RESP3 only), redis-py (Debian's
// python3-redis, run as /usr/bin/python3 py/test_redis_py.py), node-redis and
// ioredis (node/, pinned by node/package-lock.json, installed with npm ci on
// first use).
//
// The package holds only tests. Every client test runs twice, as subtests
// server=tstd (an in-process pkg/server on 127.0.0.1:0 over t.TempDir()) and
// server=redis (a real redis-server 7.0 on a free loopback port): the redis
// run proves each expectation is Redis's own behaviour, so a failure only
// under server=tstd is a tstd incompatibility.
//
// Missing tools (redis-server, node, npm, /usr/bin/python3 with the redis
// module) skip the tests that need them with a reason, unless
// TSTD_REQUIRE_REDIS=1 is set (as CI does), in which case they fail.
// TSTD_PYTHON overrides the Python interpreter (default /usr/bin/python3:
// the python3 first on PATH may be one without the redis module).
package clients
