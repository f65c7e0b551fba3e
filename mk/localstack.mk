# Owned by the localstack work; filled in by its issue.
.PHONY: setup-localstack test-integration localstack-up localstack-down demo
setup-localstack:
	@echo "setup-localstack: not built yet" >&2; exit 1
test-integration:
	@echo "test-integration: not built yet" >&2; exit 1
