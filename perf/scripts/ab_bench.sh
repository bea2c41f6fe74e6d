#!/usr/bin/env bash
# A/B of two tstd binaries under one redis-benchmark test, alternated:
# prints each run's CSV line and the server's CPU ticks (utime+stime from
# /proc/PID/stat) for the same number of requests.
#
# Usage: perf/scripts/ab_bench.sh OLD_TSTD NEW_TSTD [TEST] [ROUNDS]
# e.g.   git stash; go build -o /tmp/tstd-old ./cmd/tstd; git stash pop
#        go build -o /tmp/tstd-new ./cmd/tstd
#        perf/scripts/ab_bench.sh /tmp/tstd-old /tmp/tstd-new get 3
# 100,000 keys are written first; then 1,000,000 requests of TEST at
# -P 16 -c 50 -r 100000 per run.
set -euo pipefail
OLD=$1 NEW=$2 TEST=${3:-get} ROUNDS=${4:-3}
work=$(mktemp -d)
"$OLD" --bind 127.0.0.1:7801 --data "$work/old" >/dev/null 2>&1 & P1=$!
"$NEW" --bind 127.0.0.1:7802 --data "$work/new" >/dev/null 2>&1 & P2=$!
trap 'kill $P1 $P2 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
for p in 7801 7802; do until redis-cli -p $p ping 2>/dev/null | grep -q PONG; do sleep 0.2; done; done
for p in 7801 7802; do redis-benchmark -p $p -q -t set -P 32 -n 300000 -r 100000 >/dev/null 2>&1; done
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
for _ in $(seq "$ROUNDS"); do
  for x in "old 7801 $P1" "new 7802 $P2"; do
    set -- $x
    c0=$(cpu "$3")
    out=$(redis-benchmark -p "$2" -q -t "$TEST" -P 16 -c 50 -n 1000000 -r 100000 --csv 2>/dev/null | tail -1)
    c1=$(cpu "$3")
    echo "$1 $out cpu_ticks=$((c1 - c0))"
  done
done
