# Quick start:  make course   (set up, build the course site)
#               make test     (set up, run the whole test suite)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup course test lint verify serve bench

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
	$(BIN)/lint-imports

test: setup
	$(BIN)/ruff check src tests lessons benchmarks
	$(BIN)/lint-imports  # the layers of DESIGN.md, no import cycles (pyproject.toml)
	bash scripts/run-tests.sh

bench: setup
	$(BIN)/attention-lab bench
