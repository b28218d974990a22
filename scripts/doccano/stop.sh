#!/usr/bin/env bash
# Stops the doccano that start.sh started from DATA_DIR: usage `stop.sh DATA_DIR`. Sends TERM to
# the gunicorn master (it stops its workers), waits up to 20 s, then KILL. Safe to run again.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 DATA_DIR" >&2; exit 2; }
pidfile="$1/gunicorn.pid"
[ -f "$pidfile" ] || { echo "doccano stop.sh: not running (no $pidfile)" >&2; exit 0; }
pid="$(cat "$pidfile")"
if kill -TERM "$pid" 2>/dev/null; then
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
echo "doccano stop.sh: stopped (pid $pid)" >&2
