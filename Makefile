# Two commands: `make run` serves the mock on its default world, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-prism bench-sustained bench-stores bench-soak bench-diff clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/bookingkit mock $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/bookingkit test -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/court_bookings.py

bench-prism: $(STAMP)
	$(BIN)/python benchmarks/versus_prism.py $(ARGS)

bench-sustained: $(STAMP)
	$(BIN)/python benchmarks/versus_prism.py --sustained

bench-stores: $(STAMP)
	$(BIN)/python benchmarks/stores.py

bench-soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

bench-diff: $(STAMP)
	$(BIN)/python benchmarks/spec_diff.py $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
