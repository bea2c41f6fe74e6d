#!/bin/bash
# perf_record.sh: a kernel+user CPU profile of a fresh tstd under one
# redis-benchmark test, as the profiles in perf/results/hotpath.md were taken.
#
# usage: perf/scripts/perf_record.sh TEST PIPELINE N [VALUE_SIZE]
#   POPULATE=FILE  first load FILE (RESP, e.g. 1M `SET key:%012d <value>`)
#                  with redis-cli --pipe, as bench-compare does before reads
#   TSTD=PATH      the binary (default bin/tstd); SECS=4 profile length
# Writes perf.data in the current directory and prints the top symbols and
# the server's CPU ticks for the run. Needs perf, redis-benchmark, redis-cli.
set -euo pipefail
T=$1; P=$2; N=$3; D=${4:-16}
TSTD=${TSTD:-bin/tstd}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA=$(mktemp -d)
trap 'kill $SP 2>/dev/null || true; wait $SP 2>/dev/null || true; rm -rf "$DATA"' EXIT
"$TSTD" --port "$PORT" --bind 127.0.0.1 --data "$DATA" --loglevel warning &
SP=$!
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
if [ -n "${POPULATE:-}" ]; then redis-cli -p "$PORT" --pipe < "$POPULATE" | tail -1; sleep 1; fi
perf record -q -o perf.data -p "$SP" -g -- sleep "${SECS:-4}" >/dev/null 2>&1 &
PR=$!
c0=$(awk '{print $14+$15}' /proc/$SP/stat)
redis-benchmark -p "$PORT" -t "$T" -P "$P" -c 50 -d "$D" -n "$N" -r 1000000 --csv | tail -1
c1=$(awk '{print $14+$15}' /proc/$SP/stat)
echo "server CPU ticks: $((c1-c0))"
wait $PR
perf report -i perf.data --no-children --sort sym -q -g none 2>/dev/null | head -20
