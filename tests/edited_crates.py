"""Real generated crates with one hand edit in `src/model.rs`: how the proof and the statistics are attacked
(tests/test_proof.py, tests/test_user_statistics.py)."""

from __future__ import annotations

from pathlib import Path

import architect
from architect import codegen
from architect.model import SdeModel

OU = "OU kappa=2 theta=1 sigma=0.5 X0=0"
#: (old, new) for `edit`: rare, enormous jumps that model.json does not have.
UNDECLARED_JUMPS = (
    "    fn per_step(",
    "    fn jumps(&self) -> Vec<architect_sdk::Jump> {\n"
    "        vec![architect_sdk::Jump { variable: 0, intensity: 5e-7,"
    " size: architect_sdk::JumpSize::Normal { mean: 2e5, sd: 1.0 } }]\n    }\n\n    fn per_step(",
)


def crate(tmp_path: Path, text: str = OU, scheme: str = "euler") -> tuple[SdeModel, Path]:
    """The crate architect writes for ``text`` in ``tmp_path / "crate"``, with its model.json."""
    model = architect.parse(text)
    out = tmp_path / "crate"
    codegen.write_crate(model, out, scheme=scheme)
    (out / "model.json").write_text(model.to_json())
    return model, out


def edit(out: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in the crate's model.rs with ``new`` (``old`` must be there)."""
    source = out / "src" / "model.rs"
    text = source.read_text()
    assert old in text, f"{old!r} not in\n{text}"
    source.write_text(text.replace(old, new, 1))
