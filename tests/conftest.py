"""Test-suite settings shared by every file."""

import os

from hypothesis import settings

# Deterministic property tests: the same examples on every run and every machine, so a red CI is
# reproducible and a green one is not luck. (`HYPOTHESIS_PROFILE=explore` draws fresh examples.)
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
