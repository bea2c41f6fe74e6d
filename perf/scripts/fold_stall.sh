#!/bin/bash
# fold_stall.sh: the stall of a fold of one large list (the rewrite of its
# image when pops have left most of its log dead; pkg/cache's fold rule),
# for perf/results/hotpath.md ("Folds streamed to the log"). A fresh tstd
# gets LPUSH of 400k 1 KiB values onto one list, RPOP of 300k, then three
# rounds of LPUSH 100k and RPOP 100k, all at pipeline 16 with 50
# connections; the fold falls in one of the later LPUSH runs. Per run it
# prints throughput, max latency (ms) and tstd's CPU ticks (10 ms); at the
# end tstd's peak resident memory (VmHWM).
#
#   perf/scripts/fold_stall.sh
#
# TSTD names the binary (default bin/tstd). Needs redis-benchmark.
set -euo pipefail
. "$(dirname "$0")/tstd_lib.sh"
start_tstd "${LEVEL:-warning}" "${LOG:-/dev/stdout}"
run() {
    c0=$(awk '{print $14+$15}' /proc/$SP/stat)
    out=$(redis-benchmark -p "$PORT" -t "$1" -P 16 -c 50 -d 1024 -n "$2" --csv | tail -n 1)
    c1=$(awk '{print $14+$15}' /proc/$SP/stat)
    printf "%-6s %6d rps=%-10s max=%-9s ticks=%d\n" "$1" "$2" \
        "$(echo "$out" | cut -d, -f2 | tr -d '"')" "$(echo "$out" | cut -d, -f8 | tr -d '"')" $((c1 - c0))
}
run lpush 400000
run rpop 300000
for _ in 1 2 3; do
    run lpush 100000
    run rpop 100000
done
grep VmHWM /proc/$SP/status
