"""The scheme registry: `architect.schemes` is the SDK's own description of its step kinds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from architect import _native, schemes
from architect.verifier import runs, structure

SCHEME_RS = Path(__file__).resolve().parent.parent / "sdk-rs" / "src" / "scheme.rs"


def test_the_table_is_the_sdks_step_enum() -> None:
    source = SCHEME_RS.read_text()
    enum = source[source.index("pub enum Step {") :]
    variants = re.findall(r"^    (\w+),$", enum[: enum.index("}")], flags=re.M)
    labels = dict(re.findall(r"Step::(\w+) => \"([\w-]+)\"", source))
    assert [s.variant for s in schemes.STEPS] == variants
    assert {s.variant: s.label for s in schemes.STEPS} == labels
    assert len({s.label for s in schemes.STEPS}) == len(schemes.STEPS)


def test_each_step_kind_is_described_consistently() -> None:
    raw = _native.schemes()
    assert [set(d) for d in raw] == [
        {"variant", "label", "scheme_name", "components", "weak_order", "exact", "jumps", "exact_on"}
    ] * len(raw)
    for step in schemes.STEPS:
        assert step.components == "own"
        assert (step.weak_order is None) == step.exact
        assert not (step.exact and step.jumps), "jumps are added per time step"
        assert step.exact_on <= {"abm", "ou", "gbm", "cir"}
    assert [s.label for s in schemes.STEPS if s.exact] == ["exact-ou", "exact-gbm", "exact-cir"]
    assert [s.label for s in schemes.STEPS if s.jumps] == ["euler", "full-truncation"]


def test_lookups_and_the_names_python_used_before() -> None:
    assert schemes.by_label("log-euler") is schemes.LOG_EULER
    assert schemes.by_variant("FullTruncation").label == "full-truncation"
    with pytest.raises(KeyError):
        schemes.by_variant("Milstein")
    # The literals the verifier and the compiler held before the table.
    assert structure.EXACT_GBM_KINDS == ("log-euler", "exact-gbm")
    assert {s.variant: s.scheme_name for s in schemes.STEPS if not s.exact} == {
        "Euler": "euler-maruyama",
        "FullTruncation": "full-truncation",
        "LogEuler": "log-euler",
    }
    for step in schemes.STEPS:
        assert runs.step_label(step.variant) == re.sub(r"(?<!^)(?=[A-Z])", "-", step.variant).lower()
