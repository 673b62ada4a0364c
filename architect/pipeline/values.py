"""The values a run verifies at: the model as parsed, with `Options.params` and `Options.x0` applied.

The crate and its binary are built from the model as parsed (its values compiled in, model.json unchanged);
every run of the verifier passes the run-time values to the binary (``--set``, ``--x0``: `RunSpec.arguments`),
and the theory is computed from the model at those same values (`at_values`). docs/gym.md, "Verifying at
other values".
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from architect.model import SdeModel
from architect.options import Options
from architect.simulator import check_initial, check_parameters


def checked(model: SdeModel, options: Options) -> Options:
    """``options`` once its values have passed the model's own checks (names, constraints, the correlation
    matrix, domains): a `ModelError` naming the first bad one, before anything is written or built."""
    params = check_parameters(model, dict(options.params))
    x0 = check_initial(model, dict(options.x0))
    return replace(options, params=params, x0=x0)


def at_values(model: SdeModel, options: Options) -> SdeModel:
    """The model the binary simulates when run with ``options``' values: the one the theory is computed from."""
    if not options.params and not options.x0:
        return model
    moved = model.with_parameters(**options.params) if options.params else model
    initial = list(moved.initial)
    for name, value in options.x0.items():
        initial[moved.state.index(name)] = value
    return replace(moved, initial=tuple(initial))


def overridden(model: SdeModel, options: Options) -> dict[str, dict[str, Any]]:
    """report.json's ``values.overridden``: for each value given at run time, the compiled-in one it replaced."""
    defaults = model.parameter_values()
    initial = dict(zip(model.state, model.initial, strict=True))
    return {
        "parameters": {name: {"compiled": defaults[name], "verified": value} for name, value in options.params.items()},
        "initial": {name: {"compiled": initial[name], "verified": value} for name, value in options.x0.items()},
    }


def values_summary(model: SdeModel, options: Options) -> dict[str, Any]:
    """report.json's ``values``: every parameter and initial value verified at, and which were given at run time."""
    verified = at_values(model, options)
    return {
        "parameters": verified.parameter_values(),
        "initial": dict(zip(verified.state, verified.initial, strict=True)),
        "overridden": overridden(model, options),
    }


__all__ = ["at_values", "checked", "overridden", "values_summary"]
