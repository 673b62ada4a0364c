# One place for the project's commands. `make setup` is idempotent and fast when nothing changed.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.architect-installed
NATIVE := $(shell find sdk-rs -name '*.rs' -o -name Cargo.toml) Cargo.toml pyproject.toml

.PHONY: setup demo test test-rs test-py lint format bench clean

setup: $(STAMP)

$(STAMP): $(NATIVE)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Editable install: maturin compiles the PyO3 module (architect._native); Python stays live-editable.
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(VENV)/bin/architect generate "Heston with mean reversion"

test: setup lint test-rs test-py

test-rs:
	cargo test --workspace --quiet

test-py: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check architect tests
	$(VENV)/bin/ruff format --check architect tests
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

format: setup
	$(VENV)/bin/ruff format architect tests
	$(VENV)/bin/ruff check --fix architect tests
	cargo fmt --all

clean:
	rm -rf $(VENV) target architect-out
