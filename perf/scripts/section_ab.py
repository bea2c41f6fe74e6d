#!/usr/bin/env python3
"""A/B of tstd binaries on servers that live through the whole run, as in bench-compare.

hotpath_ab.py starts fresh servers every round; this script starts one server
per binary and one redis-server (--save "" --appendonly no) once, loads the
same keyspace into each (POP, default /tmp/pop1k.resp: 1M `SET key:%012d`
with 1 KiB values), then for each pipeline group runs ROUNDS rounds of the
tests with -d 1024, each test against every server in an order rotated by
round and test, so that collections, compactions and snapshots accumulate as
they do in bench-compare's 1 KiB section. Like bench-compare it waits before
each run until no server reports a background rewrite or save in INFO
persistence (up to 2 minutes). It prints per test the median requests per
second of each server, the ratio to redis-server, the median server CPU
microseconds per request (utime+stime from /proc/PID/stat, 10 ms ticks) and
each tstd's per-round throughput. tstd's logs (level verbose) go to
LOGDIR/NAME.log (LOGDIR default /tmp).

  python3 perf/scripts/section_ab.py base=/tmp/tstd-base new=bin/tstd

Environment: TESTS (comma list, default the matrix's tests but ping),
PIPELINES (PIPELINE:N,..., default 16:105000,64:130000), ROUNDS (default 5),
POP, LOGDIR. Needs redis-server, redis-benchmark and redis-cli.
"""

import csv
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hotpath_ab import cpu_secs, free_port  # noqa: E402


def quiesce(servers):
    start = time.time()
    while time.time() - start < 120:
        busy = False
        for port, _ in servers.values():
            info = subprocess.run(["redis-cli", "-p", str(port), "info", "persistence"],
                                  capture_output=True, text=True).stdout
            if any(f"{k}:1" in info for k in ("aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress")):
                busy = True
        if not busy:
            break
        time.sleep(0.05)
    return time.time() - start


def main():
    bins = [a.split("=", 1) for a in sys.argv[1:]]
    if not bins or any(len(b) != 2 for b in bins):
        sys.exit(__doc__)
    tmp = tempfile.mkdtemp()
    logdir = os.environ.get("LOGDIR", "/tmp")
    servers, procs = {}, []
    try:
        for name, path in bins:
            port, d = free_port(), tempfile.mkdtemp(dir=tmp)
            log = open(os.path.join(logdir, f"{name}.log"), "w")
            p = subprocess.Popen([path, "--port", str(port), "--bind", "127.0.0.1", "--data", d,
                                  "--loglevel", "verbose"], stdout=log, stderr=log)
            servers[name] = (port, p)
            procs.append(p)
        port, d = free_port(), tempfile.mkdtemp(dir=tmp)
        p = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL)
        servers["redis"] = (port, p)
        procs.append(p)
        time.sleep(1)
        pop = os.environ.get("POP", "/tmp/pop1k.resp")
        for name, (port, _) in servers.items():
            subprocess.run(f"redis-cli -p {port} --pipe < {pop} > /dev/null", shell=True, check=True)
        tests = os.environ.get("TESTS", "set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset").split(",")
        rounds = int(os.environ.get("ROUNDS", "5"))
        groups = [tuple(int(v) for v in g.split(":")) for g in os.environ.get("PIPELINES", "16:105000,64:130000").split(",")]
        names = list(servers)
        res, waited = {}, {}
        for P, n in groups:
            for r in range(rounds):
                for ti, t in enumerate(tests):
                    k = (r + ti) % len(names)
                    for name in names[k:] + names[:k]:
                        port, p = servers[name]
                        waited[name] = waited.get(name, 0) + quiesce(servers)
                        c0 = cpu_secs(p.pid)
                        out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", t, "-P", str(P), "-c", "50",
                                              "-d", "1024", "-n", str(n), "-r", "1000000", "--csv"],
                                             capture_output=True, text=True, check=True).stdout
                        c1 = cpu_secs(p.pid)
                        rps = float(list(csv.reader(io.StringIO(out)))[-1][1])
                        res.setdefault((P, t, name), []).append((rps, (c1 - c0) / n * 1e6))
                print(f"P{P} round {r + 1} done", file=sys.stderr, flush=True)
        for P, n in groups:
            print(f"== P{P}, -n {n}: median req/s (ratio to redis, server CPU us per request) | each tstd's req/s by round (k)")
            for t in tests:
                med = {nm: statistics.median(x[0] for x in res[(P, t, nm)]) for nm in names}
                us = {nm: statistics.median(x[1] for x in res[(P, t, nm)]) for nm in names}
                line = f"{t:12s} " + " ".join(
                    f"{nm}={med[nm] / 1000:.0f}k({med[nm] / med['redis']:.2f}x,{us[nm]:.2f}us)" for nm in names)
                byr = " | " + " ".join(nm + ":" + ",".join(f"{x[0] / 1000:.0f}" for x in res[(P, t, nm)])
                                       for nm in names if nm != "redis")
                print(line + byr)
        print("seconds waited for background rewrites before runs:", {k: round(v, 1) for k, v in waited.items()})
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
