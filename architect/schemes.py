"""The SDK's step kinds, as one table: what Python knows about schemes, read from the SDK itself.

How to add a scheme. A step kind is declared once, in the SDK, and this table follows:

1. ``sdk-rs/src/scheme.rs``: add the `Step` variant, its statistics label in `Step::label`, and
   its registry entry in `Step::info` (Rust variant, label, scheme name, the components it updates,
   weak order or exact, whether jumps may ride on it, the law families on which it is exact in
   law); add it to `Step::ALL`. Then implement it: a time step in `Stepper` (``scheme.rs``) or an
   exact transition in ``exact.rs``. A step that updates several components together (Andersen's
   QE for Heston, Milstein with cross terms) declares a new `Components` variant naming them.
2. Rebuild the extension (``pip install -e .``): `architect._native.schemes()` then describes it,
   and this module's `STEPS` holds it. Python code names steps through this module (`EULER`,
   `by_variant`, `by_label`, `labels_exact_on`), never by string literals.
3. If the compiler should choose it, add the rule to `architect.codegen.symbolic.choose_scheme`;
   the verifier reads exactness from here (`verifier.structure`).

Generated ``model.rs`` files write the Rust variant (``Step::FullTruncation``); binaries report
the label (``full-truncation``) in ``step_kinds`` of their statistics and ``--describe`` JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from architect import _native


@dataclass(frozen=True)
class StepKind:
    """One SDK step kind (`architect_sdk::StepInfo`)."""

    #: The Rust `Step` variant (``"FullTruncation"``), as generated crates write it.
    variant: str
    #: The name in the statistics' and ``--describe``'s ``step_kinds`` (``"full-truncation"``).
    label: str
    #: The name of a scheme made of this step (``"euler-maruyama"``; ``"exact"`` for exact steps).
    scheme_name: str
    #: The components one application updates: ``"own"`` (its own component only) for every step so far.
    components: str
    #: Weak order in the time step; ``None`` for exact steps (no time discretisation).
    weak_order: int | None
    #: Samples the exact transition law between observation dates (must be a scheme's only step).
    exact: bool
    #: Compound-Poisson jumps may be added to the component it steps.
    jumps: bool
    #: Law families on which it is exact in law (``"abm"``, ``"ou"``, ``"gbm"``, ``"cir"``).
    exact_on: frozenset[str]


#: Every step kind of the SDK, in its declaration order.
STEPS: tuple[StepKind, ...] = tuple(
    StepKind(**{**entry, "exact_on": frozenset(entry["exact_on"])}) for entry in _native.schemes()
)

_BY_VARIANT = {s.variant: s for s in STEPS}
_BY_LABEL = {s.label: s for s in STEPS}


def by_variant(variant: str) -> StepKind:
    """The step kind of a Rust `Step` variant name (``"LogEuler"``); `KeyError` for an unknown one."""
    return _BY_VARIANT[variant]


def by_label(label: str) -> StepKind:
    """The step kind of a statistics label (``"log-euler"``); `KeyError` for an unknown one."""
    return _BY_LABEL[label]


def labels_exact_on(family: str) -> tuple[str, ...]:
    """Labels of the steps that are exact in law on the law family ``family`` (``"gbm"``), in SDK order."""
    return tuple(s.label for s in STEPS if family in s.exact_on)


EULER = by_variant("Euler")
FULL_TRUNCATION = by_variant("FullTruncation")
LOG_EULER = by_variant("LogEuler")
EXACT_OU = by_variant("ExactOu")
EXACT_GBM = by_variant("ExactGbm")
EXACT_CIR = by_variant("ExactCir")
