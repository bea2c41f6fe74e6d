#!/bin/bash
# GETs from fresh connections, run after run: page faults and server CPU
# of redis-benchmark GET runs at -c 500 -P 64 on 1M keys of 1 KiB, each run
# opening its 500 connections anew, for perf/results/hotpath.md ("Reply
# buffers of new connections").
#
#   perf/scripts/reconnect_get.sh [RUNS]
#
# TSTD names the binary (default bin/tstd); the server runs on a free
# loopback port with a fresh data directory, removed at the end. The load
# file (1 GB of RESP) is made in that directory. Prints, per run,
# redis-benchmark's CSV line, the server's minor page faults and its CPU
# ticks (10 ms).
set -euo pipefail
RUNS=${1:-3}
TSTD=${TSTD:-bin/tstd}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null; rm -rf "$DIR"' EXIT
python3 - "$DIR/load.resp" <<'PY'
import sys
v = b"v" * 1024
with open(sys.argv[1], "wb") as f:
    for i in range(1000000):
        k = b"key:%012d" % i
        f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
"$TSTD" --port "$PORT" --bind 127.0.0.1 --data "$DIR/data" --loglevel warning & SP=$!
until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done
redis-cli -p "$PORT" --pipe < "$DIR/load.resp" | tail -1
rm "$DIR/load.resp"
sleep 2
for r in $(seq "$RUNS"); do
	f0=$(awk '{print $10}' /proc/$SP/stat); c0=$(awk '{print $14+$15}' /proc/$SP/stat)
	redis-benchmark -p "$PORT" -t get -P 64 -c 500 -d 1024 -n 90000 -r 1000000 --csv | tail -1
	f1=$(awk '{print $10}' /proc/$SP/stat); c1=$(awk '{print $14+$15}' /proc/$SP/stat)
	echo "run $r: $((f1-f0)) minor faults, $((c1-c0)) CPU ticks"
done
