# Quick start:  make course   (set up, build the course site)
#               make test     (set up, run the whole test suite)
#               make lab      (set up, open the learner notebooks in JupyterLab)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup course test test-kernels lint verify serve bench lab

setup:
	bash scripts/setup.sh

course: setup
	$(BIN)/attention-lab build

verify: setup
	$(BIN)/attention-lab verify

serve: setup
	$(BIN)/attention-lab serve

lab: setup
	$(BIN)/attention-lab lab --dir notebooks

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

test: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports  # the layers of DESIGN.md, no import cycles (pyproject.toml)
	bash scripts/run-tests.sh
	bash scripts/test-kernels.sh

# the numerically sensitive tests under the kernels of other CPUs (docs/numerics.md)
test-kernels: setup
	bash scripts/test-kernels.sh

bench: setup
	$(BIN)/attention-lab bench
