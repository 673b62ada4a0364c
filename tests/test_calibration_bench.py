"""The calibration bench behind docs/verifier-calibration.md: binaries built here, verified elsewhere, in parallel."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import architect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benches"))
import verifier_calibration as calibration


def test_entry_names_are_plain_folder_names() -> None:
    assert calibration.entry_name("Heston with mean reversion", "auto") == "heston-with-mean-reversion--auto"
    assert calibration.entry_name("dX = -X*dt + 0.2*dW", "euler") == "dx-x-dt-0-2-dw--euler"


def test_a_bundle_without_the_model_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"has no cir--euler/ \(export it with --export\); it has: -"):
        calibration.load(tmp_path, "CIR", "euler")


@pytest.mark.slow
def test_an_exported_binary_verifies_in_parallel_exactly_as_in_series(tmp_path: Path) -> None:
    calibration.export(["CIR"], "euler", tmp_path)
    built = calibration.load(tmp_path, "CIR", "euler")
    assert (built.scheme_name, built.model) == ("full-truncation", architect.parse("CIR"))
    # Each seed's smallest p-value is compared too, so the runs agree to the last digit, not only in their verdicts.
    serial = calibration.calibrate(built, seeds=6, paths=300, jobs=1, threads=0)
    parallel = calibration.calibrate(built, seeds=6, paths=300, jobs=2, threads=1)
    for row in (serial, parallel):
        del row["seconds"], row["jobs"]
    assert serial == parallel
    assert len(set(serial["family_p"])) == 6
    assert serial["rejected_at"]["0.001"] == serial["failures"]
