"""Statistical verification of compiled SDE simulators against exact moments."""

from architect.verifier.checks import Check, Verification, holm, verify
from architect.verifier.report import render_markdown, write_report
from architect.verifier.sample import SampleError, parse_stats
from architect.verifier.theory import NotPolynomial, PolynomialMoments

__all__ = [
    "Check",
    "NotPolynomial",
    "PolynomialMoments",
    "SampleError",
    "Verification",
    "holm",
    "parse_stats",
    "render_markdown",
    "verify",
    "write_report",
]
