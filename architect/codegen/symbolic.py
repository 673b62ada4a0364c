"""The symbolic compiler: `SdeModel` -> Rust crate, through the jinja2 templates in templates/rust/.

This is the trusted reference backend: every line of model code is printed from the sympy
expressions by `rust_printer`, and the scheme is chosen from the model's structure
(`choose_scheme`), so the same model always gives the same crate.
"""

from __future__ import annotations

import hashlib
import keyword
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2
import sympy as sp

from architect import paths
from architect.codegen.rust_printer import rust_expr, rust_float
from architect.model import TIME, SdeModel, symbol
from architect.version import __version__

# Strict and reserved Rust keywords: never usable as identifiers.
RUST_KEYWORDS = frozenset(
    (
        "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod "
        "move mut pub ref return self Self static struct super trait true type unsafe use where while abstract "
        "become box do final macro override priv try typeof unsized virtual yield gen"
    ).split()
)


@dataclass(frozen=True)
class SchemeChoice:
    name: str
    steps: tuple[str, ...]  # SDK `Step` variant per state variable
    reason: str


def choose_scheme(model: SdeModel) -> SchemeChoice:
    """Pick a step kind per state variable from the model's structure.

    - non-negative variable under a square root -> full truncation (Lord et al. 2010), the
      least biased of the simple fixes for square-root diffusions;
    - positive variable whose every noise term is proportional to it -> log-Euler, which keeps
      it positive and is exact for geometric Brownian motion;
    - everything else -> Euler-Maruyama.
    """
    steps, reasons = [], []
    for i, name in enumerate(model.state):
        x = symbol(name)
        coefficients = [model.drift[i], *model.diffusion[i]]
        if model.domain[i] == "nonnegative" and any(_has_sqrt_of(c, x) for c in coefficients):
            steps.append("FullTruncation")
            reasons.append(f"{name}: square-root diffusion, full truncation keeps it non-negative")
        elif model.domain[i] == "positive" and _noise_proportional_to(model.diffusion[i], x):
            steps.append("LogEuler")
            reasons.append(f"{name}: positive with proportional noise, log-Euler keeps it positive")
        else:
            steps.append("Euler")
    kinds = dict.fromkeys(steps)
    name = "+".join(_SCHEME_LABEL[k] for k in kinds)
    reason = "; ".join(reasons) or "Euler-Maruyama: no positivity constraint to preserve"
    return SchemeChoice(name=name, steps=tuple(steps), reason=reason)


_SCHEME_LABEL = {"Euler": "euler-maruyama", "FullTruncation": "full-truncation", "LogEuler": "log-euler"}


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


def crate_name(model: SdeModel) -> str:
    """A crate/binary name unique to the model's content, so crates never clash in the shared cache."""
    digest = hashlib.sha256(model.to_json().encode()).hexdigest()[:10]
    return f"{model.slug.replace('-', '_')[:40]}_{digest}"


# ---------------------------------------------------------------------- rendering
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.templates_dir()),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


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


def symbolic_bodies(model: SdeModel) -> ModelBodies:
    """Every expression printed from the model's sympy expressions (the trusted reference)."""
    params, state = model_identifiers(model)
    names = {symbol(n): state[n] for n in model.state}
    names |= {symbol(p): f"self.{ident}" for p, ident in params.items()}
    names[TIME] = "t"
    flat = [e for row in model.diffusion for e in row]
    printed = [rust_expr(e, names) for e in flat]
    m = model.noise_dim
    identity = all(model.correlation[k][j] == (1 if k == j else 0) for k in range(m) for j in range(m))
    return ModelBodies(
        drift=tuple(rust_expr(e, names) for e in model.drift),
        diffusion=tuple(tuple(printed[r * m : (r + 1) * m]) for r in range(model.dim)),
        correlation=None if identity else tuple(tuple(rust_expr(e, names) for e in row) for row in model.correlation),
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
            state_names=[f'"{n}"' for n in model.state],
            initial=[rust_float(v) for v in model.initial],
            parameters=[
                {"name": p.name, "ident": params[p.name], "value": rust_float(p.value), "description": p.description}
                for p in model.parameters
            ],
            drift=drift,
            diffusion=diffusion,
            correlation=correlation,
        )
    )


@dataclass(frozen=True)
class GeneratedCrate:
    crate_dir: Path
    crate_name: str
    scheme: SchemeChoice


def write_crate(model: SdeModel, crate_dir: Path, model_rs: str | None = None) -> GeneratedCrate:
    """Write the fixed skeleton plus `src/model.rs` (printed from the model unless given) into crate_dir."""
    scheme = choose_scheme(model)
    name = crate_name(model)
    env = _environment()
    context = {
        "architect_version": __version__,
        "crate_name": name,
        "sdk_path": paths.sdk_dir().as_posix(),
        "model_name": model.name,
    }
    files = {
        "Cargo.toml": env.get_template("Cargo.toml.j2").render(context),
        "src/main.rs": env.get_template("src/main.rs.j2").render(context),
        "src/model.rs": model_rs if model_rs is not None else render_model_rs(model, scheme),
    }
    for relative, text in files.items():
        paths.write_atomic(crate_dir / relative, text)
    lock = paths.repo_root() / "Cargo.lock"
    if lock.exists():
        # Pin the SDK's dependency versions to the ones the SDK was tested with.
        paths.write_atomic(crate_dir / "Cargo.lock", lock.read_text())
    _rustfmt(crate_dir / "src")
    return GeneratedCrate(crate_dir=crate_dir, crate_name=name, scheme=scheme)


def _rustfmt(src: Path) -> None:
    """Format the generated sources like hand-written Rust; purely cosmetic, so skipped without rustfmt."""
    rustfmt = shutil.which("rustfmt")
    if rustfmt:
        files = sorted(str(p) for p in src.glob("*.rs"))
        subprocess.run([rustfmt, "--edition", "2024", *files], capture_output=True, timeout=60, check=False)
