"""Which theory applies to which part of a model: decided once from its structure, before any run.

- `exact`: the largest closed polynomial subset; its moments come from the generator at every checkpoint
  (expm, or the numerically solved moment ODE when its coefficients depend on t).
- `others`: the remaining variables; their moments (and their covariances with anything) are compared
  with an empirical reference, i.e. with Richardson estimates of a trusted simulator at finer steps.
- `transformed`: when some variables only become polynomial after y = log x (e.g. Heston written in S),
  the log-state's moments are exact; they are tested at the horizon from the terminal states, because the
  simulator's power sums are of x, not of log x.
- exact laws and prices are found per horizon (`distribution.exact_laws`, `prices.price_specs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from math import comb

import numpy as np

from architect.model import SdeModel
from architect.verifier.structure import Numeric, log_candidates, log_transform, polynomial_subset, restrict
from architect.verifier.theory import NotPolynomial, PolynomialMoments

#: Degree of the generator's monomial basis: moments up to the fourth.
THEORY_DEGREE = 4
#: Degree the skewness guard needs: the cube of a fourth-moment estimator's influence function.
GUARD_DEGREE = 12
#: Largest monomial basis for the guard's theory (four state variables at degree 12).
GUARD_BASIS = 2000


def guard_theory(model: SdeModel, subset: tuple[int, ...]) -> PolynomialMoments | None:
    """Moments up to degree 12 of a closed polynomial subset, for the skewness guard; None when too large."""
    if not subset or comb(len(subset) + GUARD_DEGREE, GUARD_DEGREE) > GUARD_BASIS:
        return None
    return PolynomialMoments.from_model(restrict(model, subset), GUARD_DEGREE)


@dataclass(frozen=True)
class Transformed:
    """A log view of the model whose closed polynomial subset includes a logged variable."""

    view: SdeModel
    logged: tuple[int, ...]
    subset: tuple[int, ...]  # in the view's (= the model's) variable order
    theory: PolynomialMoments  # of the view restricted to ``subset``

    def states(self, terminal: np.ndarray) -> np.ndarray:
        """Terminal states of the subset, logged variables as logarithms (non-positive values give NaN)."""
        out = np.array(terminal[:, list(self.subset)], dtype=float)
        for k, i in enumerate(self.subset):
            if i in self.logged:
                column = out[:, k]
                with np.errstate(divide="ignore", invalid="ignore"):
                    out[:, k] = np.where(column > 0, np.log(np.where(column > 0, column, 1.0)), np.nan)
        return out

    @cached_property
    def guard(self) -> PolynomialMoments | None:
        return guard_theory(self.view, self.subset)

    def label(self, k: int) -> str:
        name = self.view.state[self.subset[k]]
        return f"log {name.removeprefix('log_')}" if self.subset[k] in self.logged else name


@dataclass(frozen=True)
class TheoryPlan:
    model: SdeModel
    numeric: Numeric | None
    exact: tuple[int, ...]
    theory: PolynomialMoments | None
    others: tuple[int, ...]
    why_not: str  # why ``others`` have no exact moments ("" when there are none)
    transformed: Transformed | None
    log_numeric: Numeric | None  # the log view, for detecting prices of models written in S

    @property
    def needs_reference(self) -> bool:
        return bool(self.others)

    @cached_property
    def guard(self) -> PolynomialMoments | None:
        """Moments up to degree 12 of the exact subset (built on first use: only the verifier needs them)."""
        return guard_theory(self.model, self.exact)

    def summary(self) -> dict[str, object]:
        """For the report: which variables are checked against what, and why."""
        names = self.model.state
        out: dict[str, object] = {
            "exact_moments": [names[i] for i in self.exact],
            "empirical_reference": [names[i] for i in self.others],
        }
        if self.why_not:
            out["why_not_exact"] = self.why_not
        if self.theory is not None and self.theory.time_dependent:
            out["exact_moments_method"] = f"coefficients depend on t: {self.theory.method()}"
        if self.transformed is not None:
            t = self.transformed
            out["transformed_state"] = [t.label(k) for k in range(len(t.subset))]
            note = (
                "the model is polynomial only in the transformed state "
                f"({', '.join(t.label(k) for k in range(len(t.subset)))}); its moments are exact and tested at the "
                "horizon from the terminal states"
            )
            if t.theory.time_dependent:
                note += f"; coefficients depend on t: {t.theory.method()}"
            out["transformed_note"] = note
        return out


@lru_cache(maxsize=16)
def make_plan(model: SdeModel) -> TheoryPlan:
    """Never raises: a model sympy cannot analyse is planned entirely as an empirical reference.

    Memoised (models are immutable): `generate` asks for the plan of one model three times, and the
    calibration bench verifies one model for hundreds of seeds; each analysis costs 50-150 ms of sympy."""
    try:
        return _plan(model)
    except Exception as exc:  # sympy raises many types; a verdict must still come out
        everything = tuple(range(model.dim))
        return TheoryPlan(model, None, (), None, everything, f"structure analysis failed: {exc}", None, None)


def _plan(model: SdeModel) -> TheoryPlan:
    num = Numeric.of(model)
    exact = polynomial_subset(num)
    theory = PolynomialMoments.from_model(restrict(model, exact), THEORY_DEGREE) if exact else None
    others = tuple(i for i in range(model.dim) if i not in exact)
    why_not = ""
    if others:
        try:
            PolynomialMoments.from_model(model, 1)
        except NotPolynomial as exc:
            why_not = exc.reason
    transformed, log_num = _transformed(model, exact, others)
    return TheoryPlan(model, num, exact, theory, others, why_not, transformed, log_num)


def _transformed(
    model: SdeModel, exact: tuple[int, ...], others: tuple[int, ...]
) -> tuple[Transformed | None, Numeric | None]:
    logged = log_candidates(model)
    if not logged or not others:
        return None, None
    view = log_transform(model, logged)
    log_num = Numeric.of(view)
    subset = polynomial_subset(log_num)
    if not any(i in logged and i in others for i in subset):
        return None, log_num
    theory = PolynomialMoments.from_model(restrict(view, subset), THEORY_DEGREE)
    return Transformed(view, tuple(i for i in logged if i in subset), subset, theory), log_num
