#!/bin/bash
# get_after_writes.sh: GETs of 1 KiB values right after a burst of SETs that
# overwrite them, on one fresh tstd, and the store's background work in
# between (perf/results/hotpath.md, "GETs after writes" and "The
# snapshot's copy outside the writers' lock").
#
# usage: perf/scripts/get_after_writes.sh POPULATE_FILE
#   POPULATE_FILE: RESP, 1M `SET key:%012d <1 KiB value>` (as bench-compare
#   loads before the 1 KiB reads)
#   TSTD=PATH  the binary (default bin/tstd); ROUNDS (default 6)
#
# Each round: three `redis-benchmark -t set -P 64 -c 50 -d 1024 -n 300000
# -r 1000000` runs, a wait until INFO persistence shows no compaction
# (as bench-compare waits before each run), then two GET runs of 130k
# requests at pipeline 64 (bench-compare's GET cell at 1 KiB). It prints
# per round each GET run's requests per second and tstd's CPU ticks (10 ms),
# the seconds waited, and at the end the log's compaction and snapshot
# lines (the capture is how long writers waited for the snapshot's copy).
# Needs redis-benchmark, redis-cli and bc.
set -euo pipefail
FILE=$1
LOG=$(mktemp)
CLEANUP=$LOG
. "$(dirname "$0")/tstd_lib.sh"
start_tstd verbose "$LOG"
redis-cli -p "$PORT" --pipe <"$FILE" | tail -n 1
quiesce() {
  local t0
  t0=$(date +%s.%N)
  wait_rewrite
  echo "$(date +%s.%N) - $t0" | bc
}
get() {
  get1k_run
  printf '%s GET %.0f/s %d ticks  ' "$1" "$RPS" "$TICKS"
}
for r in $(seq "${ROUNDS:-6}"); do
  for _ in 1 2 3; do redis-benchmark -p "$PORT" -t set -P 64 -c 50 -d 1024 -n 300000 -r 1000000 -q >/dev/null; done
  w=$(quiesce)
  printf 'round %d: ' "$r"
  get first
  get second
  echo "(waited ${w}s for compaction)"
done
grep -h -e 'compacted the log' -e 'wrote the index snapshot' "$LOG" | cut -f1,4-
