# load1k.sh: sourced by compacted_get.sh and reconnect_get.sh. It starts
# TSTD (default bin/tstd) on a free loopback port (PORT) with a fresh data
# directory under DIR (removed at exit, with the server, SP), writes the
# load file DIR/load.resp (1M `SET key:%012d <1 KiB>` as RESP, 1 GB) and
# waits for PONG. The caller loads it (redis-cli --pipe) and removes it;
# measured (below) runs one measured redis-benchmark.
set -euo pipefail
. "$(dirname "$0")/tstd_lib.sh" # wait_rewrite
TSTD=${TSTD:-bin/tstd}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null; rm -rf "$DIR"' EXIT
python3 - "$DIR/load.resp" <<'PY'
import sys
v = b"v" * 1024
with open(sys.argv[1], "wb") as f:
    for i in range(1000000):
        k = b"key:%012d" % i
        f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
PY
"$TSTD" --port "$PORT" --bind 127.0.0.1 --data "$DIR/data" --loglevel warning & SP=$!
until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done

# measured LABEL ARGS...: runs redis-benchmark against the server with ARGS
# (and --csv), prints its CSV line, then LABEL with the server's minor page
# faults and CPU ticks (10 ms) during the run.
measured() {
	local label=$1 f0 c0 f1 c1
	shift
	f0=$(awk '{print $10}' "/proc/$SP/stat"); c0=$(awk '{print $14+$15}' "/proc/$SP/stat")
	redis-benchmark -p "$PORT" "$@" --csv | tail -1
	f1=$(awk '{print $10}' "/proc/$SP/stat"); c1=$(awk '{print $14+$15}' "/proc/$SP/stat")
	echo "$label: $((f1-f0)) minor faults, $((c1-c0)) CPU ticks"
}
