"""The runs a verification needs, made through the gym, and the trusted reference simulator.

Tested binary: N, 2N and 4N steps with seeds s, s+1, s+2, each writing its terminal states (Richardson
needs N and 2N, the convergence check all three, exact laws and prices the terminal states). A model with
variables outside the exact theory also needs an empirical reference: the *symbolic compiler's* binary for
the model, run at 2N and 4N steps with seeds s+3, s+4. For a crate that the symbolic compiler has just
generated that binary is the tested one; for any other crate (hand-edited, another backend) it is built from
the model into the cache, so a wrong crate is never its own reference.

The *extended design* observes the tested binary a second way, so that a simulator that misbehaves only
between the checkpoints k·T/K or after the horizon T does not pass: horizon 1.5·T, K' checkpoints none of
which (up to T) falls on the first design's grid (5 for the default K = 4: 0.3T, 0.6T, …, 1.5T), N', 2N', 4N'
steps with N' ≈ 1.5·N a multiple of K' (the same step size as the first design), seeds s+5, s+6, s+7, and a
quarter of the paths (`EXTENDED_PATHS_DIVISOR`: the extra runs cost 37 % of the first design's steps rather
than 150 %). Its reference, where one is needed: 2N' and 4N' steps, seeds s+8, s+9. No terminal states: its
moments are tested, not its laws or prices.

The *same-step design*, for a crate not proven to be the model (`--statistical-only`): the extrapolated
checks see only the limit h → 0, and an error linear in h, however large, leaves that limit alone. So the
tested binary is also compared, without extrapolation, with the compiler's binary of the *same scheme* at
the step counts users run: N and the binary's own default (`SDK_DEFAULT_STEPS`, when a multiple of K). The
tested side reuses the first design's run where it has that step count (else seed s+12); the trusted side
takes seeds s+10, s+11. A proven crate is the compiler's scheme, token for token, so these runs would
compare the scheme with itself and are not made; its error at N is stated instead (`discretisation`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from math import comb
from pathlib import Path
from typing import Any

import numpy as np

from architect import build, codegen, paths, sandbox, schemes
from architect.errors import ArchitectError, RunError
from architect.gym.runner import run_simulation
from architect.model import SdeModel
from architect.options import (  # the designs' runs, defined with the options they derive from
    EXTENDED_HORIZON,
    EXTENDED_PATHS_DIVISOR,
    SAME_STEP_SEEDS,
    SAME_STEP_TESTED_SEED,
    SDK_DEFAULT_STEPS,
    SEEDS_PER_VERIFICATION,
    RunSpec,
    extended_base,
    extended_checkpoints,
    extended_reference_specs,
    extended_specs,
    reference_specs,
    same_step_specs,
    tested_specs,
)
from architect.verifier.plan import make_plan

#: Most monomials we ask the binary to accumulate: beyond this the degree drops from 8 to 4 (no third and
#: fourth central moments), because the cost per path grows like the number of monomials.
MAX_MONOMIALS = 5000
#: A .npy header is at most a few hundred bytes; anything much larger than the data is not our file.
NPY_SLACK = 4096


@dataclass(frozen=True)
class Observed:
    tested: list[dict[str, Any]]
    terminal: list[np.ndarray]
    reference: list[dict[str, Any]] | None
    # The extended design's runs (none when it was not asked for) and their reference.
    extended: list[dict[str, Any]] | None = None
    extended_reference: list[dict[str, Any]] | None = None
    # The same-step design's (tested, trusted) runs; none when it was not asked for.
    same_steps: list[tuple[dict[str, Any], dict[str, Any]]] | None = None


#: The reference's power sums go to degree 12: the skewness guard of third and fourth moments needs them.
REFERENCE_DEGREE = 12


def moment_degree(dim: int, wanted: int) -> int:
    """The highest of ``wanted``, 8 and 4 (not above ``wanted``) whose power sums in ``dim`` variables are
    few enough to accumulate cheaply."""
    for degree in (wanted, 8, 4):
        if degree <= wanted and comb(dim + degree, degree) - 1 <= MAX_MONOMIALS:
            return degree
    return min(wanted, 4)


def observe(
    model: SdeModel,
    binary: Path,
    specs: Sequence[RunSpec],
    references: Sequence[RunSpec],
    reference_binary: Path | None,
    limits: sandbox.Limits | None = None,
    extended: Sequence[RunSpec] = (),
    extended_references: Sequence[RunSpec] = (),
    same_steps: Sequence[tuple[RunSpec, RunSpec]] = (),
    same_step_binary: Path | None = None,
) -> Observed:
    """Run everything the verifier needs for ``model``, the reference runs only with a ``reference_binary``
    (see `needs_reference`), the ``extended`` design's runs (and their reference) when given, and the
    ``same_steps`` pairs with the trusted ``same_step_binary``; raises `RunError` (from the gym or here)."""
    tested, terminal = [], []
    with tempfile.TemporaryDirectory(prefix="architect-terminal-") as tmp:
        for k, spec in enumerate(specs):
            spec = replace(spec, moment_degree=moment_degree(model.dim, spec.moment_degree))
            npy = Path(tmp) / f"terminal-{k}.npy"
            tested.append(run_simulation(binary, spec, terminal=npy, limits=limits).stats)
            terminal.append(load_terminal(npy, spec.paths, model.dim))
            npy.unlink()  # keep at most one terminal file on disk
    ext = [_stats(model, binary, s, limits) for s in extended]
    reference = ext_reference = None
    if reference_binary is not None:
        reference = _reference_stats(model, reference_binary, references, limits)
        if extended:
            ext_reference = _reference_stats(model, reference_binary, extended_references, limits)
    pairs = None
    if same_steps and same_step_binary is not None:
        pairs = [
            (
                tested[specs.index(t)] if t in specs else _stats(model, binary, t, limits),
                _stats(model, same_step_binary, r, limits),
            )
            for t, r in same_steps
        ]
    return Observed(tested, terminal, reference, ext or None, ext_reference, pairs)


def _stats(model: SdeModel, binary: Path, spec: RunSpec, limits: sandbox.Limits | None) -> dict[str, Any]:
    spec = replace(spec, moment_degree=moment_degree(model.dim, spec.moment_degree))
    return run_simulation(binary, spec, limits=limits).stats


def _reference_stats(
    model: SdeModel, binary: Path, specs: Sequence[RunSpec], limits: sandbox.Limits | None
) -> list[dict[str, Any]]:
    degree = moment_degree(model.dim, REFERENCE_DEGREE)
    return [run_simulation(binary, replace(s, moment_degree=degree), limits=limits).stats for s in specs]


def needs_reference(model: SdeModel) -> bool:
    """Whether some state variable has no exact moments, so that the empirical reference must run."""
    return make_plan(model).needs_reference


def load_terminal(path: Path, rows: int, dim: int) -> np.ndarray:
    """The binary's terminal states; its shape and contents are checked by the verifier."""
    if not path.is_file():
        raise RunError("the simulator exited cleanly but wrote no terminal states")
    if path.stat().st_size > rows * dim * 8 + NPY_SLACK:
        raise RunError(f"the simulator's terminal-state file is implausibly large ({path.stat().st_size} bytes)")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise RunError(f"the simulator's terminal states are not a readable .npy file: {exc}") from None


def symbolic_reference(
    model: SdeModel, crate_dir: Path, binary: Path, progress: Callable[[str], None], scheme: str = "auto"
) -> Path:
    """The symbolic compiler's binary for ``model`` with ``scheme`` (a `codegen.SCHEME_KINDS` name): ``binary``
    itself when the crate's model code is exactly what the compiler prints, otherwise a fresh build of the
    compiler's crate in the cache."""
    choice = codegen.choose_scheme(model, scheme)
    ref_dir = paths.cache_dir() / "reference" / codegen.symbolic.crate_name(model, choice)
    codegen.write_crate(model, ref_dir, scheme=scheme)
    tested_source = crate_dir / "src" / "model.rs"
    if tested_source.is_file() and tested_source.read_text() == (ref_dir / "src" / "model.rs").read_text():
        return binary
    progress(f"building the trusted simulator (symbolic compiler, {choice.name} scheme) to compare with")
    built = build.build_crate(ref_dir, ref_dir / "bin" / model.slug, progress=build.print_progress)
    return built.binary


def same_scheme_kind(model: SdeModel, step_kinds: object) -> str:
    """The `codegen.SCHEME_KINDS` name under which the compiler writes the ``step_kinds`` a binary claims
    (its `--describe`); "auto" when none does, so that the same-step sanity check names the mismatch."""
    for kind in codegen.SCHEME_KINDS:
        try:
            choice = codegen.choose_scheme(model, kind)
        except ArchitectError:
            continue
        if isinstance(step_kinds, list) and [step_label(step) for step in choice.steps] == step_kinds:
            return kind
    return "auto"


def step_label(variant: str) -> str:
    """The statistics' name of an SDK `Step` variant (`Step::label`): ``FullTruncation`` -> ``full-truncation``."""
    return schemes.by_variant(variant).label


__all__ = [
    "EXTENDED_HORIZON",
    "EXTENDED_PATHS_DIVISOR",
    "SAME_STEP_SEEDS",
    "SAME_STEP_TESTED_SEED",
    "SDK_DEFAULT_STEPS",
    "SEEDS_PER_VERIFICATION",
    "Observed",
    "extended_base",
    "extended_checkpoints",
    "extended_reference_specs",
    "extended_specs",
    "load_terminal",
    "moment_degree",
    "needs_reference",
    "observe",
    "reference_specs",
    "same_scheme_kind",
    "same_step_specs",
    "step_label",
    "symbolic_reference",
    "tested_specs",
]
