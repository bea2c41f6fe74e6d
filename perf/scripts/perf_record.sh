#!/bin/bash
# perf_record.sh: a kernel+user CPU profile of a fresh tstd under one
# redis-benchmark test, as the profiles in perf/results/hotpath.md were taken.
#
# usage: perf/scripts/perf_record.sh TEST PIPELINE N [VALUE_SIZE]
#   POPULATE=FILE  first load FILE (RESP, e.g. 1M `SET key:%012d <value>`)
#                  with redis-cli --pipe, as bench-compare does before reads
#   PRE=TESTS      then run those tests (same pipeline, N and size),
#                  unprofiled: e.g. PRE=lpush before lpop
#   TSTD=PATH      the binary (default bin/tstd); SECS=4 profile length
# Writes perf.data in the current directory and prints the top symbols and
# the server's CPU ticks for the run. Needs perf, redis-benchmark, redis-cli.
set -euo pipefail
T=$1; P=$2; N=$3; D=${4:-16}
. "$(dirname "$0")/tstd_lib.sh"
start_tstd warning
if [ -n "${POPULATE:-}" ]; then redis-cli -p "$PORT" --pipe < "$POPULATE" | tail -1; sleep 1; fi
if [ -n "${PRE:-}" ]; then
    redis-benchmark -p "$PORT" -t "$PRE" -P "$P" -c 50 -d "$D" -n "$N" -r 1000000 --csv | tail -n +2
fi
perf record -q -o perf.data -p "$SP" -g -- sleep "${SECS:-4}" >/dev/null 2>&1 &
PR=$!
c0=$(awk '{print $14+$15}' /proc/$SP/stat)
redis-benchmark -p "$PORT" -t "$T" -P "$P" -c 50 -d "$D" -n "$N" -r 1000000 --csv | tail -1
c1=$(awk '{print $14+$15}' /proc/$SP/stat)
echo "server CPU ticks: $((c1-c0))"
wait $PR
perf report -i perf.data --no-children --sort sym -q -g none 2>/dev/null | head -20
