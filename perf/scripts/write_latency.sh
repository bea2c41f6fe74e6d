#!/bin/bash
# write_latency.sh: throughput and latency percentiles of writes on a fresh
# tstd per run, binaries alternated, for perf/results/hotpath.md ("Writeback
# started as the log is written"). For each round, each test and each
# binary in turn: a fresh tstd, one redis-benchmark run (pipeline P, 50
# connections, values of SIZE bytes, -n N, -r 1000000); prints requests
# per second, p50, p99 and max latency (ms) and tstd's CPU ticks (10 ms).
#
#   perf/scripts/write_latency.sh BIN...
#
# TESTS (default set,lpush,hset), P (16), SIZE (1024), N (400000), ROUNDS
# (3). Needs redis-benchmark.
set -euo pipefail
. "$(dirname "$0")/tstd_lib.sh"
for r in $(seq "${ROUNDS:-3}"); do
  for t in $(echo "${TESTS:-set,lpush,hset}" | tr , ' '); do
    for b in "$@"; do
      (
        TSTD=$b
        start_tstd warning /dev/null
        c0=$(awk '{print $14+$15}' /proc/$SP/stat)
        out=$(redis-benchmark -p "$PORT" -t "$t" -P "${P:-16}" -c 50 -d "${SIZE:-1024}" -n "${N:-400000}" -r 1000000 --csv | tail -n 1)
        c1=$(awk '{print $14+$15}' /proc/$SP/stat)
        echo "$out" | tr -d '"' | awk -F, -v r="$r" -v b="$b" -v ticks=$((c1 - c0)) \
          '{printf "r%d %-22s %-6s rps=%-10s p50=%-7s p99=%-8s max=%-8s ticks=%d\n", r, b, $1, $2, $5, $7, $8, ticks}'
      )
    done
  done
done
