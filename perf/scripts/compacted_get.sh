#!/bin/bash
# Reads of a compacted log: page faults and server CPU of GET rounds on
# 1M keys of 1 KiB loaded twice and then compacted (BGREWRITEAOF), for
# perf/results/hotpath.md ("Compaction writes whole 2 MiB chunks").
#
#   perf/scripts/compacted_get.sh [ROUNDS]
#
# TSTD names the binary (default bin/tstd); the server runs on a free
# loopback port with a fresh data directory, removed at the end. The load
# file (1 GB of RESP) is made in that directory. Prints, per round,
# redis-benchmark's CSV line, the server's minor page faults and its CPU
# ticks (10 ms), then how much of the mapped log is mapped with huge
# (PMD) entries.
set -euo pipefail
ROUNDS=${1:-3}
. "$(dirname "$0")/load1k.sh"
redis-cli -p "$PORT" --pipe < "$DIR/load.resp" | tail -1
redis-cli -p "$PORT" --pipe < "$DIR/load.resp" | tail -1
rm "$DIR/load.resp"
redis-cli -p "$PORT" bgrewriteaof >/dev/null
sleep 1
wait_rewrite 0.5
for r in $(seq "$ROUNDS"); do
	measured "round $r" -t get -P 16 -c 50 -d 1024 -n 300000 -r 1000000
done
awk '/FilePmdMapped/ {s+=$2} END {print "FilePmdMapped:", s, "kB"}' /proc/$SP/smaps
