#!/bin/bash
# compaction_ab.sh: what compactions cost when the dead bytes sit after a
# large dataset written once (a loaded keyspace, then a few hot keys). For
# each binary given, alternated over ROUNDS rounds, it starts a fresh tstd
# on a free loopback port, loads KEYS keys key:%012d of SIZE bytes, then
# runs redis-benchmark SET of SIZE bytes to HOT keys (-r HOT) at pipeline
# 64 with 50 connections, N requests, and prints the throughput, tstd's
# CPU ticks (10 ms) over the run, and the compactions' log lines
# (segments in, out and kept, records moved, bytes reclaimed, pauses, how
# long each took). Only compactions that finished before the run ended
# are shown.
#
#   perf/scripts/compaction_ab.sh BIN...
#
# KEYS (default 1000000), SIZE (1024), HOT (1000), N (8000000), ROUNDS
# (2). Needs redis-benchmark, redis-cli and python3.
set -euo pipefail
KEYS=${KEYS:-1000000} SIZE=${SIZE:-1024} HOT=${HOT:-1000} N=${N:-8000000} ROUNDS=${ROUNDS:-2}
. "$(dirname "$0")/tstd_lib.sh"
populate() {
    python3 - "$KEYS" "$SIZE" <<'PY' | redis-cli -p "$PORT" --pipe | tail -n 1
import sys
n, size = int(sys.argv[1]), int(sys.argv[2])
v = b"x" * size
out = sys.stdout.buffer
for i in range(n):
    k = b"key:%012d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, size, v))
PY
}
for r in $(seq "$ROUNDS"); do
    for bin in "$@"; do
        (
            TSTD=$bin
            LOG=$(mktemp)
            CLEANUP=$LOG
            start_tstd verbose "$LOG"
            populate >/dev/null
            c0=$(awk '{print $14 + $15}' "/proc/$SP/stat")
            row=$(redis-benchmark -p "$PORT" -t set -n "$N" -d "$SIZE" -P 64 -c 50 -r "$HOT" --csv | tail -n 1)
            c1=$(awk '{print $14 + $15}' "/proc/$SP/stat")
            echo "round $r $bin: $(cut -d, -f1-2 <<<"$row") cpu_ticks=$((c1 - c0))"
            grep -o '"segments_in.*' "$LOG" | sed 's/^/    /' || echo "    (no compaction finished)"
        )
    done
done
