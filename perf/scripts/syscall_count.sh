#!/bin/bash
# System calls and page faults of tstd under one redis-benchmark run: perf
# stat's counts of the calls on the request path (epoll_pwait, read, write,
# pwrite64; epoll_pwait2 is the loop's round wait), of the runtime's (nanosleep, futex), of madvise (the log's
# chunks mapped for reads), of page faults and context switches, with
# the server's CPU ticks (10 ms), for perf/results/hotpath.md ("One flush
# per round", "Reads map 2 MiB at a time", "The flush's pwrite keeps the
# processor").
#
#   perf/scripts/syscall_count.sh TESTS PIPELINE N [VALUE_SIZE]
#
# TSTD names the binary (default bin/tstd); the server runs on a free
# loopback port with a fresh data directory, removed at the end;
# redis-benchmark uses 50 connections. POPULATE=FILE first loads FILE
# (RESP, e.g. 1M `SET key:%012d <value>`) with redis-cli --pipe;
# PRE=TESTS then runs those tests (same pipeline, N and size); neither is
# measured. Needs perf, redis-benchmark and redis-cli.
set -euo pipefail
T=$1; P=$2; N=$3; D=${4:-16}
OUT=$(mktemp)
CLEANUP=$OUT
. "$(dirname "$0")/tstd_lib.sh"
start_tstd warning
if [ -n "${POPULATE:-}" ]; then
    redis-cli -p "$PORT" --pipe < "$POPULATE" | tail -n 1
fi
if [ -n "${PRE:-}" ]; then
    redis-benchmark -p "$PORT" -t "$PRE" -P "$P" -c 50 -d "$D" -n "$N" -r 1000000 --csv | tail -n +2
fi
EV=page-faults,context-switches
for s in epoll_pwait epoll_pwait2 read write pwrite64 nanosleep futex madvise; do EV="$EV,syscalls:sys_enter_$s"; done
perf stat -e "$EV" -p "$SP" -o "$OUT" &
PR=$!
sleep 0.2
c0=$(awk '{print $14+$15}' /proc/$SP/stat)
redis-benchmark -p "$PORT" -t "$T" -P "$P" -c 50 -d "$D" -n "$N" -r 1000000 --csv | tail -n +2
c1=$(awk '{print $14+$15}' /proc/$SP/stat)
kill -INT $PR; wait $PR || true
echo "server CPU ticks: $((c1-c0))"
grep -E 'syscalls|faults|switches' "$OUT" | awk '{print $2, $1}' | sed 's/syscalls:sys_enter_//'
