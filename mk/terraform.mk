# Owned by the terraform work; filled in by its issue.
.PHONY: setup-terraform test-terraform
setup-terraform:
	@echo "setup-terraform: not built yet" >&2; exit 1
test-terraform:
	@echo "test-terraform: not built yet" >&2; exit 1
