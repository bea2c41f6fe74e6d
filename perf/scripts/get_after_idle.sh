#!/bin/bash
# get_after_idle.sh: what an idle pause costs the next GETs of 1 KiB values,
# for a fresh tstd and a fresh redis-server (perf/results/hotpath.md, "GETs
# after idle time").
#
# usage: perf/scripts/get_after_idle.sh POPULATE_FILE
#   POPULATE_FILE: RESP, 1M `SET key:%012d <1 KiB value>` (as bench-compare
#   loads before the 1 KiB reads)
#   TSTD=PATH   the binary (default bin/tstd)
#   PAUSES      the idle pauses in seconds (default "0.5 1 2 4 8 0.5 1 2 4 8")
#   BUSY=1      keep both CPUs busy during each pause (two shell loops), to
#               tell an idle CPU from idle memory
#
# Each server in turn: the file is loaded with redis-cli --pipe, tstd's
# compaction is waited for, two GET runs warm it, then each pause is followed
# by one GET run (`redis-benchmark -t get -P 64 -c 50 -d 1024 -n 130000 -r
# 1000000`, bench-compare's GET cell at 1 KiB). It prints each run's
# requests per second and the server's CPU ticks (10 ms) for it.
# Needs redis-server, redis-benchmark and redis-cli.
set -euo pipefail
FILE=$1
PAUSES=${PAUSES:-0.5 1 2 4 8 0.5 1 2 4 8}
. "$(dirname "$0")/tstd_lib.sh"

get() {
  get1k_run
  printf '%s %-10s %8.0f GET/s %3d ticks\n' "$NAME" "$1" "$RPS" "$TICKS"
}

pause() {
  if [ -n "${BUSY:-}" ]; then
    local a b
    timeout "$1" sh -c 'while :; do :; done' &
    a=$!
    timeout "$1" sh -c 'while :; do :; done' &
    b=$!
    wait "$a" "$b" || true
  else
    sleep "$1"
  fi
}

measure() {
  redis-cli -p "$PORT" --pipe <"$FILE" | tail -n 1
  wait_rewrite
  get warm
  get warm
  for p in $PAUSES; do
    pause "$p"
    get "idle ${p}s"
  done
}

NAME=tstd
start_tstd warning /dev/null
measure
kill "$SP"
wait "$SP" 2>/dev/null || true

NAME=redis
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
SP=$!
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
measure
