# IAM proof (issue 9, docs/IAM_PROOF.md): render every role policy offline, lint it with parliament,
# and evaluate the required and forbidden requests of every role. The dynamic half (every recorded
# call of the deployed functions) runs in `make test-integration` (tests/integration/test_iam_*.py).
.PHONY: test-iam
test-iam: setup-python setup-terraform ## IAM proof: render all role policies, parliament, evaluator tests, required/forbidden requests
	$(VPY) -m pytest tests/iam -p no:cacheprovider -q $(PYTEST_ARGS)
