#!/usr/bin/env bash
# Server-level cost of one collection write at 1k vs 1M elements, tstd next
# to redis-server in the same run: for LPUSH, HSET, SADD and ZADD, each
# server gets a key of 1,000 and a key of 1,000,000 elements (loaded with
# redis-cli --pipe), then 50,000 writes of new elements (redis-benchmark
# -P 16 -c 50) per key and round; the 1k key is reloaded before each round
# so it stays near 1k. Reported: median server CPU (utime+stime, from
# /proc/PID/stat) in microseconds per write, and the 1M/1k ratio.
#
# Usage: perf/collscale.sh [path/to/tstd] (default bin/tstd; `make build`)
set -euo pipefail
TSTD=${1:-bin/tstd}
ROUNDS=${ROUNDS:-5}
N=${N:-50000}
TP=${TP:-7931}
RP=${RP:-7932}
work=$(mktemp -d)
trap 'kill $PT $PR 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)

# gen TYPE KEY N: RESP for N elements of a key of TYPE.
gen() {
  python3 - "$@" <<'PY'
import sys
typ, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
w = sys.stdout.write
def cmd(*a):
    w('*%d\r\n' % len(a) + ''.join('$%d\r\n%s\r\n' % (len(x), x) for x in a))
for i in range(n):
    m = 'e:%d' % i
    if typ == 'lpush': cmd('RPUSH', key, m)
    elif typ == 'hset': cmd('HSET', key, m, str(i))
    elif typ == 'sadd': cmd('SADD', key, m)
    else: cmd('ZADD', key, str(i), m)
PY
}
bench_args() { # TYPE KEY: a redis-benchmark command adding new elements
  case $1 in
    lpush) echo "lpush $2 n:__rand_int__" ;;
    hset) echo "hset $2 n:__rand_int__ v" ;;
    sadd) echo "sadd $2 n:__rand_int__" ;;
    zadd) echo "zadd $2 __rand_int__ n:__rand_int__" ;;
  esac
}
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$TSTD" --bind 127.0.0.1:$TP --data "$work/tstd" >"$work/tstd.log" 2>&1 & PT=$!
redis-server --port $RP --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 & PR=$!
for p in $TP $RP; do until redis-cli -p $p ping 2>/dev/null | grep -q PONG; do sleep 0.2; done; done

printf '%-6s %-6s %12s %12s %8s\n' type server "us/op@1k" "us/op@1M" "1M/1k"
for typ in lpush hset sadd zadd; do
  gen $typ ${typ}1k 1000 >"$work/1k.resp"
  gen $typ ${typ}1m 1000000 >"$work/1m.resp"
  for p in $TP $RP; do redis-cli -p $p --pipe <"$work/1m.resp" >/dev/null; done
  : >"$work/t1k"; : >"$work/t1m"; : >"$work/r1k"; : >"$work/r1m"
  for r in $(seq "$ROUNDS"); do
    for size in 1k 1m; do
      for s in "t $TP $PT" "r $RP $PR"; do
        set -- $s
        if [ $size = 1k ]; then
          redis-cli -p "$2" del ${typ}1k >/dev/null
          redis-cli -p "$2" --pipe <"$work/1k.resp" >/dev/null
        fi
        c0=$(cpu "$3")
        # shellcheck disable=SC2046
        redis-benchmark -p "$2" -q -n "$N" -P 16 -c 50 -r 100000000 $(bench_args $typ ${typ}$size) >/dev/null 2>&1
        c1=$(cpu "$3")
        echo "$(( (c1 - c0) * 1000000 / hz ))" >>"$work/$1$size"
      done
    done
  done
  for s in t:tstd r:redis; do
    k=${s%%:*}
    a=$(median <"$work/${k}1k"); b=$(median <"$work/${k}1m")
    awk -v t=$typ -v n=${s#*:} -v a="$a" -v b="$b" -v N="$N" \
      'BEGIN {printf "%-6s %-6s %12.2f %12.2f %7.2fx\n", t, n, a/N, b/N, (a>0 ? b/a : 0)}'
  done
done
