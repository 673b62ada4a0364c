# One place for the project's commands. `make setup` is idempotent and fast when nothing changed.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.architect-installed
NATIVE := $(shell find sdk-rs -name '*.rs' -o -name Cargo.toml) Cargo.toml pyproject.toml

.PHONY: setup demo test test-rs test-py lint format bench bench-rs clean

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
	$(VENV)/bin/ruff check architect tests benches
	$(VENV)/bin/ruff format --check architect tests benches
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

format: setup
	$(VENV)/bin/ruff format architect tests benches
	$(VENV)/bin/ruff check --fix architect tests benches
	cargo fmt --all

# Side-by-side comparison with numpy, QuantLib, torchsde and pure Python; writes docs/benchmarks.md.
# Baselines whose package is missing are skipped: `$(PY) -m pip install -e ".[bench]"` installs them.
bench: setup
	$(PY) benches/compare.py

# Criterion microbenchmarks of the SDK: generator, normal sampler, each scheme's step, the engine.
bench-rs:
	cargo bench -p architect-sdk --bench sdk

clean:
	rm -rf $(VENV) target architect-out
