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
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from math import comb
from pathlib import Path
from typing import Any

import numpy as np

from architect import build, codegen, paths, sandbox
from architect.errors import RunError
from architect.gym.runner import RunSpec, run_simulation
from architect.model import SdeModel
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


def tested_specs(base: RunSpec) -> tuple[RunSpec, RunSpec, RunSpec]:
    """N, 2N, 4N steps with seeds s, s+1, s+2 from a spec with N steps and seed s."""
    return tuple(replace(base, steps=base.steps * 2**k, seed=base.seed + k) for k in range(3))  # type: ignore[return-value]


def reference_specs(base: RunSpec) -> tuple[RunSpec, RunSpec]:
    """2N and 4N steps with seeds s+3, s+4: a Richardson reference whose O(h²) residue is 4 times smaller
    than the tested estimate's. Finer steps would shrink it further but cost more than the whole tested
    verification, while the comparison's own residue is dominated by the tested side's anyway."""
    return tuple(replace(base, steps=base.steps * 2**k, seed=base.seed + k + 2) for k in (1, 2))  # type: ignore[return-value]


def extended_checkpoints(checkpoints: int) -> int:
    """K' for the extended design: the smallest count above K whose times 1.5·T·j/K' up to T all miss the
    first design's grid T·i/K (1.5·j/K' = i/K exactly when 2·K' divides 3·j·K)."""
    k = checkpoints + 1
    while any(3 * j * checkpoints % (2 * k) == 0 for j in range(1, k + 1) if 3 * j <= 2 * k):
        k += 1
    return k


#: The extended design runs this fraction of the paths (1/4): its three runs then cost 1.5/4 of the first
#: design's steps (docs/verification.md §1, where the measured cost is).
EXTENDED_PATHS_DIVISOR = 4
#: Its horizon, in units of the first design's.
EXTENDED_HORIZON = 1.5


def extended_base(base: RunSpec) -> RunSpec:
    """The extended design's coarse run, from the first design's: horizon 1.5·T, K' checkpoints, N' ≈ 1.5·N
    steps rounded to a multiple of K', seed s+5, a quarter of the paths (at least 2)."""
    k = extended_checkpoints(base.checkpoints)
    steps = max(1, round(EXTENDED_HORIZON * base.steps / k)) * k
    return replace(
        base,
        paths=max(2, base.paths // EXTENDED_PATHS_DIVISOR),
        steps=steps,
        horizon=EXTENDED_HORIZON * base.horizon,
        checkpoints=k,
        seed=base.seed + 5,
    )


def extended_specs(base: RunSpec) -> tuple[RunSpec, RunSpec, RunSpec]:
    """The extended design's tested runs: N', 2N', 4N' steps, seeds s+5, s+6, s+7."""
    return tested_specs(extended_base(base))


def extended_reference_specs(base: RunSpec) -> tuple[RunSpec, RunSpec]:
    """The extended design's reference runs: 2N' and 4N' steps, seeds s+8, s+9."""
    return reference_specs(extended_base(base))


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
) -> Observed:
    """Run everything the verifier needs for ``model``, the reference runs only with a ``reference_binary``
    (see `needs_reference`), and the ``extended`` design's runs (and their reference) when given; raises
    `RunError` (from the gym or here)."""
    tested, terminal = [], []
    with tempfile.TemporaryDirectory(prefix="architect-terminal-") as tmp:
        for k, spec in enumerate(specs):
            spec = replace(spec, moment_degree=moment_degree(model.dim, spec.moment_degree))
            npy = Path(tmp) / f"terminal-{k}.npy"
            tested.append(run_simulation(binary, spec, terminal=npy, limits=limits).stats)
            terminal.append(load_terminal(npy, spec.paths, model.dim))
            npy.unlink()  # keep at most one terminal file on disk
    ext = [
        run_simulation(binary, replace(s, moment_degree=moment_degree(model.dim, s.moment_degree)), limits=limits).stats
        for s in extended
    ]
    reference = ext_reference = None
    if reference_binary is not None:
        reference = _reference_stats(model, reference_binary, references, limits)
        if extended:
            ext_reference = _reference_stats(model, reference_binary, extended_references, limits)
    return Observed(tested, terminal, reference, ext or None, ext_reference)


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


def symbolic_reference(model: SdeModel, crate_dir: Path, binary: Path, progress: Callable[[str], None]) -> Path:
    """The symbolic compiler's binary for ``model``: ``binary`` itself when the crate's model code is exactly
    what the compiler prints, otherwise a fresh build of the compiler's crate in the cache."""
    ref_dir = paths.cache_dir() / "reference" / codegen.symbolic.crate_name(model)
    codegen.write_crate(model, ref_dir)
    tested_source = crate_dir / "src" / "model.rs"
    if tested_source.is_file() and tested_source.read_text() == (ref_dir / "src" / "model.rs").read_text():
        return binary
    progress("building the reference simulator (symbolic compiler) for the empirical reference")
    built = build.build_crate(ref_dir, ref_dir / "bin" / model.slug, progress=build.print_progress)
    return built.binary
