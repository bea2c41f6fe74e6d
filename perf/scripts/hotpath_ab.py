#!/usr/bin/env python3
"""A/B/A/B redis-benchmark runs of one or more tstd binaries against redis-server.

Used for perf/results/hotpath.md. Each round starts every server fresh (empty
data directory), then runs the same redis-benchmark command against each in
turn, rotating the order every round, and samples each server's CPU time
(utime+stime from /proc/PID/stat) around the run. It prints, per test, the
median ops/s of each server over the rounds, the ratio to redis-server, and
the median ops per server-CPU-second.

  python3 perf/scripts/hotpath_ab.py -b new=bin/tstd -b old=/tmp/tstd-old \
      -P 64 -c 50 -t set,get,incr,mget -n 2000000 -rounds 5

-aof adds redis-server with --appendonly yes --appendfsync everysec
("redis-aof"), the reference of the persistence targets; ratios stay to
redis-server without persistence.

-populate N loads N keys of each of redis-benchmark's -r key names first
(not counted in the CPU figures), so that GET and INCR find existing keys.

A binary spec is NAME=PATH[,ENV=VAL...][,--flag=value...], e.g.
one=bin/tstd,--loops=1 or gc=bin/tstd,GOGC=400.
"""

import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import time

TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK


def wait_port(port, proc):
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit(f"server on {port} exited: {proc.returncode}")
        try:
            # Ready means PONG: tstd listens before its data directory is
            # loaded and answers -LOADING until then.
            with socket.create_connection(("127.0.0.1", port), 0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"server on {port} never listened")


def start(name, spec, tmp):
    port = free_port()
    if name in ("redis", "redis-aof"):
        aof = ["yes", "--appendfsync", "everysec"] if name == "redis-aof" else ["no"]
        cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly"] + aof + ["--dir", tmp]
        env = os.environ.copy()
    else:
        parts = spec.split(",")
        env = os.environ.copy()
        flags = []
        for kv in parts[1:]:
            if kv.startswith("--"):
                flags.append(kv)
                continue
            k, v = kv.split("=", 1)
            env[k] = v
        cmd = [parts[0], "--port", str(port), "--bind", f"127.0.0.1:{port}",
               "--data", os.path.join(tmp, "data"), "--loglevel", "warning"] + flags
        if "PPROF" in env:
            cmd += ["--pprof", env["PPROF"]]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, p)
    return p, port


def populate_file(a, tmpdir):
    """Writes the RESP of the -populate SETs once: key:%012d with a -d byte
    value and counter:%012d = 0 for i < N, the names redis-benchmark -r
    uses for GET/SET and INCR, so reads hit existing keys."""
    path = os.path.join(tmpdir, "populate.resp")
    val = "x" * a.d
    with open(path, "w") as f:
        for i in range(a.populate):
            for k, v in ((f"key:{i:012d}", val), (f"counter:{i:012d}", "0")):
                f.write(f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n${len(v)}\r\n{v}\r\n")
    return path


def load(port, path):
    with open(path, "rb") as f:
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), "--pipe"],
                           stdin=f, capture_output=True, text=True)
    if r.returncode != 0 or "errors: 0" not in r.stdout:
        raise SystemExit(f"populate: exit {r.returncode}: {r.stdout.strip()[-300:]} {r.stderr.strip()}")


def prerun(port, args):
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q", "-c", "50", "-r", "1000000"] + args.split()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")


def bench(port, a, tests=None):
    cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-q", "--csv",
           "-P", str(a.P), "-c", str(a.c), "-n", str(a.n), "-r", str(a.r), "-d", str(a.d),
           "-t", tests or a.t]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()} {r.stdout.strip()[-300:]}")
    out = r.stdout
    res = {}
    for line in out.splitlines():
        f = [x.strip('"') for x in line.split(",")]
        if len(f) >= 2 and f[0] != "test":
            res[f[0]] = float(f[1])
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-b", action="append", required=True, help="NAME=PATH[,ENV=VAL...][,--flag=value...]")
    ap.add_argument("-P", type=int, default=64)
    ap.add_argument("-c", type=int, default=50)
    ap.add_argument("-n", type=int, default=1000000)
    ap.add_argument("-r", type=int, default=1000000)
    ap.add_argument("-d", type=int, default=3)
    ap.add_argument("-t", default="set,get,incr,mget")
    ap.add_argument("-rounds", type=int, default=3)
    ap.add_argument("-no-redis", action="store_true")
    ap.add_argument("-aof", action="store_true",
                    help="also run redis-server with --appendonly yes --appendfsync everysec (redis-aof)")
    ap.add_argument("-each", action="store_true",
                    help="one redis-benchmark run per test, so ops per CPU-second is per test")
    ap.add_argument("-populate", type=int, default=0,
                    help="before measuring, load N keys (key:%%012d, counter:%%012d) with redis-cli --pipe")
    ap.add_argument("-pre", default="",
                    help="before measuring (after -populate), one unmeasured redis-benchmark run with these "
                         "arguments, e.g. '-t lpush,hset -P 64 -n 2000000 -d 1024', to grow the collections "
                         "the tests then write to")
    a = ap.parse_args()
    popdir = tempfile.TemporaryDirectory()
    popfile = populate_file(a, popdir.name) if a.populate > 0 else None
    servers = [] if a.no_redis else [("redis", None)]
    if a.aof:
        servers.append(("redis-aof", None))
    servers += [tuple(s.split("=", 1)) for s in a.b]
    ops = {n: {} for n, _ in servers}
    eff = {n: [] for n, _ in servers}
    teff = {n: {} for n, _ in servers}
    for rnd in range(a.rounds):
        order = servers[rnd % len(servers):] + servers[:rnd % len(servers)]
        for name, spec in order:
            with tempfile.TemporaryDirectory() as tmp:
                p, port = start(name, spec, tmp)
                try:
                    if popfile:
                        load(port, popfile)
                    if a.pre:
                        prerun(port, a.pre)
                    c0, t0 = cpu_secs(p.pid), time.time()
                    if a.each:
                        res = {}
                        for t in a.t.split(","):
                            tc0 = cpu_secs(p.pid)
                            r = bench(port, a, t)
                            tc1 = cpu_secs(p.pid)
                            res.update(r)
                            for k in r:
                                teff[name].setdefault(k, []).append(a.n * len(r) / max(tc1 - tc0, 1e-9))
                    else:
                        res = bench(port, a)
                    c1 = cpu_secs(p.pid)
                finally:
                    p.terminate()
                    p.wait()
            total = a.n * len(res)
            eff[name].append(total / max(c1 - c0, 1e-9))
            for k, v in res.items():
                ops[name].setdefault(k, []).append(v)
            print(f"round {rnd} {name}: " + " ".join(f"{k}={v:.0f}" for k, v in res.items())
                  + f" cpu={c1 - c0:.2f}s wall={time.time() - t0:.1f}s", flush=True)
    ref = servers[0][0]
    tests = list(ops[ref].keys())
    print(f"\nmedians over {a.rounds} rounds, -P {a.P} -c {a.c} -n {a.n} -r {a.r} -d {a.d}")
    print("| test | " + " | ".join(n for n, _ in servers) + " |")
    print("|---|" + "---|" * len(servers))
    for t in tests:
        row = []
        base = statistics.median(ops[ref][t])
        for n, _ in servers:
            m = statistics.median(ops[n].get(t, [0]))
            row.append(f"{m:,.0f}" + ("" if n == ref else f" ({m / base:.2f}x)"))
        print(f"| {t} | " + " | ".join(row) + " |")
    row = []
    base = statistics.median(eff[ref])
    for n, _ in servers:
        m = statistics.median(eff[n])
        row.append(f"{m:,.0f}" + ("" if n == ref else f" ({m / base:.2f}x)"))
    print("| ops per server-CPU-s (all tests) | " + " | ".join(row) + " |")
    if a.each:
        print("\nops per server-CPU-s, per test (CPU ticks are 10 ms: short runs are coarse)")
        print("| test | " + " | ".join(n for n, _ in servers) + " |")
        print("|---|" + "---|" * len(servers))
        for t in tests:
            row = []
            base = statistics.median(teff[ref].get(t, [1]))
            for n, _ in servers:
                m = statistics.median(teff[n].get(t, [0]))
                row.append(f"{m:,.0f}" + ("" if n == ref else f" ({m / base:.2f}x)"))
            print(f"| {t} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
