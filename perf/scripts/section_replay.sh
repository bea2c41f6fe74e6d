#!/bin/bash
# section_replay.sh: one value size's section of bench-compare's matrix
# against tstd alone, to find what a cell's bad rounds have in common. It
# starts a fresh tstd on a free loopback port, loads the RESP files given
# (e.g. 1M `SET key:%012d <16 B>` then the same keys with 1 KiB values, as
# the full run does), then runs the matrix's 50-connection tests at
# pipelines 1 and 16 for ROUNDS rounds in the matrix's order, and prints
# per run: the UTC time it ended (to match with the log's lines), seconds
# since the load, throughput, max latency (ms), tstd's CPU ticks (10 ms)
# and CPU microseconds per request. tstd's log (level
# verbose: compactions, rechunks) is left in $LOG.
#
#   perf/scripts/section_replay.sh SIZE FILE...
#
# SIZE may be a list, e.g. 16,1024 with FILE... the two populate files in
# that order: each section then loads its file and runs, on one server, as
# the full run does (the 1 KiB section meets the 16 B one's collections).
#
# TSTD names the binary (default bin/tstd); ROUNDS (default 5); N1 and N16
# are -n at pipeline 1 and 16 (default 30000 and 105000, the full run's
# for 1 KiB). Needs redis-benchmark, redis-cli and bc.
set -euo pipefail
D=$1; shift
LOG=${LOG:-/tmp/section_replay.log}
. "$(dirname "$0")/tstd_lib.sh"
start_tstd verbose "$LOG"
IFS=, read -ra SIZES <<<"$D"
if [ "${#SIZES[@]}" = 1 ]; then
  for f in "$@"; do redis-cli -p "$PORT" --pipe <"$f" | tail -n 1; done
fi
T0=$(date +%s.%N)
for si in "${!SIZES[@]}"; do
D=${SIZES[$si]}
if [ "${#SIZES[@]}" -gt 1 ]; then
  f=${@:$((si + 1)):1}
  redis-cli -p "$PORT" --pipe <"$f" | tail -n 1
  echo "$(date -u +%T.%3N) section $D B"
fi
for P in 1 16; do
  if [ "$P" = 1 ]; then N=${N1:-30000}; else N=${N16:-105000}; fi
  for r in $(seq "${ROUNDS:-5}"); do
    for t in ping_mbulk set get incr lpush rpush lpop rpop sadd hset spop zadd zpopmin lrange_100 mset; do
      n=$N; [ "$t" = lrange_100 ] && n=$((N / 10)); [ "$t" = mset ] && n=$((N / 5))
      c0=$(awk '{print $14+$15}' /proc/$SP/stat)
      out=$(redis-benchmark -p "$PORT" -t "$t" -P "$P" -c 50 -d "$D" -n "$n" -r 1000000 --csv | tail -n 1)
      c1=$(awk '{print $14+$15}' /proc/$SP/stat)
      rps=$(echo "$out" | cut -d, -f2 | tr -d '"'); mx=$(echo "$out" | cut -d, -f8 | tr -d '"')
      printf "%s %7.1f P%-2s r%d %-10s rps=%-10s max=%-9s ticks=%d us/op=%.1f\n" \
        "$(date -u +%T.%3N)" "$(echo "$(date +%s.%N) - $T0" | bc)" "$P" "$r" "$t" "$rps" "$mx" $((c1 - c0)) \
        "$(echo "($c1 - $c0) * 10000 / $n" | bc -l)"
      sleep 0.7 # the other two servers' turns in the full run
    done
  done
done
done
