#!/usr/bin/env bash
# Run a command against LocalStack: use the one that is running, or start ours for the duration
# of the command and stop it afterwards (only if this script started it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=tools/localstack/env.sh
source "$ROOT/tools/localstack/env.sh"

if curl -s -o /dev/null --max-time 2 "http://${GATEWAY_LISTEN}/_localstack/health"; then
  exec "$@"
fi
"$ROOT/tools/localstack/up.sh"
trap '"$ROOT/tools/localstack/down.sh"' EXIT
"$@"
