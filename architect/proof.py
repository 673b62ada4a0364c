"""The proof that a crate's `src/model.rs` is the model, before any statistics.

Statistics can only fail to find a lie: a drift wrong by ``C·h``, a mixture whose weight shrinks with the
step, a term that only acts after the horizon or between checkpoints all pass a black-box test of the
extrapolated limit. But architect has the source. `prove` shows that the file is exactly what architect
writes for the model, up to the model-specific expressions, and that those expressions are the model's:

1. **Read back.** The gate's parser reads the file (`architect._native.read_model_source`): the source text
   of the expressions the `Sde` impl's `drift`, `diffusion` and `correlation` return, and the file's code
   tokens (comments, doc comments and layout dropped).
2. **The expressions are the model's.** Each is parsed with the strict expression reader of the LLM
   backend (`architect.llm.completion`: f64 arithmetic on the state, ``t``, ``self.<parameter>``, literals
   and a few f64 methods — nothing else) and compared with the model's sympy expression: proven equal by
   sympy where simplification shows the difference is zero, else by an identity test at `POINTS` random
   points of the domain (parameters, state and time drawn over their whole ranges, magnitudes 1e-6 to 1e3
   and zero where allowed; relative tolerance 1e-9) — accepted only when the difference is analytic (no
   max, min or abs), since a nonzero analytic function vanishes at a random point with probability 0 but a
   threshold may lie beyond every point drawn.
   The report states which, per expression.
3. **Everything else is the template's.** The template (`templates/rust/src/model.rs.j2`) is rendered for
   the model around those expressions, for each scheme the model can take, and its code tokens must equal
   the file's. So `Default` (the parameter values), `initial_state`, `parameters`, `SCHEME`, `per_step`,
   `jumps` and every other item are the code generator's own, produced from the same model; a branch, a
   loop, a helper function, an extra method or constant, undeclared jumps — anything not in the template —
   is a difference, named with its line.

A file that is not proven gets `NotProven` with the reasons; `architect.api` turns that into a `fail`
verdict unless the caller asked for statistics only (`--statistical-only`).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from typing import Any

import sympy as sp

from architect import _native, codegen
from architect.codegen.symbolic import SchemeChoice, model_identifiers
from architect.errors import ArchitectError
from architect.llm import checks
from architect.llm.completion import (
    Completion,
    CompletionError,
    Expression,
    Node,
    parse_completion,
    to_sympy,
)
from architect.llm.prompt import names
from architect.model import TIME, SdeModel, interval_of, symbol

#: Random points of the identity test, where sympy does not decide.
POINTS = 64
#: Schemes a crate may have been generated with (`architect generate --scheme`).
SCHEME_KINDS = ("auto", "exact", "euler")
#: Functions that are piecewise: an identity test proves nothing about them (a threshold may lie outside
#: every point drawn). An analytic difference that is not zero vanishes at a random point with probability 0.
PIECEWISE = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise)
SYMPY = "sympy"
IDENTITY = f"identity at {POINTS} random points"


class NotProven(ArchitectError):
    """The file is not provably the model; ``reasons`` says where and why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("not provably the model: " + "; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Proof:
    """What was proven: the scheme whose template the file is, and how each expression was shown equal."""

    scheme: str
    methods: tuple[tuple[str, str], ...]  # (expression, SYMPY or IDENTITY)

    def to_dict(self) -> dict[str, Any]:
        return {
            "proven": True,
            "scheme": self.scheme,
            "expressions": [{"what": what, "method": method} for what, method in self.methods],
        }


def prove(model: SdeModel, source: str) -> Proof:
    """Prove that ``source`` (a gate-accepted `src/model.rs`) is architect's code for ``model``; else raise
    `NotProven`."""
    try:
        drift, diffusion, correlation, tokens = _native.read_model_source(source)
    except ValueError as exc:
        raise NotProven([str(exc)]) from None
    completion = _read_expressions(model, drift, diffusion, correlation)
    methods = _equal_to_model(model, completion)
    scheme = _template_scheme(model, completion, tokens)
    return Proof(scheme=scheme.name, methods=tuple(methods))


_TRAILING_COMMA = re.compile(r",\s*\)")


def _read_expressions(
    model: SdeModel, drift: list[str], diffusion: list[list[str]], correlation: list[list[str]] | None
) -> Completion:
    def row(items: list[str]) -> str:
        # One line per section: an expression rustfmt broke over lines is joined (its tokens are the same), and
        # the comma rustfmt puts after a call's last argument when it breaks the call (`f64::sqrt(\n a,\n)`)
        # is dropped: the expression language has no tuples, so `,)` is always that comma.
        return "[" + ", ".join(_TRAILING_COMMA.sub(")", " ".join(item.split())) for item in items) + "]"

    lines = [f"drift: {row(drift)}", "diffusion: " + row([row(r) for r in diffusion])]
    if correlation is not None:
        lines.append("correlation: " + row([row(r) for r in correlation]))
    try:
        return parse_completion("\n".join(lines), names(model), model.dim, model.noise_dim)
    except CompletionError as exc:
        raise NotProven([f"an expression is outside what can be proven: {p}" for p in exc.problems]) from None


# ------------------------------------------------------------------------------- the expressions
def _equal_to_model(model: SdeModel, completion: Completion) -> list[tuple[str, str]]:
    """(what, method) for every expression; `NotProven` naming each one that differs from the model."""
    to_sympy = _Converter(model)
    pairs: list[tuple[str, Expression | None, sp.Expr]] = []
    for i, expr in enumerate(completion.drift):
        pairs.append((f"drift of {model.state[i]}", expr, model.drift[i]))
    for i, row in enumerate(completion.diffusion):
        for k, expr in enumerate(row):
            pairs.append((f"diffusion of {model.state[i]} on {model.noises[k]}", expr, model.diffusion[i][k]))
    m = model.noise_dim
    for k in range(m):
        for j in range(m):
            what = f"correlation of {model.noises[k]} and {model.noises[j]}"
            if completion.correlation is None:
                if sp.simplify(model.correlation[k][j] - int(k == j)) != 0:
                    raise NotProven([f"the file has no `fn correlation`, but the model's {what} is not {int(k == j)}"])
            else:
                pairs.append((what, completion.correlation[k][j], model.correlation[k][j]))
    points = _points(model)
    methods, problems = [], []
    for what, expr, want in pairs:
        assert expr is not None
        got = to_sympy(expr.tree)
        if _sympy_equal(got, want):
            methods.append((what, SYMPY))
            continue
        mismatch = checks.compare_at(what, expr, want, points, model)
        if mismatch:
            problems += mismatch
        elif (got - want).has(*PIECEWISE):
            # Agreement at random points says little where a max, min or abs can switch far from them.
            problems.append(
                f"{what}: `{expr.text}` agrees with the model's {want} at {POINTS} random points, but a max, min or "
                "abs in the difference could switch elsewhere, and sympy cannot show they are equal"
            )
        else:
            methods.append((what, IDENTITY))
    if problems:
        raise NotProven(problems)
    return methods


def _points(model: SdeModel, seed: int = 20261202) -> list[checks.Point]:
    """`POINTS` points for the identity test: the model's own values first, then state, parameters and time
    drawn over their whole domains — magnitudes from 1e-6 to 1e3, zero where allowed, times up to 50 — so that
    a floor, a threshold or a term that only acts far from the model's values is met."""
    params, state = model_identifiers(model)
    rng = random.Random(seed)
    points = [checks.random_points(model, 1)[0]]
    for _ in range(POINTS - 1):
        rust: dict[str, float] = {}
        sym: dict[sp.Symbol, float] = {}
        for p in model.parameters:
            rust["self." + params[p.name]] = sym[symbol(p.name)] = _draw(rng, p.constraint)
        for name, domain in zip(model.state, model.domain, strict=True):
            rust[state[name]] = sym[symbol(name)] = _draw(rng, domain)
        rust["t"] = sym[TIME] = rng.choice((0.0, 10 ** rng.uniform(-3, math.log10(50))))
        points.append((rust, sym))
    return points


def _draw(rng: random.Random, kind: str) -> float:
    if kind == "correlation":
        return rng.uniform(-0.99, 0.99)
    if (bounds := interval_of(kind)) is not None:  # a state variable's interval domain: its ends too
        lower, upper = bounds
        return rng.choice((lower, upper)) if rng.random() < 0.1 else rng.uniform(lower, upper)
    magnitude = 10 ** rng.uniform(-6, 3)
    if kind == "positive":
        return magnitude
    if rng.random() < 0.1:
        return 0.0
    return magnitude if kind == "nonnegative" else rng.choice((-1.0, 1.0)) * magnitude


def _sympy_equal(got: sp.Expr, want: sp.Expr) -> bool:
    """Whether sympy shows ``got - want`` is zero (floats read as the decimals they are written as)."""
    difference = sp.nsimplify(got, rational=True) - sp.nsimplify(want, rational=True)
    if difference == 0 or sp.expand(difference) == 0:
        return True
    try:
        return bool(sp.simplify(difference) == 0)
    except (TypeError, ValueError, RecursionError):
        return False


class _Converter:
    """An expression tree of `architect.llm.completion` as the sympy expression it computes."""

    def __init__(self, model: SdeModel) -> None:
        params, state = model_identifiers(model)
        self.fields = {ident: symbol(name) for name, ident in params.items()}
        self.locals = {ident: symbol(name) for name, ident in state.items()} | {"t": TIME}

    def __call__(self, node: Node) -> sp.Expr:
        try:
            return to_sympy(node, self.fields, self.locals)
        except (KeyError, StopIteration):  # a name or method outside the table: not read, so not proven
            raise NotProven([f"cannot read {node!r}"]) from None


# ---------------------------------------------------------------------------------- the template
def _template_scheme(model: SdeModel, completion: Completion, tokens: list[tuple[str, int]]) -> SchemeChoice:
    """The scheme whose template, rendered around the file's expressions, is the file token for token."""
    tokens = _without_trailing_commas(tokens)
    got = [text for text, _ in tokens]
    closest: tuple[int, str] | None = None
    for scheme in _schemes(model):
        rendered = codegen.render_model_rs(model, scheme, completion.bodies())
        want = [text for text, _ in _without_trailing_commas(_native.read_model_source(rendered)[3])]
        if want == got:
            return scheme
        where = next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), min(len(want), len(got)))
        if closest is None or where > closest[0]:
            closest = (where, _difference(want, tokens, where))
    assert closest is not None
    raise NotProven([closest[1]])


_CLOSE = {")": "(", "]": "[", "}": "{"}


def _without_trailing_commas(tokens: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """``tokens`` without the commas that end a list (`[a, b,]`, `f(a, b,)`, `S { a, }`): rustfmt adds them
    to lists it breaks over lines, and they change nothing. A one-element tuple's comma (`(a,)`) stays; a
    call's (`f64::sqrt(a,)`: the parenthesis follows a name) does not."""
    out: list[tuple[str, int]] = []
    groups: list[tuple[int, bool]] = []  # for each open group: the top-level commas seen, whether it is a call
    for i, (text, line) in enumerate(tokens):
        if text in ("(", "[", "{"):
            before = tokens[i - 1][0] if i else ""
            groups.append((0, text == "(" and _NAME.fullmatch(before) is not None and before not in _KEYWORDS))
        elif text in _CLOSE and groups:
            groups.pop()
        elif text == "," and groups:
            commas, call = groups[-1]
            groups[-1] = (commas + 1, call)
            following = tokens[i + 1][0] if i + 1 < len(tokens) else ""
            tuple_of_one = following == ")" and commas == 0 and not call
            if following in _CLOSE and not tuple_of_one:
                continue
        out.append((text, line))
    return out


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = frozenset({"return", "in", "if", "match", "while", "let", "mut", "else", "for", "break", "move"})


def _schemes(model: SdeModel) -> list[SchemeChoice]:
    found: dict[str, SchemeChoice] = {}
    for kind in SCHEME_KINDS:
        try:
            scheme = codegen.choose_scheme(model, kind)
        except ArchitectError:
            continue
        found.setdefault(scheme.name, scheme)
    return list(found.values())


def _difference(want: list[str], tokens: list[tuple[str, int]], where: int) -> str:
    """The first token where the file leaves architect's template, in words."""
    expected = " ".join(want[where : where + 6]) or "the end of the file"
    if where >= len(tokens):
        return f"the file ends where architect's template for this model goes on with `{expected}`"
    line = tokens[where][1]
    found = " ".join(text for text, _ in tokens[where : where + 6])
    return (
        f"line {line}: the file is not architect's template for this model outside the drift, diffusion and "
        f"correlation expressions: expected `{expected}`, found `{found}` (a branch, loop, helper, extra "
        "method or constant, or changed values cannot be proven; edit model.json and regenerate instead)"
    )
