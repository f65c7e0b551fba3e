# LocalStack settings shared by up.sh, the docker-compose file and the docs (keep them in sync).
# Sourced, not executed.
export GATEWAY_LISTEN="${GATEWAY_LISTEN:-127.0.0.1:4566}"
export DNS_ADDRESS=0
export PROVIDER_OVERRIDE_RDS=moto
export PROVIDER_OVERRIDE_DYNAMODB=moto
export LAMBDA_RUNTIME_EXECUTOR=host
# Offline machines: skip the analytics upload and the TLS certificate download (each waits on DNS).
export DISABLE_EVENTS=1
export SKIP_SSL_CERT_DOWNLOAD=1
