"""Multi-indices (exponent vectors) in the one order the statistics format and the theory share."""

from __future__ import annotations

from collections.abc import Iterator

Exponent = tuple[int, ...]


def _compositions(total: int, parts: int) -> Iterator[Exponent]:
    """Every way to write ``total`` as an ordered sum of ``parts`` non-negative integers."""
    if parts == 1:
        yield (total,)
        return
    for first in range(total, -1, -1):
        for rest in _compositions(total - first, parts - 1):
            yield (first, *rest)


def multi_indices(dim: int, max_degree: int, min_degree: int = 1) -> list[Exponent]:
    """All exponents of total degree ``min_degree..=max_degree``: by degree, then lexicographically descending.

    This is the ``exponents`` order of ``architect.stats/1`` (``[2,0]`` before ``[1,1]`` before ``[0,2]``);
    with ``min_degree=0`` the constant comes first, which is the basis order of the theory.
    """
    if dim < 1 or min_degree < 0:
        raise ValueError("need dim >= 1 and min_degree >= 0")
    out: list[Exponent] = []
    for degree in range(min_degree, max_degree + 1):
        out.extend(sorted(_compositions(degree, dim), reverse=True))
    return out


def unit(dim: int, i: int) -> Exponent:
    return tuple(1 if k == i else 0 for k in range(dim))


def add(e: Exponent, f: Exponent) -> Exponent:
    return tuple(a + b for a, b in zip(e, f, strict=True))
