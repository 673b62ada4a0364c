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
import keyword
import math
import re
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.printing.precedence import PRECEDENCE, precedence

from architect.errors import ModelError
from architect.expr.printers import display, latex
from architect.expr.reader import MAX_DEGREE, MAX_TERMS, Size, read_expression

TIME = sp.Symbol("t", real=True)

#: Per-state-variable domains the schemes and the verifier understand, by name; besides these, a closed bounded
#: interval written ``"[a, b]"`` (`interval_domain`): Jacobi and Wright-Fisher live in ``"[0, 1]"``.
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


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_INTERVAL = re.compile(rf"\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\]")


def interval_domain(lower: float, upper: float) -> str:
    """The domain ``[lower, upper]``, both ends included, with the numbers as Rust's `Display` writes them
    (``[0, 1]``, ``[-0.5, 2.25]``): the binary's ``--describe`` says the same."""
    return f"[{_shortest(lower)}, {_shortest(upper)}]"


def _shortest(value: float) -> str:
    import numpy as np

    return str(np.format_float_positional(float(value), trim="-"))


def interval_of(domain: str) -> tuple[float, float] | None:
    """(lower, upper) of an interval domain ``"[a, b]"`` with finite a < b; None for anything else."""
    match = _INTERVAL.fullmatch(domain.strip())
    if match is None:
        return None
    lower, upper = float(match.group(1)), float(match.group(2))
    return (lower, upper) if math.isfinite(lower) and math.isfinite(upper) and lower < upper else None


def is_domain(domain: str) -> bool:
    """A named domain (`DOMAINS`) or a closed bounded interval ``"[a, b]"``."""
    return domain in DOMAINS or interval_of(domain) is not None


def domain_admits(domain: str, value: float) -> bool:
    """Whether the finite ``value`` lies in ``domain``."""
    if not math.isfinite(value):
        return False
    if domain == "positive":
        return value > 0
    if domain == "nonnegative":
        return value >= 0
    if (bounds := interval_of(domain)) is not None:
        return bounds[0] <= value <= bounds[1]
    return True


def domain_words(domain: str) -> str:
    """What ``domain`` asks of a value, in words: ``positive``, ``non-negative``, ``in [0, 1]``."""
    return {"positive": "positive", "nonnegative": "non-negative", "real": "real"}.get(domain, f"in {domain}")


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


def _interval_or_none(domain: object) -> tuple[float, float] | None:
    return interval_of(domain) if isinstance(domain, str) else None


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
        # One spelling per interval ("[0.0, 1.0]" is "[0, 1]"), so domains compare as strings.
        object.__setattr__(
            self,
            "domain",
            tuple(d if (b := _interval_or_none(d)) is None else interval_domain(*b) for d in self.domain),
        )
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
            if not isinstance(dom, str) or not is_domain(dom):
                return (
                    f"unknown domain {dom!r}; expected one of {', '.join(DOMAINS)} "
                    "or a closed interval such as [0, 1] (lower end below the upper)"
                )
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
                # The symbols first: simplify is not run on an entry that has no business in the matrix.
                if not entry.free_symbols <= params:
                    return f"correlation entry {entry} must be a number or a parameter"
                if entry != rho[j][k] and sp.simplify(entry - rho[j][k]) != 0:
                    return "the correlation matrix must be symmetric"
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
        constrained = [
            f"{n} in {d}" if interval_of(d) else f"{n} {d}"
            for n, d in zip(self.state, self.domain, strict=True)
            if d != "real"
        ]
        if constrained:
            out.append("Domain: " + ", ".join(constrained))
        out += [f"Note: {note}" for note in self.notes]
        return "\n".join(out)

    def _repr_latex_(self) -> str:
        """The equations in LaTeX, for notebooks: one line per state variable, then correlations and jump laws."""
        d = r"\mathrm{d}"
        lines = []
        for name, drift, row in zip(self.state, self.drift, self.diffusion, strict=True):
            terms = [(drift, f"{d}t")] + [(s, f"{d}{_tex(w)}") for s, w in zip(row, self.noises, strict=True)]
            terms += [(sp.Integer(1), f"{d}J_{{{_tex(name)}}}")] if self.jump_of(name) else []
            lines.append(f"{d}{_tex(name)} &= {_tex_sum(terms)}")
        for k in range(self.noise_dim):
            for j in range(k + 1, self.noise_dim):
                if self.correlation[k][j] != 0:
                    dw = rf"{d}{_tex(self.noises[k])}\,{d}{_tex(self.noises[j])}"
                    lines.append(rf"{dw} &= {latex(self.correlation[k][j])}\,{d}t")
        for jump in self.jumps:
            size = [latex(e) for e in jump.size]
            law = r"\mathcal{N}" if jump.law == "normal" else r"\mathrm{DoubleExp}"
            size[1:2] = [f"{size[1]}^2"] if jump.law == "normal" else size[1:2]
            lines.append(
                rf"J_{{{_tex(jump.variable)}}} &\sim \mathrm{{CompoundPoisson}}\left({latex(jump.intensity)}, "
                rf"{law}\left({', '.join(size)}\right)\right)"
            )
        return "$$\\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}$$"

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
        """Read a model from its JSON form (`to_dict`). Model files are untrusted (`architect verify` reads them
        from a crate folder): every field is type-checked and bounded (`read_model_dict`), and a malformed one
        is a `ModelError` naming the field, never another exception."""
        return read_model_dict(cls, data)

    @classmethod
    def from_json(cls, text: str) -> SdeModel:
        try:
            data = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, and integers of more than 4300 digits
            raise ModelError(f"model file is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ModelError("model JSON must be an object")
        return cls.from_dict(data)


# --------------------------------------------------------------------------------- reading JSON
#: Limits on a model file's fields, far above any real model (the catalog and the LLM corpus have at most
#: 3 state variables, 3 Brownian motions, 10 parameters and names of 37 characters) and low enough that
#: reading, analysing and compiling a model stays a matter of seconds. Expressions: `architect.expr.reader`.
MAX_DIMENSION = 32  # state variables; Brownian motions too
MAX_PARAMETERS = 256
MAX_IDENTIFIER_CHARS = 64  # state, Brownian motion and parameter names
MAX_TEXT_CHARS = 10_000  # the model's name, source, each description and note
MAX_NOTES = 100
#: Terms of all the model's expressions and of its covariance sigma*rho*sigma^T together, expanded
#: (`safe_expr.MAX_TERMS` bounds each one): what sympy's simplify, in the analysis, meets in all.
MAX_MODEL_TERMS = 512
#: Names a model file may not give a variable or parameter: time, and the names sympy's reader generates calls to
#: (`parser.names.SYMPY_RESERVED`). A variable named like a function or constant (``E``) is that variable.
RESERVED_NAMES = frozenset({"t", "Integer", "Float", "Rational", "Symbol", "Function"})


def read_model_dict(cls: type[SdeModel], data: object) -> SdeModel:
    """`SdeModel.from_dict`: check every field's type and size, then build the model (which checks the rest)."""
    if not isinstance(data, dict):
        raise ModelError(f"a model must be a JSON object, got {_kind(data)}")
    _refuse_surrogates(data, "")
    if data.get("format") not in (JSON_FORMAT, JSON_FORMAT_JUMPS):
        raise ModelError(f"not an architect model (format {data.get('format')!r}, expected {JSON_FORMAT})")
    state = _names(data, "state", minimum=1)
    noises = _names(data, "noises", minimum=0)
    raw_parameters = _list(data, "parameters", MAX_PARAMETERS)
    parameters = tuple(_parameter(p, f"parameters[{k}]") for k, p in enumerate(raw_parameters))
    names = [*state, *(p.name for p in parameters)]
    reader = _ExpressionReader(names, {p.name: float(p.value) for p in parameters})
    drift = reader.row(_list(data, "drift", MAX_DIMENSION), "drift")
    diffusion = reader.matrix(_list(data, "diffusion", MAX_DIMENSION), "diffusion")
    correlation = reader.matrix(_list(data, "correlation", MAX_DIMENSION), "correlation")
    initial = _per_state(data, "initial", state, _number)
    domain = _per_state(data, "domain", state, _string)
    notes = _list(data, "notes", MAX_NOTES, required=False)
    jumps = _list(data, "jumps", MAX_DIMENSION, required=False) if data["format"] == JSON_FORMAT_JUMPS else []
    jump_parts = tuple(reader.jump(j, f"jumps[{k}]") for k, j in enumerate(jumps))
    reader.check_covariance(state, diffusion, correlation)
    try:
        return cls(
            name=_text(data.get("name"), "name"),
            state=state,
            noises=noises,
            drift=drift,
            diffusion=diffusion,
            correlation=correlation,
            parameters=parameters,
            initial=tuple(initial),
            domain=tuple(domain),
            source=_text(data.get("source", ""), "source"),
            notes=tuple(_text(n, f"notes[{k}]") for k, n in enumerate(notes)),
            jumps=jump_parts,
        )
    except (TypeError, ValueError, ArithmeticError, sp.SympifyError) as exc:  # a combination sympy cannot take
        raise ModelError(f"malformed model JSON: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__
    )


def _refuse_surrogates(value: object, where: str) -> None:
    """Text with a lone surrogate (JSON's "\\ud800") cannot be written as UTF-8: refuse it anywhere."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            shown = ascii(where)[1:-1] or "key"
            raise ModelError(f"model field {shown}: text that is not valid Unicode (a lone surrogate)") from None
    elif isinstance(value, dict):
        for key, inner in value.items():
            _refuse_surrogates(key, where)
            _refuse_surrogates(inner, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for k, inner in enumerate(value):
            _refuse_surrogates(inner, f"{where}[{k}]")


def _list(data: dict[str, Any], key: str, limit: int, *, required: bool = True) -> list[Any]:
    if key not in data and not required:
        return []
    if key not in data:
        raise ModelError(f"model field {key} is missing")
    value = data[key]
    if not isinstance(value, list):
        raise ModelError(f"model field {key} must be a list, got {_kind(value)}")
    if len(value) > limit:
        raise ModelError(f"model field {key} has {len(value)} entries; the limit is {limit}")
    return value


def _identifier(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ModelError(f"model field {where} must be a name (a string), got {_kind(value)}")
    if not value.isidentifier() or keyword.iskeyword(value) or len(value) > MAX_IDENTIFIER_CHARS:
        raise ModelError(
            f"model field {where}: {value[:80]!r} is not a name (letters, digits and _, not starting with a digit, "
            f"at most {MAX_IDENTIFIER_CHARS} characters)"
        )
    if value.startswith("_") or value in RESERVED_NAMES:
        raise ModelError(f"model field {where}: {value!r} is a reserved name")
    return value


def _names(data: dict[str, Any], key: str, *, minimum: int) -> tuple[str, ...]:
    names = tuple(_identifier(n, f"{key}[{k}]") for k, n in enumerate(_list(data, key, MAX_DIMENSION)))
    if len(names) < minimum:
        raise ModelError(f"model field {key} must name at least {minimum}")
    return names


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ModelError(f"model field {where} must be a number, got {_kind(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = float("inf")
    if not math.isfinite(number):
        raise ModelError(f"model field {where} must be a finite number, got {str(value)[:40]}")
    return number


def _string(value: object, where: str) -> str:
    """A short string (a domain, a constraint, a law's name)."""
    return _text(value, where, MAX_IDENTIFIER_CHARS)


def _text(value: object, where: str, limit: int = MAX_TEXT_CHARS) -> str:
    if not isinstance(value, str):
        raise ModelError(f"model field {where} must be a string, got {_kind(value)}")
    if len(value) > limit:
        raise ModelError(f"model field {where} is {len(value)} characters long; the limit is {limit}")
    return value


def _per_state(data: dict[str, Any], key: str, state: tuple[str, ...], read: Any) -> list[Any]:
    table = data.get(key)
    if not isinstance(table, dict):
        raise ModelError(f"model field {key} must be an object with one entry per state variable, got {_kind(table)}")
    missing = [n for n in state if n not in table]
    if missing:
        raise ModelError(f"model field {key} has no entry for {', '.join(missing)}")
    return [read(table[n], f"{key}.{n}") for n in state]


def _parameter(entry: object, where: str) -> Parameter:
    if not isinstance(entry, dict):
        raise ModelError(f"model field {where} must be an object (name, value, constraint), got {_kind(entry)}")
    if "name" not in entry or "value" not in entry:
        raise ModelError(f"model field {where} needs a name and a value")
    name = _identifier(entry["name"], f"{where}.name")
    return Parameter(
        name,
        _number(entry["value"], f"{where}.value"),
        _string(entry.get("constraint", "real"), f"{where}.constraint"),
        _text(entry.get("description", ""), f"{where}.description"),
    )


class _ExpressionReader:
    """Reads the expressions of one model (`architect.expr.reader`), naming the field of any that is refused."""

    def __init__(self, names: list[str], values: dict[str, float]) -> None:
        self.names, self.values = names, values
        self.local = {n: symbol(n) for n in names} | {"t": TIME}
        self.sizes: dict[int, Size] = {}  # id(expression read) -> its size
        self.terms = 0  # of every expression read, and of the covariance

    def expr(self, text: object, where: str) -> sp.Expr:
        # sympify evaluates Python: the expression is proved plain arithmetic of bounded size before sympy sees it.
        try:
            expr, size = read_expression(text, self.names, self.local, self.values)
        except ModelError as exc:
            raise ModelError(f"model field {where}: {exc}") from None
        self.sizes[id(expr)] = size
        if expr != 0:
            self.add_terms(size.terms, where)
        return expr

    def add_terms(self, terms: int, where: str) -> None:
        self.terms += terms
        if self.terms > MAX_MODEL_TERMS:
            raise ModelError(
                f"model field {where}: the model's expressions, with its covariance, expand into more than "
                f"{MAX_MODEL_TERMS} terms in all; the limit keeps its analysis short"
            )

    def check_covariance(
        self, names: tuple[str, ...], sigma: tuple[tuple[sp.Expr, ...], ...], rho: tuple[tuple[sp.Expr, ...], ...]
    ) -> None:
        """Bound the instantaneous covariance sigma rho sigma^T the analysis builds and simplifies: a_ij is a sum
        of the products sigma_ik rho_kl sigma_jl, bounded the way `safe_expr.measure` bounds a product of sums."""
        size = self.sizes.get
        for i in range(min(len(sigma), len(names))):
            for j in range(i, min(len(sigma), len(names))):
                terms, degree = 0, 0
                for k, s_ik in enumerate(sigma[i]):
                    for l_, s_jl in enumerate(sigma[j]):
                        if k >= len(rho) or l_ >= len(rho[k]) or s_ik == 0 or s_jl == 0 or rho[k][l_] == 0:
                            continue
                        parts = [size(id(e)) or Size(1, 1) for e in (s_ik, rho[k][l_], s_jl)]
                        terms += math.prod(p.terms for p in parts)
                        degree = max(degree, sum(p.degree for p in parts))
                where = f"diffusion (the covariance of {names[i]} and {names[j]})"
                if terms > MAX_TERMS or degree > MAX_DEGREE:
                    raise ModelError(
                        f"model field {where}: sigma*rho*sigma^T has up to {terms} terms of degree up to {degree}; "
                        f"the limits are {MAX_TERMS} terms and degree {MAX_DEGREE}"
                    )
                self.add_terms(terms, where)

    def row(self, entries: list[Any], where: str) -> tuple[sp.Expr, ...]:
        return tuple(self.expr(e, f"{where}[{k}]") for k, e in enumerate(entries))

    def matrix(self, rows: list[Any], where: str) -> tuple[tuple[sp.Expr, ...], ...]:
        out = []
        for k, row in enumerate(rows):
            if not isinstance(row, list) or len(row) > MAX_DIMENSION:
                raise ModelError(f"model field {where}[{k}] must be a list of at most {MAX_DIMENSION} expressions")
            out.append(self.row(row, f"{where}[{k}]"))
        return tuple(out)

    def jump(self, entry: object, where: str) -> JumpPart:
        if not isinstance(entry, dict):
            raise ModelError(f"model field {where} must be an object, got {_kind(entry)}")
        for key in ("variable", "law", "intensity", "size"):
            if key not in entry:
                raise ModelError(f"model field {where}.{key} is missing")
        law = _string(entry["law"], f"{where}.law")
        if law not in JUMP_LAWS:
            raise ModelError(f"model field {where}.law: unknown jump-size law {law!r}")
        size = entry["size"]
        if not isinstance(size, dict) or any(n not in size for n in JUMP_LAWS[law]):
            raise ModelError(f"model field {where}.size must be an object with {', '.join(JUMP_LAWS[law])}")
        return JumpPart(
            _string(entry["variable"], f"{where}.variable"),
            self.expr(entry["intensity"], f"{where}.intensity"),
            law,
            tuple(self.expr(size[n], f"{where}.size.{n}") for n in JUMP_LAWS[law]),
        )


def _factor(expr: sp.Expr) -> str:
    """An expression as the left factor of `*dt`, parenthesised only when it is a sum."""
    if expr.could_extract_minus_sign() and not isinstance(expr, sp.Add):
        return "-" + _factor(-expr)
    text = _fmt(expr)
    return f"({text})" if precedence(expr) < PRECEDENCE["Mul"] else text


def _tex(name: str) -> str:
    return latex(symbol(name))


def _tex_sum(terms: list[tuple[sp.Expr, str]]) -> str:
    """``b\\,dt + s\\,dW …`` with zero terms left out and minus signs pulled out of the coefficients."""
    out = ""
    for coefficient, differential in terms:
        if coefficient == 0:
            continue
        negative = coefficient.could_extract_minus_sign()
        c = -coefficient if negative else coefficient
        tex = rf"\left({latex(c)}\right)" if isinstance(c, sp.Add) else latex(c)
        body = differential if c == 1 else rf"{tex}\,{differential}"
        out = ("-" if negative else "") + body if not out else out + (" - " if negative else " + ") + body
    return out or "0"


def _fmt(expr: sp.Expr) -> str:
    """Readable text for an expression (display only; JSON uses sympy's canonical `sstr`)."""
    return display(expr)


def _replace(model: SdeModel, **changes: Any) -> SdeModel:
    from dataclasses import replace

    return replace(model, **changes)
