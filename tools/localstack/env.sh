# LocalStack environment for the scripts here. Sourced, not executed.
set -a
# shellcheck source=tools/localstack/localstack.env
source "$(dirname "${BASH_SOURCE[0]}")/localstack.env"
set +a
# On the host, listen on loopback only (the Docker set-up listens on all interfaces instead).
export GATEWAY_LISTEN="${GATEWAY_LISTEN:-127.0.0.1:4566}"
# Every AWS call of every Lambda function, one JSON line each, for the IAM proof
# (tests/integration/test_iam_requests.py); the extension records nothing when this is empty.
export LAMBDA_REQUEST_LOG="${LAMBDA_REQUEST_LOG-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.localstack/lambda-requests.jsonl}"
