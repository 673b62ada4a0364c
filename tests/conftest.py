"""Test-suite settings shared by every file."""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

from architect import sandbox

# Deterministic property tests: the same examples on every run and every machine, so a red CI is
# reproducible and a green one is not luck. (`HYPOTHESIS_PROFILE=explore` draws fresh examples.)
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _python_visible_in_the_jail(monkeypatch: pytest.MonkeyPatch) -> None:
    """Planted simulators (tests/planted.py) are Python scripts: the jail's view of the filesystem
    (`architect.sandbox.View`) must include their interpreter and its packages, as it includes the
    system's libraries for a compiled binary. Nothing else is added."""
    interpreter = {sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent.parent)}
    monkeypatch.setattr(sandbox, "SYSTEM_PATHS", (*sandbox.SYSTEM_PATHS, *sorted(interpreter)))
