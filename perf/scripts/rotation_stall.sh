#!/bin/bash
# rotation_stall.sh: SET of 1 KiB values at pipeline 16 against a fresh
# tstd while another writer keeps the same disk busy (dd of 1000 MiB with
# fsync, six times), with perf trace recording every system call of tstd's
# threads that takes over 80 ms, for perf/results/hotpath.md ("Segment
# rotation under a busy disk"). Prints each run's redis-benchmark CSV line
# and wall time, the compactions from tstd's log, and the long calls.
#
#   perf/scripts/rotation_stall.sh POPULATE_FILE [RUNS]
#
# POPULATE_FILE is RESP loaded first with redis-cli --pipe (e.g. 1M
# `SET key:%012d <1 KiB>`); RUNS defaults to 12. TSTD names the binary
# (default bin/tstd); DDFILE the busy writer's file (default a new file
# from mktemp, on the disk of $TMPDIR like tstd's data directory; set it
# to a file on that same disk otherwise). Needs perf, redis-benchmark,
# redis-cli, dd and GNU time.
set -euo pipefail
POP=$1; RUNS=${2:-12}
TLOG=$(mktemp)
TRACE=$(mktemp)
DDFILE=${DDFILE:-$(mktemp)}
CLEANUP="$TLOG $TRACE $DDFILE"
. "$(dirname "$0")/tstd_lib.sh"
start_tstd verbose "$TLOG"
redis-cli -p "$PORT" --pipe <"$POP" | tail -n 1
perf trace -p "$SP" --duration 80 -o "$TRACE" 2>/dev/null &
PT=$!
( for _ in 1 2 3 4 5 6; do dd if=/dev/zero of="$DDFILE" bs=1M count=1000 conv=fsync 2>/dev/null; done ) &
DD=$!
for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e s" redis-benchmark -p "$PORT" -t set -P 16 -c 50 -d 1024 -n 105000 -r 1000000 --csv 2>&1 |
        tail -n 2 | tr '\n' ' '
    echo
done
kill "$DD" 2>/dev/null || true
wait "$DD" 2>/dev/null || true
kill -INT "$PT"
wait "$PT" || true
grep "compacted the log" "$TLOG" | sed 's/.*compacted the log//' || true
grep -v -E "epoll_pwait|epoll_wait|futex|nanosleep|^$" "$TRACE" || true
