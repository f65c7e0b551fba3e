#!/usr/bin/env bash
# Stop the LocalStack that up.sh started (its whole process group), and only that one.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PID_FILE="$ROOT/.localstack/localstack.pid"
GRACE="${LOCALSTACK_STOP_TIMEOUT:-30}"

if [[ ! -f "$PID_FILE" ]]; then
  echo "LocalStack is not running (no $PID_FILE)."
  exit 0
fi
pid="$(cat "$PID_FILE")"
# up.sh started it with setsid, so its pid is also its process group id.
if ! kill -0 "$pid" 2>/dev/null || [[ "$(ps -o pgid= -p "$pid" | tr -d ' ')" != "$pid" ]]; then
  echo "Process $pid from $PID_FILE is gone or not ours; removing the stale PID file."
  rm -f "$PID_FILE"
  exit 0
fi

# shellcheck source=tools/localstack/env.sh
source "$ROOT/tools/localstack/env.sh"
# The gateway closes its port as the last step of LocalStack's shutdown.
shutdown_done() { ! curl -s -o /dev/null --max-time 1 "http://${GATEWAY_LISTEN}/_localstack/health"; }
# LocalStack first, so it stops its services and Lambda processes itself.
kill -TERM "$pid" 2>/dev/null || true
for ((waited = 0; waited < GRACE; waited++)); do
  kill -0 "$pid" 2>/dev/null || break
  # A service that was still loading when the shutdown began can leave a non-daemon thread
  # that keeps the finished process alive; its own shutdown is complete, so end it.
  if shutdown_done; then
    sleep 2
    break
  fi
  sleep 1
done
if kill -0 -- "-$pid" 2>/dev/null; then
  shutdown_done || echo "LocalStack did not stop within ${GRACE}s." >&2
  kill -KILL -- "-$pid" 2>/dev/null || true
fi
rm -f "$PID_FILE"
echo "LocalStack stopped (pid $pid)."
