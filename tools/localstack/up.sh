#!/usr/bin/env bash
# Start LocalStack from .venv-localstack in the background; wait until it is healthy.
# No-op if a LocalStack is already up (ours, or another one, which it leaves alone). Logs:
# .localstack/localstack.log.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="$ROOT/.localstack"
PID_FILE="$STATE/localstack.pid"
LOG_FILE="$STATE/localstack.log"
PYTHON="$ROOT/.venv-localstack/bin/python"
TIMEOUT="${LOCALSTACK_START_TIMEOUT:-120}"
# shellcheck source=tools/localstack/env.sh
source "$ROOT/tools/localstack/env.sh"
HEALTH_URL="http://${GATEWAY_LISTEN}/_localstack/health"
READY_URL="http://${GATEWAY_LISTEN}/_localstack/init/ready"

# Ready means start-up finished, not just the gateway answering.
healthy() { curl -sf --max-time 2 "$READY_URL" | grep -q '"completed": true'; }
ours_running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

if ours_running; then
  if healthy; then
    echo "LocalStack is already up (pid $(cat "$PID_FILE")) at http://${GATEWAY_LISTEN}"
    exit 0
  fi
elif healthy; then
  # E.g. the docker-compose one: use it, but leave starting and stopping it to its owner.
  echo "Using the LocalStack already running at http://${GATEWAY_LISTEN} (not started here)."
  exit 0
elif curl -s --max-time 2 -o /dev/null "$HEALTH_URL"; then
  echo "Something that is not a ready LocalStack answers at $HEALTH_URL; stop it first." >&2
  exit 1
else
  [[ -x "$PYTHON" ]] || { echo "Missing $PYTHON: run 'make setup-localstack'." >&2; exit 1; }
  mkdir -p "$STATE"
  echo "=== $(date -u +%FT%TZ) starting LocalStack" >>"$LOG_FILE"
  # setsid: LocalStack and the Lambda processes it spawns share one process group for down.sh.
  FILESYSTEM_ROOT="$STATE/filesystem" setsid "$PYTHON" -m localstack.runtime.main \
    </dev/null >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
fi

deadline=$((SECONDS + TIMEOUT))
until healthy; do
  if ! ours_running; then
    echo "LocalStack exited during start-up. Last lines of $LOG_FILE:" >&2
    tail -n 30 "$LOG_FILE" >&2
    rm -f "$PID_FILE"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    echo "LocalStack not healthy after ${TIMEOUT}s (pid $(cat "$PID_FILE")); see $LOG_FILE." >&2
    "$ROOT/tools/localstack/down.sh" >&2
    exit 1
  fi
  sleep 1
done
echo "LocalStack is up (pid $(cat "$PID_FILE")) at http://${GATEWAY_LISTEN}; log: $LOG_FILE"
