# tstd_lib.sh: sourced by the perf scripts that measure one fresh tstd.
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
