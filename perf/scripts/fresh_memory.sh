#!/bin/bash
# fresh_memory.sh: what fresh memory costs on this machine, and what it
# does to SET of 1 KiB values at pipeline 64 once the memory the page
# cache can reuse runs out (perf/results/hotpath.md, "Fresh memory and
# the next segment").
#
#   perf/scripts/fresh_memory.sh touch [GiB]     # default 4
#   perf/scripts/fresh_memory.sh rounds FILE [R] # default 5 rounds
#
# touch: a Python process touches GiB GiB of new anonymous memory, one
# write per 4 KiB page, twice (two processes, back to back), then once more
# after 30 s; it prints the system time of each. On a virtual machine
# whose host backs guest memory only when first touched (and takes back
# what the guest frees: free page reporting), the first pass costs several
# times the second.
#
# rounds: starts $TSTD (default bin/tstd) on a free loopback port with a
# fresh data directory, loads FILE (RESP, e.g. 1M `SET key:%012d` of 1 KiB
# values) with redis-cli --pipe, then runs R rounds of redis-benchmark SET
# and GET (-P 64 -c 50 -d 1024 -n 130000 -r 1000000, as make bench-compare
# does) and prints each run's ops/s, p50 latency (ms), the server's CPU ticks
# (10 ms) and the data directory's size: every SET round adds 128 MiB of
# log, in new page-cache pages. Needs redis-benchmark and redis-cli.
set -euo pipefail
touch_pass() {
    /usr/bin/time -f "%S s system" python3 -c "
bs = []
for _ in range($1):
    b = bytearray(1 << 30)
    b[::4096] = b'\x01' * ((1 << 30) // 4096)
    bs.append(b)
" 2>&1
}
case ${1:-} in
touch)
    G=${2:-4}
    echo "first pass over $G GiB: $(touch_pass "$G")"
    echo "second pass, at once:  $(touch_pass "$G")"
    sleep 30
    echo "third pass, 30 s later: $(touch_pass "$G")"
    ;;
rounds)
    FILE=$2; R=${3:-5}
    . "$(dirname "$0")/tstd_lib.sh"
    start_tstd warning /dev/null
    redis-cli -p "$PORT" --pipe < "$FILE" | tail -1
    for r in $(seq "$R"); do
        for t in set get; do
            c0=$(awk '{print $14+$15}' /proc/$SP/stat)
            out=$(redis-benchmark -p "$PORT" -t $t -P 64 -c 50 -d 1024 -n 130000 -r 1000000 --csv | tail -1 | cut -d, -f1,2,5)
            c1=$(awk '{print $14+$15}' /proc/$SP/stat)
            echo "round $r $out cpu_ticks=$((c1-c0)) data=$(du -sm "$DATA" | cut -f1)M"
        done
    done
    ;;
*)
    echo "usage: $0 touch [GiB] | rounds FILE [ROUNDS]" >&2
    exit 2
    ;;
esac
