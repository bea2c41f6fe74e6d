# tstd_lib.sh: sourced by the perf scripts that measure one fresh tstd, and
# by those that only want its helpers (wait_rewrite, get1k_run, below).
#
# start_tstd LEVEL [LOG]: starts $TSTD (default bin/tstd) on a free
# loopback port with a fresh data directory, log level LEVEL, its output
# to LOG (default: inherited), and waits until it answers PING. Sets PORT,
# DATA (the directory) and SP (the pid); an EXIT trap stops the server and
# removes DATA and any paths the caller lists in CLEANUP.
start_tstd() {
    local level=$1 log=${2:-/dev/stdout}
    TSTD=${TSTD:-bin/tstd}
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    DATA=$(mktemp -d)
    "$TSTD" --port "$PORT" --bind 127.0.0.1 --data "$DATA" --loglevel "$level" >"$log" 2>&1 &
    SP=$!
    trap 'kill $SP 2>/dev/null || true; wait $SP 2>/dev/null || true; rm -rf "$DATA" ${CLEANUP:-}' EXIT
    for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "tstd on port $PORT did not answer PING" >&2
    return 1
}

# wait_rewrite [INTERVAL]: polls INFO persistence on $PORT (every INTERVAL
# seconds, default 0.05) until no background rewrite is in progress
# (tstd's compaction, Redis's BGREWRITEAOF).
wait_rewrite() {
    while redis-cli -p "$PORT" info persistence | grep -q 'aof_rewrite_in_progress:1'; do sleep "${1:-0.05}"; done
}

# get1k_run: one GET run as bench-compare's GET cell at 1 KiB
# (`-P 64 -c 50 -d 1024 -n 130000 -r 1000000`) against $PORT; sets RPS to
# its requests per second and TICKS to the CPU ticks (10 ms) of process
# $SP over it.
get1k_run() {
    local c0 c1
    c0=$(awk '{print $14+$15}' /proc/$SP/stat)
    RPS=$(redis-benchmark -p "$PORT" -t get -P 64 -c 50 -d 1024 -n 130000 -r 1000000 --csv | tail -n 1 | cut -d, -f2 | tr -d '"')
    c1=$(awk '{print $14+$15}' /proc/$SP/stat)
    TICKS=$((c1 - c0))
}
