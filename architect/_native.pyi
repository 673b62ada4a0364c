"""Types of the compiled extension `architect._native` (sdk-rs/python/src/lib.rs), for the type checker."""

from typing import Any

def sdk_version() -> str:
    """The SDK version string."""

def check_model_source(source: str) -> list[tuple[int, int, str]]:
    """The static gate on a `src/model.rs`: `(line, column, reason)` per violation; empty when accepted."""

def read_model_source(
    source: str,
) -> tuple[list[str], list[list[str]], list[list[str]] | None, list[tuple[str, int]]]:
    """`(drift, diffusion, correlation, tokens)` of a model file, for the proof; `ValueError` when unreadable."""

def schemes() -> list[dict[str, Any]]:
    """The SDK's step kinds, one dict per kind (`architect_sdk::Step::info`)."""

def exponents(dim: int, degree: int) -> list[list[int]]:
    """Every exponent multi-index of length `dim` and total degree 1..=`degree`, in reporting order."""

def standard_normals(seed: int, path: int, n: int) -> list[float]:
    """The first `n` standard normals drawn by path `path` of a run seeded with `seed`."""
