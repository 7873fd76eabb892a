# Quick start:  make course   (set up, build the course site)
#               make test     (set up, run the whole test suite)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup course test test-kernels lint verify serve bench

setup:
	bash scripts/setup.sh

course: setup
	$(BIN)/attention-lab build

verify: setup
	$(BIN)/attention-lab verify

serve: setup
	$(BIN)/attention-lab serve

lint: setup
	$(BIN)/ruff check src tests lessons benchmarks
	$(BIN)/ruff format --check src tests lessons benchmarks

test: setup
	$(BIN)/ruff check src tests lessons benchmarks
	bash scripts/run-tests.sh
	bash scripts/test-kernels.sh

# the numerically sensitive tests under the kernels of other CPUs (docs/numerics.md)
test-kernels: setup
	bash scripts/test-kernels.sh

bench: setup
	$(BIN)/attention-lab bench
