# LocalStack on the host: its own venv (Python 3.13), our offline extension, start/stop,
# the integration tests and the demo. See docs/LOCALSTACK.md.
LS_VENV := $(ROOT)/.venv-localstack
LS_PY := $(LS_VENV)/bin/python
LS_STAMP := $(LS_VENV)/.installed
# localstack-core 2026.3 needs Python >= 3.12; these machines have 3.13.0 under pyenv.
LOCALSTACK_PYTHON ?= $(shell pyenv root 2>/dev/null)/versions/3.13.0/bin/python

.PHONY: setup-localstack localstack-up localstack-down test-integration demo
setup-localstack: $(LS_STAMP) ## Create .venv-localstack: pinned LocalStack plus tools/localstack_ext

# The extension is installed editable: code changes apply on the next LocalStack start.
$(LS_STAMP): requirements/localstack.txt tools/localstack_ext/pyproject.toml
	@test -x "$(LOCALSTACK_PYTHON)" || { echo "No Python 3.13 at '$(LOCALSTACK_PYTHON)'; set LOCALSTACK_PYTHON=/path/to/python3.13" >&2; exit 1; }
	"$(LOCALSTACK_PYTHON)" -c 'import sys; assert sys.version_info >= (3, 12), "LocalStack needs Python 3.12+, got " + sys.version'
	test -x $(LS_PY) || "$(LOCALSTACK_PYTHON)" -m venv $(LS_VENV)
	$(LS_PY) -m pip install --quiet --disable-pip-version-check -r requirements/localstack.txt
	$(LS_PY) -m pip install --quiet --disable-pip-version-check --no-deps -e tools/localstack_ext
	$(LS_PY) -m pip check
	touch $@

localstack-up: setup-localstack ## Start LocalStack on 127.0.0.1:4566 (RDS, DynamoDB, Lambda offline); log in .localstack/
	tools/localstack/up.sh

localstack-down: ## Stop the LocalStack that localstack-up started
	tools/localstack/down.sh

test-integration: setup-python setup-terraform setup-localstack ## Deploy examples/localstack into LocalStack and test it end to end
	tools/localstack/with_localstack.sh $(VPY) -m pytest tests/integration -m integration -p no:cacheprovider $(PYTEST_ARGS)

demo: setup localstack-up ## Deploy into LocalStack, run one cycle on sample databases, print the report
	$(VPY) -m tools.demo
