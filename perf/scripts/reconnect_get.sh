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
. "$(dirname "$0")/load1k.sh"
redis-cli -p "$PORT" --pipe < "$DIR/load.resp" | tail -1
rm "$DIR/load.resp"
sleep 2
for r in $(seq "$RUNS"); do
	measured "run $r" -t get -P 64 -c 500 -d 1024 -n 90000 -r 1000000
done
