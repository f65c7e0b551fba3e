# rds-snapshot-manager developer commands. Each concern keeps its recipes in mk/<concern>.mk.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON ?= python3
VENV := $(ROOT)/.venv
VPY := $(VENV)/bin/python
TERRAFORM := $(VENV)/bin/terraform

include mk/python.mk mk/terraform.mk mk/localstack.mk mk/bench.mk mk/iam.mk mk/dashboard.mk

.PHONY: help setup test lint demo
help: ## List the commands
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

setup: setup-python setup-terraform setup-localstack ## Install everything into the repo (.venv, terraform, provider mirror, LocalStack venv); idempotent

test: setup test-python bench-smoke test-terraform test-iam test-integration ## Every test: unit, benchmark harness, Terraform, IAM proof, integration

lint: setup-python lint-python ## ruff (lint, format) on all Python; mypy --strict on lambda_src, bench and tools
