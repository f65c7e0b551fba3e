# Scale benchmark (issue 5): the real handlers of one cycle over moto; separate from `make test`.
.PHONY: bench
bench: setup-python ## Benchmark one cycle at 20/200/1,000 databases over moto; fails when a budget fails
	$(VPY) -m bench $(BENCH_ARGS)

.PHONY: bench-smoke
bench-smoke: setup-python ## Fast tests of the benchmark harness itself (probe, moto paging, fixture, one small run)
	$(VPY) -m pytest -p no:cacheprovider tests/bench_smoke -q
