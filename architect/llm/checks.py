"""Static checks of an LLM answer against the model, before anything is compiled.

1. `parse_completion`: the format and a whitelist of names, literals and f64 methods.
2. `mismatches`: every expression is evaluated at random points (state, time and parameter
   values drawn from their domains) and compared with the model's own sympy expression, so a
   wrong sign, a swapped parameter or a missing square root is reported precisely, in words
   the LLM can act on, without a compile.
3. The full Rust-source gate (`architect._native.check_model_source`), when the native module has it.

The compiler and the statistical verifier still judge the result afterwards.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import sympy as sp

from architect.codegen.symbolic import model_identifiers
from architect.expr.printers import display
from architect.llm.completion import (
    Completion,
    CompletionError,
    Expression,
    Item,
    answer_items,
    evaluate,
    parse_completion,
    parse_expression,
)
from architect.llm.prompt import names
from architect.model import TIME, SdeModel, interval_of, symbol

POINTS = 6
RELATIVE = 1e-9


def check_completion(model: SdeModel, text: str) -> Completion:
    """Parse, whitelist and compare with the model; `CompletionError` lists what is wrong."""
    completion = parse_completion(text, names(model), model.dim, model.noise_dim)
    problems = mismatches(model, completion)
    if problems:
        raise CompletionError(problems)
    return completion


def native_source_problems(model_rs: str) -> list[str]:
    """The sandbox gate of the native module, where this build has it (another branch adds it)."""
    try:
        from architect import _native
    except ImportError:
        return []
    gate: Callable[[str], object] | None = getattr(_native, "check_model_source", None)
    if gate is None:
        return []
    try:
        result = gate(model_rs)
    except Exception as exc:  # the gate reports a rejected source by raising
        return [f"source check: {exc}"]
    if isinstance(result, (list, tuple)):
        return [f"source check: {p}" for p in result]
    return []


def mismatches(model: SdeModel, completion: Completion) -> list[str]:
    """Expressions whose values differ from the model's at some random point."""
    points = random_points(model)
    problems: list[str] = []
    written = [*completion.drift, *(e for row in completion.diffusion for e in row)]
    written += [e for row in completion.correlation or () for e in row]
    for (what, want), expr in zip(slots(model), written, strict=False):  # no correlation line: no such slots
        problems += compare_at(what, expr, want, points, model)
    if completion.correlation is None and correlated(model):
        problems.append("the Brownian motions are correlated: add the line 'correlation: [[...]]'")
    return problems


def slots(model: SdeModel) -> list[tuple[str, sp.Expr]]:
    """What each expression of an answer is, in words, and the model's expression for it, in the answer's
    order: drift, diffusion by rows, correlation by rows."""
    out = [(f"drift of {x}", e) for x, e in zip(model.state, model.drift, strict=True)]
    out += [
        (f"diffusion of {model.state[i]} on {model.noises[k]}", e)
        for i, row in enumerate(model.diffusion)
        for k, e in enumerate(row)
    ]
    out += [
        (f"correlation of {model.noises[k]} and {model.noises[j]}", e)
        for k, row in enumerate(model.correlation)
        for j, e in enumerate(row)
    ]
    return out


def correlated(model: SdeModel) -> bool:
    m = model.noise_dim
    return any(model.correlation[k][j] != int(k == j) for k in range(m) for j in range(m))


def check_item(model: SdeModel, index: int, text: str) -> list[str]:
    """The problems of one expression written for the answer's ``index``-th slot (`slots`): the whitelist
    parser and the numeric comparison, as for a whole answer."""
    what, want = slots(model)[index]
    constant = index >= model.dim * (1 + model.noise_dim)  # a correlation
    try:
        expr = parse_expression(text.strip(), names(model), constant=constant)
    except CompletionError as exc:
        return [f"{what}: {p}" for p in exc.problems]
    return compare_at(what, expr, want, random_points(model), model)


def first_wrong_item(model: SdeModel, answer: str) -> tuple[int, Item] | None:
    """The first expression of ``answer`` that is unfinished or fails `check_item`, with its slot's index;
    None when every expression it has passes (the answer may still lack some)."""
    for index, item in enumerate(answer_items(answer)[: len(slots(model))]):
        if not item.closed or check_item(model, index, item.text):
            return index, item
    return None


Point = tuple[dict[str, float], dict[sp.Symbol, float]]


def random_points(model: SdeModel, count: int = POINTS, seed: int = 20250101) -> list[Point]:
    """Random (Rust name -> value, sympy symbol -> value) pairs; the first uses the model's own values (it is
    also the first point of `architect.proof`'s identity test)."""
    params, state = model_identifiers(model)
    rng = random.Random(seed)
    out = []
    for n in range(count):
        rust: dict[str, float] = {}
        sym: dict[sp.Symbol, float] = {}
        for p in model.parameters:
            value = p.value if n == 0 else _draw(rng, p.constraint)
            rust["self." + params[p.name]], sym[symbol(p.name)] = value, value
        for i, name in enumerate(model.state):
            value = model.initial[i] if n == 0 else _draw(rng, model.domain[i])
            rust[state[name]], sym[symbol(name)] = value, value
        value = 0.5 if n == 0 else rng.uniform(0.0, 2.0)
        rust["t"], sym[TIME] = value, value
        out.append((rust, sym))
    return out


def _draw(rng: random.Random, kind: str) -> float:
    if (bounds := interval_of(kind)) is not None:  # a state variable's interval domain
        return rng.uniform(*bounds)
    if kind in ("positive", "nonnegative"):
        return rng.uniform(0.05, 3.0)
    if kind == "correlation":
        return rng.uniform(-0.9, 0.9)
    return rng.uniform(-2.0, 2.0)


def compare_at(what: str, expr: Expression, want: sp.Expr, points: list[Point], model: SdeModel) -> list[str]:
    """The first point where ``expr`` differs from ``want``, in words (empty: equal at every point)."""
    for rust, sym in points:
        expected = _value(want, sym)
        if expected is None:
            continue
        got = evaluate(expr.tree, rust)
        if not (abs(got - expected) <= RELATIVE * max(1.0, abs(expected), abs(got))):
            at = ", ".join(f"{k.name}={v:.4g}" for k, v in sym.items() if k in want.free_symbols)
            shown = "NaN" if math.isnan(got) else f"{got:.6g}"
            return [
                f"{what} should be {display(want)} but `{expr.text}` gives {shown} instead of {expected:.6g}"
                + (f" at {at}" if at else "")
            ]
    return []


def _value(expr: sp.Expr, values: dict[sp.Symbol, float]) -> float | None:
    try:
        result = complex(expr.evalf(subs=values))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if abs(result.imag) > 1e-12 or not math.isfinite(result.real):
        return None
    return result.real
