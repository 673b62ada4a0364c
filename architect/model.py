"""`SdeModel`: the one description of an SDE that every pipeline stage takes.

An Itô system in ``D`` state variables driven by ``M`` Brownian motions and, optionally, compound-Poisson
jumps (`JumpPart`) added to some of them:

    dX_i = drift_i(t, X) dt + sum_k diffusion_ik(t, X) dW_k + dJ_i,   d<W_k, W_l> = correlation_kl dt

``J_i`` jumps at the times of a Poisson process with constant intensity λ by independent sizes Y of a fixed
law (normal, or Kou's double exponential), independent of the Brownian motions. The drift is the whole drift:
a risk-neutral log-price carries its compensator -λ(E[e^Y] - 1) in ``drift`` already (Merton 1976).

Expressions are sympy expressions over the state symbols, the parameter symbols and ``t``.
Numeric literals are kept exact (``Rational``) so the JSON form round-trips bit for bit;
parameter *values* live in `Parameter`, never inside the expressions, so a user can
override them without re-deriving anything.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence
from sympy.printing.str import StrPrinter

from architect.errors import ModelError

TIME = sp.Symbol("t", real=True)

#: Per-state-variable domains the schemes and the verifier understand.
DOMAINS = ("real", "positive", "nonnegative")

#: Parameter constraints; checked against the value when a model is built.
CONSTRAINTS = ("real", "positive", "nonnegative", "correlation")

JSON_FORMAT = "architect.sde-model/1"
#: The format of models with jumps: /1 plus a "jumps" list. Models without jumps keep writing /1, so every
#: existing model file and golden stays byte-identical; a /1 reader refuses a /2 file instead of dropping its jumps.
JSON_FORMAT_JUMPS = "architect.sde-model/2"

#: Jump-size laws and their parameters, in order: Merton (1976) normal sizes (log-normal price jumps), and
#: Kou (2002) double exponential: Exp(eta1) upward with probability p, -Exp(eta2) downward otherwise.
JUMP_LAWS: dict[str, tuple[str, ...]] = {"normal": ("mean", "sd"), "double-exponential": ("p", "eta1", "eta2")}


def symbol(name: str) -> sp.Symbol:
    """The one way to make a model symbol, so parsed and deserialised models compare equal."""
    return sp.Symbol(name, real=True)


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    constraint: str = "real"
    description: str = ""

    def violation(self) -> str | None:
        """Why ``value`` breaks ``constraint``, or None when it does not."""
        v = self.value
        if not isinstance(v, (int, float)) or v != v or v in (float("inf"), float("-inf")):
            return f"parameter {self.name} must be a finite number, got {v!r}"
        if self.constraint == "positive" and not v > 0:
            return f"parameter {self.name} must be positive, got {v:g}"
        if self.constraint == "nonnegative" and not v >= 0:
            return f"parameter {self.name} must be non-negative, got {v:g}"
        if self.constraint == "correlation" and not -1 <= v <= 1:
            return f"parameter {self.name} is a correlation and must lie in [-1, 1], got {v:g}"
        return None


@dataclass(frozen=True)
class JumpPart:
    """Compound-Poisson jumps ``dJ`` added to state variable ``variable``: rate ``intensity``, i.i.d. sizes of
    ``law`` with parameters ``size`` (in the order of `JUMP_LAWS`); numbers or parameter expressions."""

    variable: str
    intensity: sp.Expr
    law: str
    size: tuple[sp.Expr, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "intensity", _exact(self.intensity))
        object.__setattr__(self, "size", tuple(_exact(e) for e in self.size))

    def expressions(self) -> tuple[sp.Expr, ...]:
        return (self.intensity, *self.size)

    def values(self, subs: dict[sp.Symbol, sp.Expr]) -> dict[str, float]:
        """{"intensity": λ, size parameter name: value} with the parameter values substituted."""
        names = ("intensity", *JUMP_LAWS[self.law])
        return {n: float(e.subs(subs)) for n, e in zip(names, self.expressions(), strict=True)}

    def problem(self, subs: dict[sp.Symbol, sp.Expr]) -> str | None:
        """Why these values make no jump law (negative rate, sd <= 0, p outside [0, 1], E[e^Y] infinite)."""
        found = self.first_problem(subs)
        return None if found is None else found[1]

    def first_problem(self, subs: dict[sp.Symbol, sp.Expr]) -> tuple[str, str] | None:
        """(the field at fault: "intensity" or a size parameter, why), or None."""
        try:
            v = self.values(subs)
        except (TypeError, ValueError):
            return "intensity", f"the jumps of {self.variable} must have numeric parameters"
        where = f"jumps of {self.variable}"
        for name, x in v.items():
            if x != x or x in (float("inf"), float("-inf")):
                return name, f"{where}: {name} must be a finite number"
        if v["intensity"] < 0:
            return "intensity", f"{where}: the intensity must be non-negative, got {v['intensity']:g}"
        if self.law == "normal" and not v["sd"] > 0:
            return "sd", f"{where}: the jump-size standard deviation must be positive, got {v['sd']:g}"
        if self.law == "double-exponential":
            if not 0 <= v["p"] <= 1:
                return "p", f"{where}: p is the probability of an upward jump and must lie in [0, 1], got {v['p']:g}"
            if not v["eta1"] > 1:
                return (
                    "eta1",
                    f"{where}: eta1 must exceed 1 (else E[exp(Y)] is infinite: no compensator), got {v['eta1']:g}",
                )
            if not v["eta2"] > 0:
                return "eta2", f"{where}: eta2 must be positive, got {v['eta2']:g}"
        return None

    def describe(self) -> str:
        """The law in the syntax the equation reader takes (``J_x ~ CompoundPoisson(lam, Normal(m, delta))``)."""
        args = ", ".join(_fmt(e) for e in self.size)
        law = "Normal" if self.law == "normal" else "DoubleExponential"
        return f"J_{self.variable} ~ CompoundPoisson({_fmt(self.intensity)}, {law}({args}))"

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "intensity": sp.sstr(self.intensity),
            "law": self.law,
            "size": {n: sp.sstr(e) for n, e in zip(JUMP_LAWS[self.law], self.size, strict=True)},
        }


def _exact(e: object) -> sp.Expr:
    return exact_value(e) if isinstance(e, float) else sp.sympify(e)


@functools.lru_cache(maxsize=4096)
def exact_value(value: float) -> sp.Rational:
    """The exact rational a parameter value stands for (0.3 -> 3/10).

    Memoised: `nsimplify` costs about 3 ms, and the parser, the code generator and the verifier ask
    for the same few values dozens of times per model (0.3 s of `architect generate`)."""
    return sp.nsimplify(value, rational=True)


@dataclass(frozen=True)
class SdeModel:
    """A parsed SDE system; immutable, validated on construction.

    ``diffusion`` is D x M (row i = equation i, column k = Brownian motion k);
    ``correlation`` is M x M with unit diagonal, entries numbers or parameter symbols.
    """

    name: str
    state: tuple[str, ...]
    noises: tuple[str, ...]
    drift: tuple[sp.Expr, ...]
    diffusion: tuple[tuple[sp.Expr, ...], ...]
    correlation: tuple[tuple[sp.Expr, ...], ...]
    parameters: tuple[Parameter, ...]
    initial: tuple[float, ...]
    domain: tuple[str, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default=())
    jumps: tuple[JumpPart, ...] = field(default=())

    def __post_init__(self) -> None:
        # Accept plain numbers and lists from callers; store exact sympy tuples.
        exact = _exact
        object.__setattr__(self, "drift", tuple(exact(e) for e in self.drift))
        object.__setattr__(self, "diffusion", tuple(tuple(exact(e) for e in row) for row in self.diffusion))
        object.__setattr__(self, "correlation", tuple(tuple(exact(e) for e in row) for row in self.correlation))
        object.__setattr__(self, "initial", tuple(float(v) for v in self.initial))
        for name in ("state", "noises", "domain", "parameters", "notes", "jumps"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problem = self._first_problem()
        if problem:
            raise ModelError(problem)

    # ----------------------------------------------------------------- validation
    def _first_problem(self) -> str | None:
        d, m = len(self.state), len(self.noises)
        if d == 0:
            return "the model has no state variable"
        if len(set(self.state)) != d or len(set(self.noises)) != m:
            return "state variables and Brownian motions must have distinct names"
        if len(self.drift) != d or len(self.initial) != d or len(self.domain) != d:
            return "drift, initial values and domains need one entry per state variable"
        if len(self.diffusion) != d or any(len(row) != m for row in self.diffusion):
            return f"the diffusion matrix must be {d} x {m}"
        if len(self.correlation) != m or any(len(row) != m for row in self.correlation):
            return f"the correlation matrix must be {m} x {m}"
        for dom in self.domain:
            if dom not in DOMAINS:
                return f"unknown domain {dom!r}; expected one of {', '.join(DOMAINS)}"
        names = [p.name for p in self.parameters]
        if len(set(names)) != len(names):
            return "parameter names must be distinct"
        clash = set(names) & (set(self.state) | set(self.noises) | {"t"})
        if clash:
            return f"{', '.join(sorted(clash))} is both a parameter and a variable"
        for p in self.parameters:
            if p.constraint not in CONSTRAINTS:
                return f"parameter {p.name}: unknown constraint {p.constraint!r}"
            if (why := p.violation()) is not None:
                return why
        allowed = {symbol(n) for n in (*self.state, *names)} | {TIME}
        for expr in (*self.drift, *(e for row in self.diffusion for e in row)):
            unknown = expr.free_symbols - allowed
            if unknown:
                listed = ", ".join(sorted(str(s) for s in unknown))
                return f"unknown symbol {listed} in {expr}: give it a value"
        return self._jumps_problem(allowed - {TIME, *self.state_symbols()}) or self._correlation_problem(
            set(symbol(n) for n in names)
        )

    def _jumps_problem(self, params: set[sp.Symbol]) -> str | None:
        seen = set()
        for jump in self.jumps:
            if jump.variable not in self.state:
                return f"jumps in {jump.variable}, which is not a state variable"
            if jump.variable in seen:
                return f"{jump.variable} has two jump parts; give it one"
            seen.add(jump.variable)
            if jump.law not in JUMP_LAWS:
                return f"unknown jump-size law {jump.law!r}; expected one of {', '.join(JUMP_LAWS)}"
            if len(jump.size) != len(JUMP_LAWS[jump.law]):
                return f"a {jump.law} jump size has parameters {', '.join(JUMP_LAWS[jump.law])}"
            for expr in jump.expressions():
                if not expr.free_symbols <= params:
                    listed = ", ".join(sorted(str(s) for s in expr.free_symbols - params))
                    return f"jump parameter {expr} must be a number or a parameter expression (unknown: {listed})"
            if (why := jump.problem(self.substitutions())) is not None:
                return why
        return None

    def _correlation_problem(self, params: set[sp.Symbol]) -> str | None:
        rho = self.correlation
        for k, row in enumerate(rho):
            if row[k] != 1:
                return "the correlation matrix must have a unit diagonal"
            for j, entry in enumerate(row):
                if sp.simplify(entry - rho[j][k]) != 0:
                    return "the correlation matrix must be symmetric"
                if not entry.free_symbols <= params:
                    return f"correlation entry {entry} must be a number or a parameter"
        numeric = self.numeric_correlation()
        for k, row in enumerate(numeric):
            for j, value in enumerate(row):
                if j != k and not -1 <= value <= 1:
                    return f"correlation between {self.noises[k]} and {self.noises[j]} is {value:g}, outside [-1, 1]"
        import numpy as np

        if numeric and np.linalg.eigvalsh(np.array(numeric)).min() < -1e-12:
            return "the correlation matrix is not positive semi-definite"
        return None

    # ------------------------------------------------------------------ accessors
    @property
    def dim(self) -> int:
        return len(self.state)

    @property
    def noise_dim(self) -> int:
        return len(self.noises)

    @property
    def slug(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")
        return slug or "model"

    def state_symbols(self) -> tuple[sp.Symbol, ...]:
        return tuple(symbol(n) for n in self.state)

    def parameter_values(self) -> dict[str, float]:
        return {p.name: float(p.value) for p in self.parameters}

    def substitutions(self) -> dict[sp.Symbol, sp.Expr]:
        """Parameter symbol -> exact value, for evaluating expressions numerically."""
        return {symbol(p.name): exact_value(float(p.value)) for p in self.parameters}

    def jump_of(self, variable: str) -> JumpPart | None:
        return next((j for j in self.jumps if j.variable == variable), None)

    def numeric_correlation(self) -> list[list[float]]:
        subs = self.substitutions()
        return [[float(e.subs(subs)) for e in row] for row in self.correlation]

    def covariance(self) -> sp.Matrix:
        """The instantaneous covariance a(t, x) = sigma rho sigma^T (D x D), symbolic."""
        sigma = sp.Matrix(self.diffusion)
        return sp.simplify(sigma * sp.Matrix(self.correlation) * sigma.T)

    def with_parameters(self, **values: float) -> SdeModel:
        """A copy with some parameter values (or initial values, by state name + '0') replaced."""
        params = {p.name: p for p in self.parameters}
        initial = list(self.initial)
        for name, value in values.items():
            if name in params:
                params[name] = Parameter(name, float(value), params[name].constraint, params[name].description)
            elif name.endswith("0") and name[:-1] in self.state:
                initial[self.state.index(name[:-1])] = float(value)
            else:
                raise ModelError(f"{name} is neither a parameter nor an initial value of {self.name}")
        return _replace(self, parameters=tuple(params.values()), initial=tuple(initial))

    # ------------------------------------------------------------------ rendering
    def equations(self) -> list[str]:
        """Human-readable equations, one per state variable."""
        lines = []
        for name, drift, row in zip(self.state, self.drift, self.diffusion, strict=True):
            terms = [f"{_factor(drift)}*dt"] if drift != 0 else []
            terms += [f"{_factor(e)}*d{w}" for e, w in zip(row, self.noises, strict=True) if e != 0]
            terms += [f"dJ_{name}"] if self.jump_of(name) else []
            text = " + ".join(terms).replace(" + -", " - ") or "0"
            lines.append(f"d{name} = {text}")
        return lines

    def describe(self) -> str:
        """The multi-line summary printed back to the user."""
        out = [f"Model: {self.name}"]
        out += ["  " + eq for eq in self.equations()]
        m = self.noise_dim
        for k in range(m):
            for j in range(k + 1, m):
                rho = self.correlation[k][j]
                if rho != 0:
                    out.append(f"  d{self.noises[k]}*d{self.noises[j]} = {_fmt(rho)}*dt")
        out += ["  " + jump.describe() for jump in self.jumps]
        if self.parameters:
            out.append("Parameters: " + ", ".join(f"{p.name}={p.value:g}" for p in self.parameters))
        initial = (f"{n}(0)={v:g}" for n, v in zip(self.state, self.initial, strict=True))
        out.append("Initial state: " + ", ".join(initial))
        constrained = [f"{n} {d}" for n, d in zip(self.state, self.domain, strict=True) if d != "real"]
        if constrained:
            out.append("Domain: " + ", ".join(constrained))
        out += [f"Note: {note}" for note in self.notes]
        return "\n".join(out)

    # ----------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        out = {
            "format": JSON_FORMAT_JUMPS if self.jumps else JSON_FORMAT,
            "name": self.name,
            "state": list(self.state),
            "noises": list(self.noises),
            "drift": [sp.sstr(e) for e in self.drift],
            "diffusion": [[sp.sstr(e) for e in row] for row in self.diffusion],
            "correlation": [[sp.sstr(e) for e in row] for row in self.correlation],
            "parameters": [
                {"name": p.name, "value": p.value, "constraint": p.constraint, "description": p.description}
                for p in self.parameters
            ],
            "initial": {n: v for n, v in zip(self.state, self.initial, strict=True)},
            "domain": {n: d for n, d in zip(self.state, self.domain, strict=True)},
            "source": self.source,
            "notes": list(self.notes),
        }
        if self.jumps:
            out["jumps"] = [jump.to_dict() for jump in self.jumps]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SdeModel:
        try:
            if data.get("format") not in (JSON_FORMAT, JSON_FORMAT_JUMPS):
                raise ModelError(f"not an architect model (format {data.get('format')!r}, expected {JSON_FORMAT})")
            state = tuple(data["state"])
            names = [*state, *(p["name"] for p in data["parameters"])]
            return cls(
                name=data["name"],
                state=state,
                noises=tuple(data["noises"]),
                drift=tuple(_expr(s, names) for s in data["drift"]),
                diffusion=tuple(tuple(_expr(s, names) for s in row) for row in data["diffusion"]),
                correlation=tuple(tuple(_expr(s, names) for s in row) for row in data["correlation"]),
                parameters=tuple(
                    Parameter(p["name"], float(p["value"]), p.get("constraint", "real"), p.get("description", ""))
                    for p in data["parameters"]
                ),
                initial=tuple(float(data["initial"][n]) for n in state),
                domain=tuple(data["domain"][n] for n in state),
                source=data.get("source", ""),
                notes=tuple(data.get("notes", ())),
                jumps=tuple(_jump(j, names) for j in data.get("jumps", ()) if data["format"] == JSON_FORMAT_JUMPS),
            )
        except (KeyError, TypeError, ValueError, sp.SympifyError) as exc:
            raise ModelError(f"malformed model JSON: {exc}") from None

    @classmethod
    def from_json(cls, text: str) -> SdeModel:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"model file is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelError("model JSON must be an object")
        return cls.from_dict(data)


def _expr(text: str, names: list[str]) -> sp.Expr:
    # Model files are untrusted (`architect verify` reads them from a crate folder) and sympify
    # evaluates Python: the expression is proved plain arithmetic before sympy sees it.
    from architect.safe_expr import safe_sympify

    local = {n: symbol(n) for n in names} | {"t": TIME}
    return safe_sympify(text, names, local)


def _jump(data: dict[str, Any], names: list[str]) -> JumpPart:
    law = data["law"]
    if law not in JUMP_LAWS:
        raise ValueError(f"unknown jump-size law {law!r}")
    size = tuple(_expr(data["size"][n], names) for n in JUMP_LAWS[law])
    return JumpPart(str(data["variable"]), _expr(data["intensity"], names), law, size)


class _DisplayPrinter(StrPrinter):
    """sympy's str form, but sums start with a positive term: `kappa*(theta - v)`, not `kappa*(-v + theta)`."""

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        terms = sorted(self._as_ordered_terms(expr, order=order), key=lambda term: term.could_extract_minus_sign())
        text = self._print(terms[0])
        for term in terms[1:]:
            if term.could_extract_minus_sign():
                text += " - " + self.parenthesize(-term, precedence(expr))
            else:
                text += " + " + self.parenthesize(term, precedence(expr))
        return text


def _factor(expr: sp.Expr) -> str:
    """An expression as the left factor of `*dt`, parenthesised only when it is a sum."""
    if expr.could_extract_minus_sign() and not isinstance(expr, sp.Add):
        return "-" + _factor(-expr)
    text = _fmt(expr)
    return f"({text})" if precedence(expr) < PRECEDENCE["Mul"] else text


def _fmt(expr: sp.Expr) -> str:
    """Readable text for an expression (display only; JSON uses sympy's canonical `sstr`)."""
    return _DisplayPrinter().doprint(expr)


def _replace(model: SdeModel, **changes: Any) -> SdeModel:
    from dataclasses import replace

    return replace(model, **changes)
