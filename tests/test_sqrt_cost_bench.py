"""The square-root bench behind docs/performance.md: the timing-only copy differs from the model only there."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import architect
from architect.codegen import write_crate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))
import sqrt_cost


@pytest.mark.parametrize("name", ["CIR", "Heston"])
def test_the_copy_loses_every_square_root_and_nothing_else(name: str, tmp_path: Path) -> None:
    write_crate(architect.parse(name), tmp_path, scheme="euler")
    source = (tmp_path / "src" / "model.rs").read_text()
    stripped = sqrt_cost.without_sqrt(source)
    assert ".sqrt()" in source and ".sqrt()" not in stripped
    assert stripped.replace(" ", "") == source.replace(".sqrt()", "").replace(" ", "")
    assert "self.sigma * r" in stripped or "self.xi * v" in stripped


def test_a_model_without_a_square_root_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no \.sqrt\(\) call"):
        sqrt_cost.without_sqrt("fn diffusion() -> f64 { self.sigma * x }")
