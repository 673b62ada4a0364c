"""The symbolic compiler: `SdeModel` -> Rust crate, through the jinja2 templates in templates/rust/.

This is the trusted reference backend: every line of model code is printed from the sympy
expressions by `rust_printer`, and the scheme is chosen from the model's structure
(`choose_scheme`), so the same model always gives the same crate.
"""

from __future__ import annotations

import hashlib
import itertools
import keyword
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import sympy as sp

from architect import paths, schemes
from architect.codegen.rust_printer import rust_expr, rust_float
from architect.errors import UsageError
from architect.expr.printers import CallStyle
from architect.model import TIME, SdeModel, interval_of, symbol
from architect.version import __version__

# Strict and reserved Rust keywords: never usable as identifiers; plus the gate's forbidden words that are
# not keywords (`union`, `macro_rules`), which it refuses as identifiers too.
RUST_KEYWORDS = frozenset(
    (
        "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod "
        "move mut pub ref return self Self static struct super trait true type unsafe use where while abstract "
        "become box do final macro override priv try typeof unsized virtual yield gen union macro_rules"
    ).split()
)


@dataclass(frozen=True)
class SchemeChoice:
    name: str
    steps: tuple[str, ...]  # SDK `Step` variant per state variable
    reason: str


#: What `choose_scheme` may pick: "auto" samples the exact transition law where the model's
#: structure has one and discretises time otherwise; "exact" insists on the exact law;
#: "euler" is plain Euler-Maruyama (full truncation where a square root needs it), the
#: scheme every library implements, which the benchmarks compare.
SCHEME_KINDS = ("auto", "exact", "euler")


def choose_scheme(model: SdeModel, kind: str = "auto") -> SchemeChoice:
    """Pick a step kind per state variable from the model's structure.

    - a one-dimensional, time-homogeneous model whose transition law is known -> that law, sampled
      exactly once per observation date (`exact_law`): Gaussian for linear drift and constant noise
      (OU, Vasicek, ABM), log-normal for GBM, scaled non-central chi-square for CIR;
    - non-negative variable under a square root -> full truncation (Lord et al. 2010), the
      least biased of the simple fixes for square-root diffusions;
    - variable in a closed interval [a, b] (Jacobi, Wright-Fisher: [0, 1]) -> full truncation at
      both ends: the coefficients and the observer see the state clamped to [a, b], the natural
      extension of Lord et al.'s fix (the SDK's `Stepper::within`);
    - positive variable whose every noise term is proportional to it -> log-Euler, which keeps
      it positive and is exact for geometric Brownian motion;
    - everything else -> Euler-Maruyama.

    A variable that jumps steps with Euler (full truncation under a square root): the SDK adds the jumps
    to the stepped state, which an exact law between observation dates or a log-Euler state would not allow.
    """
    if kind not in SCHEME_KINDS:
        raise UsageError(f"unknown scheme {kind!r}: expected one of {', '.join(SCHEME_KINDS)}")
    if kind == "exact" and model.jumps:
        raise UsageError("no exact transition law for a model with jumps: the SDK adds the jumps per time step")
    if kind in ("auto", "exact") and not model.jumps:
        law = exact_law(model)
        if law is not None:
            step, reason = law
            return SchemeChoice(name="exact", steps=(step,), reason=reason)
        if kind == "exact":
            raise UsageError(
                "no exact transition law for this model: exact sampling needs one state variable with "
                "time-independent coefficients of the form of OU/ABM, GBM or CIR"
            )
    steps, reasons = [], []
    for i, name in enumerate(model.state):
        x = symbol(name)
        coefficients = [model.drift[i], *model.diffusion[i]]
        if model.domain[i] == "nonnegative" and any(_has_sqrt_of(c, x) for c in coefficients):
            steps.append(schemes.FULL_TRUNCATION.variant)
            reasons.append(f"{name}: square-root diffusion, full truncation keeps it non-negative")
        elif interval_of(model.domain[i]) is not None:
            steps.append(schemes.FULL_TRUNCATION.variant)
            reasons.append(f"{name}: lives in {model.domain[i]}, full truncation at both ends keeps it there")
        elif kind == "auto" and _log_euler_fits(model, i):
            steps.append(schemes.LOG_EULER.variant)
            reasons.append(f"{name}: positive with proportional noise, log-Euler keeps it positive")
        else:
            steps.append(schemes.EULER.variant)
    kinds = dict.fromkeys(steps)
    name = "+".join(schemes.by_variant(k).scheme_name for k in kinds)
    reason = "; ".join(reasons) or "Euler-Maruyama: no positivity constraint to preserve"
    return SchemeChoice(name=name, steps=tuple(steps), reason=reason)


def exact_law(model: SdeModel) -> tuple[str, str] | None:
    """The SDK exact step (`ExactOu`, `ExactGbm`, `ExactCir`) whose law is this model's, with a reason.

    Detected from the structure, not the name: one state variable, coefficients free of t, drift
    a + b*x, and squared diffusion (quadratic variation over all noises, s rho s^T) constant
    (Gaussian), sigma^2 x^2 with a = 0 (log-normal) or sigma^2 x (non-central chi-square). The
    default parameter values must put the law in range (GBM started above 0, CIR with a >= 0 started
    at or above 0); the SDK checks the same at start-up with the values the binary runs with.
    """
    if model.dim != 1 or interval_of(model.domain[0]) is not None:  # no exact law keeps it in an interval
        return None
    x = symbol(model.state[0])
    drift = sp.expand(model.drift[0])
    row = model.diffusion[0]
    if any(TIME in e.free_symbols for e in (drift, *row)):
        return None
    if not drift.is_polynomial(x) or sp.Poly(drift, x).degree() > 1:
        return None
    a = drift.subs(x, 0)
    m = model.noise_dim
    qv = sp.expand(sp.simplify(sum(row[k] * model.correlation[k][j] * row[j] for k in range(m) for j in range(m))))
    values = model.substitutions()
    x0 = float(model.initial[0])

    def value(e: sp.Expr) -> float | None:
        try:
            return float(e.subs(values))
        except (TypeError, ValueError):
            return None

    if x not in qv.free_symbols:
        return schemes.EXACT_OU.variant, f"{x}: linear drift and constant noise, Gaussian transition sampled exactly"
    per_x2 = sp.simplify(qv / x**2)
    if x not in per_x2.free_symbols and a == 0:
        if model.domain[0] == "positive" and x0 > 0:
            return schemes.EXACT_GBM.variant, f"{x}: geometric Brownian motion, log-normal transition sampled exactly"
        return None
    per_x = sp.simplify(qv / x)
    if x not in per_x.free_symbols and qv.subs(x, 0) == 0 and model.domain[0] == "nonnegative":
        a_value, s2_value = value(a), value(per_x)
        if a_value is not None and s2_value is not None and a_value >= 0 and s2_value > 0 and x0 >= 0:
            return (
                schemes.EXACT_CIR.variant,
                f"{x}: square-root diffusion, non-central chi-square transition sampled exactly",
            )
    return None


def _log_euler_fits(model: SdeModel, i: int) -> bool:
    """Positive, every noise term proportional to the variable, and no jumps (they add to x, not log x)."""
    x = symbol(model.state[i])
    positive = model.domain[i] == "positive" and not model.jump_of(model.state[i])
    return positive and _noise_proportional_to(model.diffusion[i], x)


def _has_sqrt_of(expr: sp.Expr, x: sp.Symbol) -> bool:
    return any(p.exp == sp.Rational(1, 2) and x in p.base.free_symbols for p in expr.atoms(sp.Pow))


def _noise_proportional_to(row: tuple[sp.Expr, ...], x: sp.Symbol) -> bool:
    nonzero = [e for e in row if e != 0]
    return bool(nonzero) and all(x not in sp.simplify(e / x).free_symbols for e in nonzero)


# ---------------------------------------------------------------------- identifiers
def rust_identifiers(names: list[str], taken: set[str] = frozenset()) -> dict[str, str]:
    """Distinct snake_case Rust identifiers for model names (`S` -> `s`, `lambda` -> `lambda_`)."""
    out: dict[str, str] = {}
    used = set(taken)
    for name in names:
        base = re.sub(r"\W+", "_", name).strip("_").lower() or "v"
        if base[0].isdigit():
            base = "v_" + base
        ident = base
        while ident in used or ident in RUST_KEYWORDS or keyword.iskeyword(ident):
            ident += "_"
        used.add(ident)
        out[name] = ident
    return out


def crate_name(model: SdeModel, scheme: SchemeChoice | None = None) -> str:
    """A crate/binary name unique to the model's content and scheme, so crates never clash in the shared cache."""
    content = model.to_json() + ("" if scheme is None else f"\n{scheme.name}:{','.join(scheme.steps)}")
    digest = hashlib.sha256(content.encode()).hexdigest()[:10]
    stem = model.slug.replace("-", "_")[:40]
    # cargo refuses package names that start with a digit ("3/2 model").
    return f"{stem if stem[:1].isalpha() else 'model_' + stem}_{digest}"


# ---------------------------------------------------------------------- rendering
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.templates_dir()),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["doc"] = doc_text
    env.filters["rust_str"] = rust_str
    env.filters["toml_str"] = toml_str
    return env


def doc_text(text: object) -> str:
    """Text safe inside a `//` comment: one line, no control characters (a newline would end the comment)."""
    return "".join(c if c.isprintable() else " " for c in str(text))


def rust_str(text: object) -> str:
    """A Rust string literal holding ``text`` exactly."""
    out = []
    for c in str(text):
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable() and c not in "\u2028\u2029":
            out.append(c)
        else:
            out.append(f"\\u{{{ord(c):x}}}")
    return '"' + "".join(out) + '"'


def toml_str(text: object) -> str:
    """A TOML basic string holding ``text`` exactly."""
    out = []
    for c in str(text):
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        else:
            out.append(f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


@dataclass(frozen=True)
class _FunctionBody:
    time: str
    state: str
    bindings: list[str]
    values: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class ModelBodies:
    """The model-specific Rust expressions spliced into the fixed skeleton of `src/model.rs`.

    The symbolic printer (`symbolic_bodies`) or an LLM (`architect.llm`) writes them; the
    skeleton (struct, Default, STATE, bindings of the state variables) is always the template's.
    ``*_reads`` are the Rust identifiers (state locals, ``t``) each function reads.
    """

    drift: tuple[str, ...]
    diffusion: tuple[tuple[str, ...], ...]
    correlation: tuple[tuple[str, ...], ...] | None  # None: independent Brownian motions
    drift_reads: frozenset[str]
    diffusion_reads: frozenset[str]


def model_identifiers(model: SdeModel) -> tuple[dict[str, str], dict[str, str]]:
    """(parameter -> Rust field, state variable -> Rust local) as the generated code names them."""
    params = rust_identifiers([p.name for p in model.parameters], taken={"t", "state"})
    state = rust_identifiers(list(model.state), taken=set(params.values()) | {"t", "state"})
    return params, state


def symbolic_bodies(model: SdeModel, calls: CallStyle = "method") -> ModelBodies:
    """Every expression printed from the model's sympy expressions (the trusted reference); ``calls="path"``
    spells function calls ``f64::sqrt(x)``, the LLM's answer style."""
    params, state = model_identifiers(model)
    names = {symbol(n): state[n] for n in model.state}
    names |= {symbol(p): f"self.{ident}" for p, ident in params.items()}
    names[TIME] = "t"
    flat = [e for row in model.diffusion for e in row]
    printed = [rust_expr(e, names, calls) for e in flat]
    m = model.noise_dim
    identity = all(model.correlation[k][j] == (1 if k == j else 0) for k in range(m) for j in range(m))
    return ModelBodies(
        drift=tuple(rust_expr(e, names, calls) for e in model.drift),
        diffusion=tuple(tuple(printed[r * m : (r + 1) * m]) for r in range(model.dim)),
        correlation=None
        if identity
        else tuple(tuple(rust_expr(e, names, calls) for e in row) for row in model.correlation),
        drift_reads=frozenset(names[s] for e in model.drift for s in e.free_symbols if s not in _params(model)),
        diffusion_reads=frozenset(names[s] for e in flat for s in e.free_symbols if s not in _params(model)),
    )


def _params(model: SdeModel) -> set[sp.Symbol]:
    return {symbol(p.name) for p in model.parameters}


def _function_body(values: list[str], rows: list[list[str]], reads: frozenset[str], model: SdeModel) -> _FunctionBody:
    """Bindings for the state variables the expressions read, then the expressions."""
    _, state_idents = model_identifiers(model)
    bindings = [f"let {state_idents[n]} = state[{i}];" for i, n in enumerate(model.state) if state_idents[n] in reads]
    return _FunctionBody(
        time="t" if "t" in reads else "_t",
        state="state" if bindings else "_state",
        bindings=bindings,
        values=values,
        rows=rows,
    )


def render_model_rs(model: SdeModel, scheme: SchemeChoice, bodies: ModelBodies | None = None) -> str:
    """`src/model.rs`: the fixed skeleton around ``bodies`` (printed from the model when not given)."""
    bodies = bodies if bodies is not None else symbolic_bodies(model)
    params, _ = model_identifiers(model)
    drift = _function_body(list(bodies.drift), [], bodies.drift_reads, model)
    flat = [e for row in bodies.diffusion for e in row]
    diffusion = _function_body(flat, [list(row) for row in bodies.diffusion], bodies.diffusion_reads, model)
    correlation = None if bodies.correlation is None else [list(row) for row in bodies.correlation]
    return (
        _environment()
        .get_template("src/model.rs.j2")
        .render(
            model_name=model.name,
            slug=model.slug,
            equations=model.equations(),
            scheme_name=scheme.name,
            scheme_reason=scheme.reason,
            steps=[f"Step::{s}" for s in scheme.steps],
            dim=model.dim,
            noise_dim=model.noise_dim,
            state_names=[rust_str(n) for n in model.state],
            initial=[rust_float(v) for v in model.initial],
            domains=[_sdk_domain(d) for d in model.domain],
            parameters=[
                {
                    "name": p.name,
                    "ident": params[p.name],
                    "value": rust_float(p.value),
                    "description": p.description,
                    "constraint": f"Constraint::{_SDK_ENUM[p.constraint]}",
                }
                for p in model.parameters
            ],
            drift=drift,
            diffusion=diffusion,
            correlation=correlation,
            jumps=jump_specs(model),
            per_step=per_step_fields(model),
        )
    )


#: The SDK's `Constraint` and `Domain` variants, per `architect.model.CONSTRAINTS` and `DOMAINS` name.
_SDK_ENUM = {"real": "Real", "positive": "Positive", "nonnegative": "Nonnegative", "correlation": "Correlation"}


def _sdk_domain(domain: str) -> str:
    """The SDK's `Domain` of a model's domain: ``Domain::Nonnegative``, ``Domain::Interval { lower: 0.0, upper: 1.0 }``
    (an interval, `architect.model.interval_of`)."""
    bounds = interval_of(domain)
    if bounds is None:
        return f"Domain::{_SDK_ENUM[domain]}"
    return f"Domain::Interval {{ lower: {rust_float(bounds[0])}, upper: {rust_float(bounds[1])} }}"


def step_scaling(model: SdeModel) -> dict[str, str] | None:
    """Parameters that take the time step into the model for `Sde::per_step`: name -> "h" or "sqrt_h".

    A plain Euler step is ``x + b h + s √h z`` (``s`` the diffusion). When every drift component is linear
    (homogeneous of degree 1) in parameters that nothing else reads, and every diffusion entry likewise in
    parameters of its own, then multiplying the first by ``h`` and the second by ``√h`` once per run turns
    ``b h`` into ``b`` and ``s √h`` into ``s``: two multiplications fewer per path and step (OU: kappa -> kappa h,
    sigma -> sigma √h). None when the model is not of that form; the engine then multiplies per step as before.
    Floating-point results differ from the unscaled step only by rounding (``(kappa h)(theta - x)`` against
    ``(kappa (theta - x)) h``).
    """
    params = _params(model)
    drift = list(model.drift)
    diffusion = [e for row in model.diffusion for e in row]
    elsewhere = [e for row in model.correlation for e in row]
    elsewhere += [e for jump in model.jumps for e in (jump.intensity, *jump.size)]
    reads = [{s for e in exprs for s in sp.sympify(e).free_symbols} & params for exprs in (drift, diffusion, elsewhere)]
    in_drift, in_diffusion, in_other = reads
    drift_scaled = _scalable_by(drift, in_drift - in_diffusion - in_other)
    diffusion_scaled = _scalable_by(diffusion, in_diffusion - in_drift - in_other)
    if drift_scaled is None or diffusion_scaled is None:
        return None
    factors = {str(p): "h" for p in drift_scaled} | {str(p): "sqrt_h" for p in diffusion_scaled}
    return {p.name: factors[p.name] for p in model.parameters if p.name in factors}


def _scalable_by(exprs: list[sp.Expr], candidates: set[sp.Symbol]) -> tuple[sp.Symbol, ...] | None:
    """The smallest set of ``candidates`` in which every expression is linear (OU's drift κ(θ - x): {κ}, not
    {κ, θ}), or None. Subsets are tried by size, at most `_MAX_SUBSETS` of them (then all candidates
    together), so that a model with many parameters does not slow `generate` down."""
    ordered = sorted(candidates, key=str)
    subsets = itertools.chain.from_iterable(itertools.combinations(ordered, k) for k in range(len(ordered) + 1))
    for subset in itertools.chain(itertools.islice(subsets, _MAX_SUBSETS), [tuple(ordered)]):
        if _linear_in(exprs, set(subset)):
            return subset
    return None


#: Subsets of parameters `_scalable_by` tries (all of them up to 6 parameters).
_MAX_SUBSETS = 64


def _linear_in(exprs: list[sp.Expr], scaled: set[sp.Symbol]) -> bool:
    """Whether every expression is multiplied by λ when all of ``scaled`` are (zero counts; empty ``scaled``
    only for zeros)."""
    lam = sp.Dummy("lam", positive=True)
    scale = {p: lam * p for p in scaled}
    return all(sp.expand(e.subs(scale, simultaneous=True) - lam * e) == 0 for e in exprs)


def per_step_fields(model: SdeModel) -> list[tuple[str, str]] | None:
    """(Rust field, "h" or "sqrt_h") for the template's `per_step`, or None (see `step_scaling`)."""
    scaling = step_scaling(model)
    if scaling is None:
        return None
    params, _ = model_identifiers(model)
    return [(params[name], factor) for name, factor in scaling.items()]


#: SDK `JumpSize` variant and its field names, per `architect.model.JUMP_LAWS` law.
_JUMP_VARIANTS = {
    "normal": ("Normal", ("mean", "sd")),
    "double-exponential": ("DoubleExponential", ("p", "eta1", "eta2")),
}


def jump_specs(model: SdeModel) -> list[dict[str, object]]:
    """The model's jump parts as the template's `Jump { .. }` literals, printed from the sympy expressions so
    that they read the parameter fields (`self.lam`) the binary runs with."""
    params, _ = model_identifiers(model)
    names = {symbol(p): f"self.{ident}" for p, ident in params.items()}
    out = []
    for jump in model.jumps:
        variant, fields = _JUMP_VARIANTS[jump.law]
        out.append(
            {
                "variable": model.state.index(jump.variable),
                "intensity": rust_expr(jump.intensity, names),
                "law": variant,
                "size": [f"{f}: {rust_expr(e, names)}" for f, e in zip(fields, jump.size, strict=True)],
            }
        )
    return out


@dataclass(frozen=True)
class GeneratedCrate:
    crate_dir: Path
    crate_name: str
    scheme: SchemeChoice


def fixed_files(model: SdeModel, scheme: SchemeChoice | None = None) -> dict[str, str]:
    """Architect's own files of a model's crate: the manifest and the skeleton `src/main.rs`.

    They are the same for every backend and never come from the model; `architect.gate` checks
    a crate's copies against them and `architect.build` compiles these, not the copies.
    """
    env = _environment()
    context = {
        "architect_version": __version__,
        "crate_name": crate_name(model, scheme),
        "sdk_path": paths.sdk_dir().as_posix(),
        "model_name": model.name,
    }
    return {
        "Cargo.toml": env.get_template("Cargo.toml.j2").render(context),
        "src/main.rs": _rustfmt(env.get_template("src/main.rs.j2").render(context)),
    }


def write_crate(
    model: SdeModel, crate_dir: Path, model_rs: str | None = None, *, scheme: str = "auto"
) -> GeneratedCrate:
    """Write the fixed skeleton plus `src/model.rs` (printed from the model unless given) into crate_dir.

    ``scheme`` is one of `SCHEME_KINDS` (see `choose_scheme`).
    """
    choice = choose_scheme(model, scheme)
    name = crate_name(model, choice)
    files = {
        **fixed_files(model, choice),
        # The LLM's model.rs is formatted too: the same model reads the same whichever backend wrote it.
        "src/model.rs": _rustfmt(model_rs if model_rs is not None else render_model_rs(model, choice)),
    }
    lock = paths.sdk_lock()
    if lock.exists() and not _lock_is_current(crate_dir / "Cargo.lock", lock.read_text()):
        # Pin the SDK's dependency versions to the ones the SDK was tested with.
        files["Cargo.lock"] = lock.read_text()
    for relative, text in files.items():
        _write_if_changed(crate_dir / relative, text, crate_dir)
    return GeneratedCrate(crate_dir=crate_dir, crate_name=name, scheme=choice)


def _lock_is_current(crate_lock: Path, sdk_lock: str) -> bool:
    """Whether the crate's Cargo.lock pins every registry package at the SDK's version. Cargo prunes the copied
    lock to the packages the crate uses (and their dependency lists), so it never stays byte-identical."""
    try:
        text = crate_lock.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    ours = _registry_pins(text)
    return bool(ours) and ours <= _registry_pins(sdk_lock)


def _registry_pins(lock: str) -> set[tuple[str, str, str]]:
    """(name, version, checksum) of every registry package in a Cargo.lock."""
    pins = set()
    for block in lock.split("[[package]]")[1:]:
        fields = dict(re.findall(r'^(name|version|checksum) = "([^"]*)"', block, flags=re.M))
        if "checksum" in fields:
            pins.add((fields.get("name", ""), fields.get("version", ""), fields["checksum"]))
    return pins


def _write_if_changed(path: Path, text: str, crate_dir: Path) -> None:
    """Leave a file that already holds ``text`` untouched: cargo rebuilds on a newer mtime, so regenerating
    an unchanged crate then costs no compilation. Links are not followed, for reading or writing: a link in
    the crate folder is replaced if it is the file itself, and refused if it is a folder on the way."""
    try:
        if not path.is_symlink() and path.read_text() == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    paths.write_atomic(path, text, within=crate_dir)


def _rustfmt(source: str) -> str:
    """Format generated Rust like hand-written Rust; purely cosmetic, so unformatted without rustfmt."""
    rustfmt = shutil.which("rustfmt")
    if not rustfmt:
        return source
    try:
        done = subprocess.run(
            [rustfmt, "--edition", "2024", "--emit", "stdout"],
            input=source,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return source
    return done.stdout if done.returncode == 0 and done.stdout else source
