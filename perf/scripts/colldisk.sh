#!/bin/bash
# Disk bytes of one collection built by redis-benchmark, before and after a
# compaction (BGREWRITEAOF), for perf/results/hotpath.md.
#
#   perf/scripts/colldisk.sh TEST SIZE N     e.g. rpush 16 2000000
#
# TSTD names the binary (default bin/tstd); the server runs on a free
# loopback port with a fresh data directory, removed at the end.
set -euo pipefail
T=$1; D=$2; N=$3
. "$(dirname "$0")/tstd_lib.sh" # wait_rewrite
TSTD=${TSTD:-bin/tstd}
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DIR=$(mktemp -d)
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null; rm -rf "$DIR"' EXIT
"$TSTD" --port "$PORT" --data "$DIR/data" --loglevel warning & SP=$!
until redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; do sleep 0.1; done
redis-benchmark -p "$PORT" -t "$T" -P 64 -c 50 -d "$D" -n "$N" -r 1000000 --csv >/dev/null
before=$(du -sm "$DIR/data" | cut -f1)
redis-cli -p "$PORT" bgrewriteaof >/dev/null
sleep 1
wait_rewrite 0.5
sleep 12 # replaced segments are removed after the 10 s grace
echo "$T ${D} B x $N: $before MB before compaction, $(du -sm "$DIR/data" | cut -f1) MB after"
