"""A small run of scripts/fuzz_parser.py inside the test suite: no tracebacks, no hangs, JSON round trips.

The full run (100 000 inputs, numbers in docs/models.md) is ``.venv/bin/python scripts/fuzz_parser.py``.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "fuzz_parser.py"


@pytest.fixture(scope="module")
def fuzzer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_parser", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_parser"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_inputs_raise_only_usage_errors_and_never_hang(fuzzer: ModuleType) -> None:
    tally = fuzzer.fuzz(inputs=3000, seed=20260101, workers=1)
    assert tally.inputs == 3000
    assert set(tally.by_generator) == {"text", "mutated", "latex", "named"}
    assert not tally.failures, tally.failures[:5]
    assert tally.slowest < fuzzer.LIMIT_SECONDS, tally.slowest_input
    assert tally.parsed > 100  # the generators reach the model-building paths, not only the lexer


def test_every_seed_input_parses(fuzzer: ModuleType) -> None:
    for text in fuzzer.VALID:
        outcome, _, detail = fuzzer.check_one(text)
        assert outcome == "parsed", (text, detail)


def test_generators_are_reproducible(fuzzer: ModuleType) -> None:
    for generate in fuzzer.GENERATORS.values():
        assert generate(random.Random(7)) == generate(random.Random(7))
