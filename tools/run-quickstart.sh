#!/usr/bin/env bash
# `make run`: two demo backends and Sluice on examples/quickstart.cfg, in the
# foreground. Ctrl-C stops all three.
set -euo pipefail
bin=${1:-build/sluice}
top=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "Stopping."; exit 0' INT TERM
for p in 8080 9001 9002; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
    echo "Port $p on 127.0.0.1 is already in use; stop what uses it and retry." >&2
    exit 1
  fi
done
"$py" "$top/tools/demo-backend.py" demo1 9001 & pids+=($!)
"$py" "$top/tools/demo-backend.py" demo2 9002 & pids+=($!)
for p in 9001 9002; do
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && break
    sleep 0.1
  done
done
"$bin" -db -f "$top/examples/quickstart.cfg" & pids+=($!)
sleep 1
cat <<MSG

Sluice is running on examples/quickstart.cfg (Ctrl-C to stop).
  Browser:  http://127.0.0.1:8080/
  curl:     curl http://127.0.0.1:8080/     (repeat: demo1 and demo2 take turns)
  Take a backend away (kill the demo on :9001) and watch Sluice log it DOWN
  and send everything to the other one.

MSG
wait "${pids[2]}"
