# LocalStack environment for the scripts here. Sourced, not executed.
set -a
# shellcheck source=tools/localstack/localstack.env
source "$(dirname "${BASH_SOURCE[0]}")/localstack.env"
set +a
# On the host, listen on loopback only (the Docker set-up listens on all interfaces instead).
export GATEWAY_LISTEN="${GATEWAY_LISTEN:-127.0.0.1:4566}"
