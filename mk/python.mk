# Python: the dev venv, lint, unit tests and the deterministic Lambda package.
PY_STAMP := $(VENV)/.installed-dev

.PHONY: setup-python lint-python test-python test-unit package check-package
setup-python: $(PY_STAMP) ## Create .venv with the pinned dev dependencies

$(PY_STAMP): requirements/dev.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, got " + sys.version'
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(VPY) -m pip check
	touch $@

lint-python: $(PY_STAMP) ## ruff (lint + format check) and mypy --strict on lambda_src, bench and tools
	$(VENV)/bin/ruff check lambda_src tests tools bench
	$(VENV)/bin/ruff format --check lambda_src tests tools bench
	$(VENV)/bin/mypy
	MYPYPATH=lambda_src:tools/terraform $(VENV)/bin/mypy --strict --explicit-package-bases \
		bench tools/package_lambda.py tools/terraform tools/demo.py tools/localstack/harness.py tools/localstack/rollout.py tools/iam tools/dashboard

test-unit: $(PY_STAMP) ## Unit tests under moto, with line coverage of lambda_src
	$(VPY) -m pytest tests/unit --cov --cov-report=term

test-python: lint-python test-unit check-package ## Lint, unit tests and the package check

package: $(PY_STAMP) ## Rebuild the committed Lambda zip from lambda_src
	$(VPY) tools/package_lambda.py

check-package: $(PY_STAMP) ## Fail if the committed Lambda zip differs from a fresh build
	$(VPY) tools/package_lambda.py --check
