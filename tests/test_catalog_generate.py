"""Every catalog family generates and verifies at its defaults (issue #19, item 4): text -> crate -> verdict.

One run per family through the Python API (the symbolic compiler), at the end-to-end tests' light settings
(tests/test_end_to_end.py: 40 000 paths, 40 steps) with the real verifier: the proof, the exact or empirical
theory, the extended design, the sanity checks. Fixed seeds make the verdicts deterministic; the verifier's
family-wise false-fail rate is 1e-3 per family. A family whose defaults do not verify fails here with the
checks that failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import architect
from architect.parser.families import FAMILIES
from architect.parser.family_schema import Family

pytestmark = pytest.mark.slow

OPTIONS = architect.Options(paths=40_000, steps=40)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.key)
def test_every_family_generates_and_verifies_at_its_defaults(family: Family, tmp_path: Path) -> None:
    result = architect.generate(family.label, out=tmp_path, options=OPTIONS)
    report = json.loads((tmp_path / "report.json").read_text())
    failed = [(c.get("name"), c.get("detail")) for c in report["checks"] if not c["passed"]]
    assert result.passed and report["verdict"] == "pass", (family.key, report.get("reason"), failed[:5])
    assert report["model"]["name"] == family.display_name
