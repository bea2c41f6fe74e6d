#!/usr/bin/python3
"""Drive a Redis-compatible server with redis-py, as its users do.

Usage: test_redis_py.py [HOST [PORT]]   (default: $TSTD_HOST or 127.0.0.1,
$TSTD_PORT or 6379)

Runs every check with a RESP2 client (protocol 2, redis-py's default) and,
when the installed redis-py supports it (5.0 and later), again with
protocol=3. Every check runs even when an earlier one failed; the script
prints one line per failure and exits 1 if there was any, 2 on bad usage,
0 when all passed. It flushes the server's data: point it only at a test
server. Run by test/clients (TestRedisPy) with Debian's python3-redis.
"""

import inspect
import os
import sys
import threading
import traceback

import redis

HOST = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TSTD_HOST", "127.0.0.1")
try:
    PORT = int(sys.argv[2] if len(sys.argv) > 2 else os.environ.get("TSTD_PORT", "6379"))
except ValueError:
    print("usage: test_redis_py.py [HOST [PORT]]", file=sys.stderr)
    sys.exit(2)

BINARY = bytes(range(256)) * 2 + b"\r\n\x00\r\n\xff\xfe\xc3\x28$-1\r\n*3\r\n"
NOT_INTEGER = "value is not an integer or out of range"


class CheckFailed(Exception):
    """A check saw something other than what Redis answers."""


def eq(what, got, want):
    if got != want:
        raise CheckFailed(f"{what}: got {got!r}, want {want!r}")


def ok(what, cond, detail=""):
    if not cond:
        raise CheckFailed(f"{what}: {detail}")


def client(proto, **kw):
    """A client with bounded socket waits; protocol only where supported."""
    opts = dict(host=HOST, port=PORT, socket_timeout=10, socket_connect_timeout=5)
    if proto != 2:
        opts["protocol"] = proto
    opts.update(kw)
    return redis.Redis(**opts)


def check_basics(proto):
    r = client(proto, decode_responses=True)
    eq("PING", r.ping(), True)
    eq("ECHO", r.echo("a b"), "a b")
    eq("SET", r.set("py:a", "hello"), True)
    eq("GET", r.get("py:a"), "hello")
    eq("GET missing", r.get("py:missing"), None)
    eq("SET NX on existing", r.set("py:a", "x", nx=True), None)
    eq("SET GET", r.set("py:a", "world", get=True), "hello")
    eq("APPEND", r.append("py:a", "!"), 6)
    eq("STRLEN", r.strlen("py:a"), 6)
    eq("GETRANGE", r.getrange("py:a", 0, 2), "wor")
    eq("MSET", r.mset({"py:m1": "1", "py:m2": "2"}), True)
    eq("MGET", r.mget("py:m1", "py:missing", "py:m2"), ["1", None, "2"])
    eq("MSETNX", r.msetnx({"py:m1": "x", "py:m3": "y"}), False)
    eq("INCR", r.incr("py:n"), 1)
    eq("INCRBY", r.incrby("py:n", 41), 42)
    eq("DECR", r.decr("py:n"), 41)
    eq("INCRBYFLOAT", r.incrbyfloat("py:f", 1.5), 1.5)
    eq("EXISTS", r.exists("py:m1", "py:m2", "py:missing"), 2)
    eq("TYPE", r.type("py:m1"), "string")
    eq("DEL", r.delete("py:m1", "py:missing"), 1)
    eq("GETDEL", r.getdel("py:m2"), "2")
    try:
        r.incr("py:a")
    except redis.ResponseError as e:
        eq("INCR on a string: error", str(e), NOT_INTEGER)
    else:
        raise CheckFailed("INCR on a string: no error")
    eq("GET after an error", r.get("py:n"), "41")


def check_expire(proto):
    r = client(proto, decode_responses=True)
    r.set("py:e", "v")
    eq("TTL without expiry", r.ttl("py:e"), -1)
    eq("TTL missing key", r.ttl("py:missing"), -2)
    eq("EXPIRE", r.expire("py:e", 100), True)
    ttl = r.ttl("py:e")
    ok("TTL after EXPIRE 100", 90 < ttl <= 100, f"got {ttl}")
    pttl = r.pttl("py:e")
    ok("PTTL after EXPIRE 100", 90000 < pttl <= 100000, f"got {pttl}")
    eq("EXPIRE missing key", r.expire("py:missing", 10), False)
    eq("PERSIST", r.persist("py:e"), True)
    eq("TTL after PERSIST", r.ttl("py:e"), -1)
    eq("SET EX", r.set("py:e2", "v", ex=50), True)
    ttl = r.ttl("py:e2")
    ok("TTL after SET EX 50", 40 < ttl <= 50, f"got {ttl}")
    eq("SETEX", r.setex("py:e3", 20, "v"), True)
    eq("PEXPIRE", r.pexpire("py:e3", 5000), True)
    pttl = r.pttl("py:e3")
    ok("PTTL after PEXPIRE 5000", 0 < pttl <= 5000, f"got {pttl}")


def check_scan(proto):
    r = client(proto, decode_responses=True)
    want = set()
    p = r.pipeline(transaction=False)
    for i in range(500):
        k = f"py:s:{i:03d}"
        want.add(k)
        p.set(k, i)
    p.set("py:other", 1)
    p.execute()
    got = list(r.scan_iter(match="py:s:*", count=17))
    eq("SCAN MATCH py:s:* distinct keys", len(set(got)), 500)
    eq("SCAN MATCH py:s:* keys", set(got), want)
    eq("SCAN all keys", len(set(r.scan_iter(count=100))), 501)
    eq("SCAN MATCH class", len(set(r.scan_iter(match="py:s:0[0-4]?", count=50))), 50)
    eq("SCAN TYPE string", len(set(r.scan_iter(count=100, _type="string"))), 501)
    eq("SCAN TYPE hash", list(r.scan_iter(count=100, _type="hash")), [])
    eq("KEYS", len(r.keys("py:s:4*")), 100)
    eq("DBSIZE", r.dbsize(), 501)


def check_pipeline(proto):
    r = client(proto, decode_responses=True)
    p = r.pipeline(transaction=False)
    n = 250
    for i in range(n):
        p.set(f"py:p:{i}", f"v{i}")
        p.get(f"py:p:{i}")
        p.incr("py:p:ctr")
        p.mget(f"py:p:{i}", "py:p:missing")
    res = p.execute()
    eq("pipeline replies", len(res), 4 * n)
    for i in range(n):
        eq(f"pipeline SET {i}", res[4 * i], True)
        eq(f"pipeline GET {i}", res[4 * i + 1], f"v{i}")
        eq(f"pipeline INCR {i}", res[4 * i + 2], i + 1)
        eq(f"pipeline MGET {i}", res[4 * i + 3], [f"v{i}", None])
    p = r.pipeline(transaction=False)
    p.set("py:p:s", "abc")
    p.incr("py:p:s")
    p.get("py:p:s")
    res = p.execute(raise_on_error=False)
    ok("pipeline INCR on a string", isinstance(res[1], redis.ResponseError), f"got {res[1]!r}")
    eq("pipeline INCR on a string: error", str(res[1]), NOT_INTEGER)
    eq("pipeline GET after the error", res[2], "abc")


def check_binary(proto):
    r = client(proto)  # bytes in, bytes out
    key = b"py:b:\x00\r\n\xff"
    eq("SET binary", r.set(key, BINARY), True)
    eq("GET binary", r.get(key), BINARY)
    big = os.urandom(1 << 20)
    r.set(b"py:b:big", big)
    r.set(b"py:b:empty", b"")
    got = r.mget([b"py:b:big", key, b"py:b:empty"])
    ok("MGET binary", got == [big, BINARY, b""], f"lengths {[len(x or b'') for x in got]}")
    eq("APPEND NUL", r.append(key, b"\x00"), len(BINARY) + 1)
    eq("GETRANGE binary", r.getrange(key, 0, 255), bytes(range(256)))
    eq("STRLEN 1MiB", r.strlen(b"py:b:big"), 1 << 20)


def check_info_config(proto):
    r = client(proto, decode_responses=True)
    r.mset({"py:i:a": 1, "py:i:b": 2, "py:i:c": 3})
    r.expire("py:i:a", 3600)
    info = r.info()
    ok("INFO redis_version", str(info.get("redis_version", "")).startswith("7."), f"got {info.get('redis_version')!r}")
    eq("INFO redis_mode", info.get("redis_mode"), "standalone")
    eq("INFO tcp_port", info.get("tcp_port"), PORT)
    ok("INFO connected_clients", info.get("connected_clients", 0) >= 1, f"got {info.get('connected_clients')!r}")
    ks = r.info("keyspace")
    db0 = ks.get("db0", {})
    eq("INFO keyspace db0 keys", db0.get("keys"), 3)
    eq("INFO keyspace db0 expires", db0.get("expires"), 1)
    ok("INFO keyspace without empty db1", "db1" not in ks, f"got {ks!r}")
    server = r.info("server")
    ok("INFO server only", "redis_version" in server and "connected_clients" not in server, f"keys {sorted(server)}")

    eq("CONFIG GET databases", r.config_get("databases"), {"databases": "16"})
    eq("CONFIG GET port", r.config_get("port"), {"port": str(PORT)})
    mm = r.config_get("maxmemory*")
    ok("CONFIG GET maxmemory*", "maxmemory" in mm and "maxmemory-policy" in mm, f"got {mm!r}")
    eq("CONFIG GET unknown", r.config_get("no-such-directive"), {})
    eq("CONFIG SET hz", r.config_set("hz", 20), True)
    eq("CONFIG GET hz", r.config_get("hz"), {"hz": "20"})
    r.config_set("hz", 10)


def check_client_name(proto):
    r = client(proto, decode_responses=True, single_connection_client=True)
    eq("CLIENT SETNAME", r.client_setname("py-conn"), True)
    eq("CLIENT GETNAME", r.client_getname(), "py-conn")
    info = r.client_info()
    eq("CLIENT INFO name", info.get("name"), "py-conn")
    eq("CLIENT INFO db", str(info.get("db")), "0")
    eq("CLIENT ID", str(r.client_id()), str(info.get("id")))
    try:
        r.client_setname("has space")
    except redis.ResponseError as e:
        eq("CLIENT SETNAME with a space", str(e), "Client names cannot contain spaces, newlines or special characters.")
    else:
        raise CheckFailed("CLIENT SETNAME with a space: no error")
    named = client(proto, decode_responses=True, client_name="py-pool")
    eq("client_name= on connect", named.client_getname(), "py-pool")
    names = [c.get("name") for c in r.client_list()]
    ok("CLIENT LIST names", "py-conn" in names and "py-pool" in names, f"got {names!r}")


def check_db_flush(proto):
    r0 = client(proto, decode_responses=True)
    r3 = client(proto, decode_responses=True, db=3)
    for i in range(8):
        r3.set(f"py:d:{i}", i)
    eq("DBSIZE db 3", r3.dbsize(), 8)
    eq("DBSIZE db 0", r0.dbsize(), 0)
    eq("GET db-3 key on db 0", r0.get("py:d:0"), None)
    eq("CLIENT INFO db on db=3 client", str(r3.client_info().get("db")), "3")
    eq("SWAPDB 0 3", r0.swapdb(0, 3), True)
    eq("DBSIZE db 0 after SWAPDB", r0.dbsize(), 8)
    eq("FLUSHDB", r0.flushdb(), True)
    eq("DBSIZE after FLUSHDB", r0.dbsize(), 0)
    r3.set("py:d:x", 1)
    eq("FLUSHALL", r0.flushall(), True)
    eq("DBSIZE db 3 after FLUSHALL", r3.dbsize(), 0)


def check_threads(proto):
    """Ten threads share one client through a blocking pool of 6 connections."""
    kw = dict(host=HOST, port=PORT, socket_timeout=10, socket_connect_timeout=5,
              decode_responses=True, max_connections=6, timeout=30)
    if proto != 2:
        kw["protocol"] = proto
    r = redis.Redis(connection_pool=redis.BlockingConnectionPool(**kw))
    errors = []

    def worker(w):
        try:
            for i in range(50):
                k = f"py:t:{w}:{i}"
                r.set(k, i)
                if r.get(k) != str(i):
                    errors.append(f"thread {w}: GET {k} wrong")
                    return
                if r.incr(f"py:t:{w}:ctr") != i + 1:
                    errors.append(f"thread {w}: INCR wrong")
                    return
        except Exception as e:  # reported below
            errors.append(f"thread {w}: {e!r}")

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    ok("threads finished", not any(t.is_alive() for t in threads), "a thread is still running after 60s")
    ok("threads", not errors, "; ".join(errors[:5]))
    eq("DBSIZE after threads", r.dbsize(), 10 * 51)


CHECKS = [
    check_basics,
    check_expire,
    check_scan,
    check_pipeline,
    check_binary,
    check_info_config,
    check_client_name,
    check_db_flush,
    check_threads,
]


def main():
    protocols = [2]
    if "protocol" in inspect.signature(redis.Redis.__init__).parameters:
        protocols.append(3)
    else:
        print(f"redis-py {redis.__version__} has no protocol= option: RESP2 only")
    failures = []
    passed = 0
    for proto in protocols:
        for check in CHECKS:
            name = f"resp={proto} {check.__name__}"
            try:
                client(proto).flushall()
                check(proto)
                passed += 1
            except CheckFailed as e:
                failures.append(f"{name}: {e}")
            except Exception:  # a client or server error: show where
                failures.append(f"{name}: {traceback.format_exc().strip()}")
    for f in failures:
        print("FAIL", f)
    print(f"redis-py {redis.__version__} against {HOST}:{PORT}: {passed} checks ok, {len(failures)} failing")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
