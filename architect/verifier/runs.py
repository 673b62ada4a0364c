"""The runs a verification needs, made through the gym, and the trusted reference simulator.

Tested binary: N, 2N and 4N steps with seeds s, s+1, s+2, each writing its terminal states (Richardson
needs N and 2N, the convergence check all three, exact laws and prices the terminal states). A model with
variables outside the exact theory also needs an empirical reference: the *symbolic compiler's* binary for
the model, run at 2N and 4N steps with seeds s+3, s+4. For a crate that the symbolic compiler has just
generated that binary is the tested one; for any other crate (hand-edited, another backend) it is built from
the model into the cache, so a wrong crate is never its own reference.
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


def tested_specs(base: RunSpec) -> tuple[RunSpec, RunSpec, RunSpec]:
    """N, 2N, 4N steps with seeds s, s+1, s+2 from a spec with N steps and seed s."""
    return tuple(replace(base, steps=base.steps * 2**k, seed=base.seed + k) for k in range(3))  # type: ignore[return-value]


def reference_specs(base: RunSpec) -> tuple[RunSpec, RunSpec]:
    """2N and 4N steps with seeds s+3, s+4: a Richardson reference whose O(h²) residue is 4 times smaller
    than the tested estimate's. Finer steps would shrink it further but cost more than the whole tested
    verification, while the comparison's own residue is dominated by the tested side's anyway."""
    return tuple(replace(base, steps=base.steps * 2**k, seed=base.seed + k + 2) for k in (1, 2))  # type: ignore[return-value]


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
) -> Observed:
    """Run everything the verifier needs for ``model``, the reference runs only with a ``reference_binary``
    (see `needs_reference`); raises `RunError` (from the gym or here)."""
    tested, terminal = [], []
    with tempfile.TemporaryDirectory(prefix="architect-terminal-") as tmp:
        for k, spec in enumerate(specs):
            spec = replace(spec, moment_degree=moment_degree(model.dim, spec.moment_degree))
            npy = Path(tmp) / f"terminal-{k}.npy"
            tested.append(run_simulation(binary, spec, terminal=npy, limits=limits).stats)
            terminal.append(load_terminal(npy, spec.paths, model.dim))
            npy.unlink()  # keep at most one terminal file on disk
    reference = None
    if reference_binary is not None:
        reference = [
            run_simulation(
                reference_binary, replace(s, moment_degree=moment_degree(model.dim, REFERENCE_DEGREE)), limits=limits
            ).stats
            for s in references
        ]
    return Observed(tested, terminal, reference)


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
