"""The Python API: parse, generate, verify. The CLI is a thin shell over these three.

>>> import architect
>>> result = architect.generate("Heston with mean reversion")
>>> result.passed, result.binary, result.report["verdict"]
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from architect import bounded, build, codegen, locking, paths, proof, sandbox, verifier
from architect import parser as parsing
from architect.codegen.symbolic import crate_name, fixed_files
from architect.errors import BuildError, ModelError, RunError, UsageError
from architect.gate import GateError, check_crate
from architect.gym.runner import MAX_STATS_BYTES, RunSpec, describe
from architect.model import SdeModel
from architect.version import __version__

if TYPE_CHECKING:  # `verifier.*` is imported on first use, while cargo builds (see _build_and_verify)
    from architect.verifier import Verification
    from architect.verifier.runs import Observed

Progress = Callable[[str], None]
DEFAULT_OUT = Path("architect-out")
#: A model file is untrusted input (it comes with a crate folder); real ones are a few KiB.
MAX_MODEL_FILE_BYTES = 10 * 1024 * 1024
BACKENDS = ("auto", "llm", "symbolic")


@dataclass(frozen=True)
class Options:
    """How hard to test. The fine run uses twice the steps of the coarse one, with its own seed."""

    # 200 000 rather than 100 000: three 10% typos in jump models' compensator drift (z ≈ 4) are caught
    # only from here; the extrapolation's O(h²) residue stays below 0.4 standard errors (docs/verification.md §9).
    paths: int = 200_000
    steps: int = 100
    horizon: float = 1.0
    seed: int = 1
    threads: int = 0
    checkpoints: int = 4
    alpha: float = 1e-3
    # Power sums up to degree 8: standard errors of third and fourth central moments (see RunSpec).
    moment_degree: int = 8
    timeout: float = 300.0  # wall-clock seconds per simulator run
    # Refuse to build or run where a protection of the jail is missing (docs/security.md), instead of
    # recording the gap in the report.
    require_jail: bool = False
    # Run the statistics on a crate that is not provably the model (`architect.proof`) instead of failing it;
    # the verdict's reason then says so first.
    statistical_only: bool = False
    # Also observe the binary through the extended design (horizon 1.5 x horizon, checkpoints off the first
    # design's grid, a quarter of the paths; `verifier.runs.extended_specs`) and test its moments in the same
    # Holm family: a simulator that misbehaves only between the checkpoints or after the horizon fails.
    extended: bool = True
    # For a crate not proven to be the model (``statistical_only``): compare every moment at the step counts
    # users run (N and the binary's default) with the compiler's binary of the same scheme, without
    # extrapolation (`verifier.runs.same_step_specs`), so that an error linear in h, however large, fails.
    same_steps: bool = True

    def __post_init__(self) -> None:
        if self.paths < 2:
            raise UsageError("--paths must be at least 2")
        if self.steps < 1 or self.checkpoints < 1 or self.steps % self.checkpoints:
            raise UsageError(
                f"--steps ({self.steps}) must be a positive multiple of the checkpoints ({self.checkpoints})"
            )
        if not 0 < self.horizon < float("inf"):
            raise UsageError("--horizon must be a positive number")
        if not 0 < self.alpha < 1:
            raise UsageError("--alpha must lie strictly between 0 and 1")
        if self.threads < 0 or self.seed < 0:
            raise UsageError("--threads and --seed must be non-negative")
        if not 0 < self.timeout < float("inf"):
            raise UsageError("--timeout must be a positive number of seconds")

    def run_limits(self) -> sandbox.Limits:
        """What one simulator run may use: the timeout, and CPU and memory for its threads."""
        return sandbox.run_limits(self.timeout, MAX_STATS_BYTES)

    def check_jail(self) -> None:
        """With ``require_jail``, a `UsageError` naming every protection this machine lacks."""
        if not self.require_jail:
            return
        missing = {
            f"{kind} {gap}"
            for kind, limits in (("build", sandbox.build_limits()), ("run", self.run_limits()))
            for gap in sandbox.missing_protections(limits, sandbox.View())
        }
        if missing:
            raise UsageError(
                "--require-jail: this machine lacks " + "; ".join(sorted(missing)) + " (install bubblewrap, "
                "and allow unprivileged user namespaces or run as root; see docs/security.md)"
            )

    def _base(self) -> RunSpec:
        return RunSpec(
            paths=self.paths,
            steps=self.steps,
            horizon=self.horizon,
            seed=self.seed,
            threads=self.threads,
            checkpoints=self.checkpoints,
            moment_degree=self.moment_degree,
        )

    def runs(self) -> tuple[RunSpec, ...]:
        """The tested binary's runs: N, 2N and 4N steps, seeds s, s+1, s+2."""
        return verifier.runs.tested_specs(self._base())

    def reference_runs(self) -> tuple[RunSpec, ...]:
        """The reference simulator's runs, for models without exact moments: 2N and 4N steps, seeds s+3, s+4."""
        return verifier.runs.reference_specs(self._base())

    def extended_runs(self) -> tuple[RunSpec, ...]:
        """The extended design's runs (none without ``extended``): horizon 1.5·T, K' checkpoints off the first
        design's grid, N', 2N', 4N' steps (N' ≈ 1.5·N, a multiple of K'), seeds s+5, s+6, s+7, paths / 4."""
        return verifier.runs.extended_specs(self._base()) if self.extended else ()

    def extended_reference_runs(self) -> tuple[RunSpec, ...]:
        """The extended design's reference runs, for models without exact moments: 2N', 4N' steps, seeds s+8, s+9."""
        return verifier.runs.extended_reference_specs(self._base()) if self.extended else ()

    def same_step_runs(self) -> tuple[tuple[RunSpec, RunSpec], ...]:
        """(tested, trusted) runs at the step counts users run: N and the binary's default (200), the trusted
        ones by the compiler's binary of the same scheme, seeds s+10, s+11 (`verifier.runs.same_step_specs`)."""
        return verifier.runs.same_step_specs(self._base())


@dataclass(frozen=True)
class Result:
    model: SdeModel
    crate_dir: Path
    binary: Path | None
    report: dict[str, Any]
    report_dir: Path

    @property
    def passed(self) -> bool:
        return self.report.get("verdict") == "pass"


def parse(text: str) -> SdeModel:
    """Read a model name, equations or LaTeX into an `SdeModel` (raises `ParseError`)."""
    return parsing.parse(text)


def generate(
    text: str | SdeModel,
    *,
    out: str | Path | None = None,
    backend: str = "symbolic",
    options: Options | None = None,
    progress: Progress | None = None,
    scheme: str = "auto",
    generator: Any = None,
) -> Result:
    """Parse, generate a crate, build, simulate and verify; everything lands in ``out``.

    ``backend``: ``symbolic`` (the compiler), ``llm`` (the fine-tuned LLM writes the expressions,
    checked, compiled and verified, repaired on failure) or ``auto`` (``llm``, falling back to
    ``symbolic``). ``generator`` replaces the LLM (any object with ``sample(messages, k, temperature)``).
    ``scheme``: "auto" (the exact transition law where the model has one, else a discretisation
    chosen from its structure), "exact" (insist on the exact law) or "euler" (plain Euler-Maruyama).
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    options = options or Options()
    options.check_jail()
    say = progress or (lambda _line: None)
    timings: dict[str, float] = {}
    with _timed(timings, "parse"):
        model = text if isinstance(text, SdeModel) else parse(text)
    backend, backend_note = _backend_for(model, backend)
    if backend_note:
        say(backend_note)
    codegen.choose_scheme(model, scheme)  # a scheme the model cannot take fails here, before any LLM loads
    crate_dir = Path(out) if out is not None else DEFAULT_OUT / model.slug
    with _output_lock(crate_dir, say):
        if backend != "symbolic":
            from architect.llm.backend import generate_llm

            return generate_llm(
                model, crate_dir, options, timings, say, backend=backend, generator=generator, scheme=scheme
            )
        say(f"generating the crate in {crate_dir}")
        with _timed(timings, "codegen"):
            generated = codegen.write_crate(model, crate_dir, scheme=scheme)
            paths.write_atomic(crate_dir / "model.json", model.to_json(), within=crate_dir)
        return _build_and_verify(model, crate_dir, generated.scheme.name, options, timings, say, backend, backend_note)


def _backend_for(model: SdeModel, backend: str) -> tuple[str, str]:
    """The backend that writes ``model``, and a note when it is not the one asked for.

    The LLM was trained on diffusions only (its prompt and checks know drift, diffusion and correlation, not
    jumps), so it cannot write a jump model: ``llm`` is refused, ``auto`` goes straight to the compiler."""
    if not model.jumps or backend == "symbolic":
        return backend, ""
    if backend == "llm":
        raise UsageError(
            f"--backend llm cannot write {model.name}: the LLM backend does not know jumps (it writes drift, "
            "diffusion and correlation only); use --backend symbolic or auto"
        )
    return "symbolic", "backend auto: the LLM backend does not know jumps, so the symbolic compiler writes this model"


def verify(
    crate_dir: str | Path,
    *,
    model: SdeModel | str | Path | None = None,
    options: Options | None = None,
    progress: Progress | None = None,
) -> Result:
    """Rebuild an existing (possibly hand-edited) crate and verify it against its model.

    The crate is untrusted: its layout and `src/model.rs` pass the static gate (`architect.gate`)
    before anything is compiled. A missing `Cargo.toml` or `src/main.rs` is written back (they
    are architect's own files); ones that differ from architect's are rejected. A folder that is a
    symbolic link, or holds one at its top level or in `src/` or `bin/`, is refused (`UsageError`)
    before anything is read, written or deleted (`paths.refuse_links`).
    """
    crate_dir = Path(crate_dir)
    (options or Options()).check_jail()
    paths.refuse_links(crate_dir)
    if not (crate_dir / "src" / "model.rs").is_file():
        raise UsageError(f"{crate_dir} is not a generated crate (no src/model.rs)")
    model = _load_model(model if model is not None else crate_dir / "model.json")
    say = progress or (lambda _line: None)
    with _output_lock(crate_dir, say):
        for relative, text in fixed_files(model).items():
            if not (crate_dir / relative).exists() and not (crate_dir / relative).is_symlink():
                say(f"restoring architect's {relative}")
                paths.write_atomic(crate_dir / relative, text, within=crate_dir)
        return _build_and_verify(model, crate_dir, None, options or Options(), {}, say, "existing crate")


class _output_lock:
    """Hold ``<out>/.architect.lock`` for a whole run and clear what a killed run left half-written.

    An output folder with symbolic links in it (or one that is a link) is refused first, before the lock
    file is created or a stale temporary deleted: every later write and deletion there is at a fixed place.
    """

    def __init__(self, crate_dir: Path, say: Progress) -> None:
        self.crate_dir, self.say = crate_dir, say

    def __enter__(self) -> None:
        paths.refuse_links(self.crate_dir)
        self.crate_dir.mkdir(parents=True, exist_ok=True)
        self.held = locking.hold(self.crate_dir / locking.LOCK_NAME, what=str(self.crate_dir), say=self.say)
        self.held.__enter__()
        for folder in (self.crate_dir, self.crate_dir / "src", self.crate_dir / "bin"):
            paths.remove_stale_temporaries(folder)

    def __exit__(self, *exc: object) -> None:
        self.held.__exit__(*exc)


def _load_model(source: SdeModel | str | Path) -> SdeModel:
    if isinstance(source, SdeModel):
        return source
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"model file {path} not found (pass --model FILE)")
    if path.stat().st_size > MAX_MODEL_FILE_BYTES:
        raise UsageError(f"model file {path} is {path.stat().st_size} bytes: far larger than any model")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"model file {path} is not UTF-8 text: {exc}") from None
    try:
        model = SdeModel.from_json(text)
    except RecursionError:
        raise UsageError(f"model file {path} is nested too deeply to be a model") from None
    except ModelError as exc:
        raise ModelError(f"model file {path}: {exc}") from None
    # Untrusted: its symbolic analysis is tried first in a child process with time and memory limits.
    bounded.check_analysis(model, f"model file {path}")
    return model


def _build_and_verify(
    model: SdeModel,
    crate_dir: Path,
    scheme_name: str | None,
    options: Options,
    timings: dict[str, float],
    say: Progress,
    backend: str,
    backend_note: str = "",
) -> Result:
    binary = crate_dir / "bin" / model.slug
    # A binary from an earlier run is not this source's: it goes, and comes back only if this build works.
    # Removed without following a link (`bin` itself included): a folder of links was refused by `_output_lock`.
    paths.remove_file(binary, within=crate_dir)
    report: dict[str, Any] = {}

    def start_report() -> dict[str, Any]:
        # Once: while cargo compiles (`prepare`), or on the way out of a run that failed before that.
        if not report:
            report.update(_base_report(model, crate_dir, binary, options, backend, timings))
            report.update({"backend_note": backend_note} if backend_note else {})
        return report

    def prepare() -> None:
        with _timed(timings, "prepare"):
            _prepare(start_report())

    gate: dict[str, Any] = {"passed": False, "violations": []}
    equivalence: dict[str, Any] = {"proven": False, "reasons": ["not reached"]}
    try:
        fixed = fixed_files(model)
        with _timed(timings, "gate"):
            source = check_crate(crate_dir, fixed["Cargo.toml"], fixed["src/main.rs"])
        gate["passed"] = True
        with _timed(timings, "proof"):
            equivalence = _prove(model, source, options)
        say("building (the first build compiles the SDK: about a minute)")
        with _timed(timings, "build"):
            built = build.build_model(
                crate_name(model), fixed, source, binary, progress=build.print_progress, meanwhile=prepare
            )
            reference = _reference_binary(model, crate_dir, binary, backend, say)
        start_report()["build"] = {"warnings": list(built.warnings), "crate": built.crate_name}
        say("simulating and verifying against theory")
        unproven = options.same_steps and not equivalence["proven"]
        trusted = _same_scheme_binary(model, crate_dir, binary, say) if unproven else None
        report["simulation"]["same_steps"] = _same_step_summary(options) if trusted else None
        _add_outcome(report, check_binary(model, binary, options, reference, timings, trusted), scheme_name)
    except GateError as exc:
        gate["violations"] = [v.to_dict() for v in exc.violations]
        start_report().update(verdict="fail", reason=str(exc), diagnostics=exc.diagnostics)
    except proof.NotProven as exc:
        equivalence = {"proven": False, "reasons": exc.reasons}
        start_report().update(verdict="fail", reason=f"{exc} (--statistical-only runs the statistics anyway)")
    except BuildError as exc:
        start_report().update(verdict="fail", reason=str(exc), diagnostics=exc.diagnostics)
    except RunError as exc:
        start_report().update(verdict="fail", reason=str(exc))
    report["gate"] = gate
    report["equivalence"] = equivalence
    if report["verdict"] == "pass" and not equivalence["proven"]:
        report["reason"] = (
            "statistics only — equivalence with the model NOT proven ("
            + "; ".join(equivalence["reasons"])[:500]
            + "): "
            + report["reason"]
        )
    report["timings"] = {k: round(v, 3) for k, v in timings.items()}
    verifier.write_report(crate_dir, report)
    return Result(
        model=model,
        crate_dir=crate_dir,
        binary=binary if binary.exists() else None,
        report=report,
        report_dir=crate_dir,
    )


def _prove(model: SdeModel, source: str, options: Options) -> dict[str, Any]:
    """`proof.prove` for the report; with ``statistical_only`` a file that is not proven is recorded, not refused."""
    try:
        return proof.prove(model, source).to_dict()
    except proof.NotProven as exc:
        if not options.statistical_only:
            raise
        return {"proven": False, "reasons": exc.reasons}


def _add_outcome(report: dict[str, Any], checked: Checked, scheme_name: str | None) -> None:
    report["scheme"] = _scheme(checked.description, scheme_name)
    # What the binary locked itself into before any model code ran (`--describe`; the SDK's jail).
    report["sandbox"]["run"]["jail"] = checked.description.get("jail", "not reported (an unjailed binary)")
    report["simulation"]["threads"] = checked.observed.tested[1].get("threads")
    outcome = checked.verification.to_dict()
    report["checks"] = outcome.pop("checks")
    report |= {key: outcome.pop(key) for key in verifier.verdict.EXTRAS}
    report["statistics"] = outcome
    report["verdict"], report["reason"] = outcome["verdict"], outcome["reason"]


def _prepare(report: dict[str, Any]) -> None:
    """Load what verifying and reporting will need, while cargo compiles and this process would wait.

    Only caches are filled (imports; the theory plan, memoised, came with the base report; the model's
    equations drawn for report.html), so a build that skips this (a test's stand-in) changes nothing but
    the time. About a second of work, mostly scipy.stats, matplotlib and mathtext (docs/performance.md).
    """
    importlib.import_module("architect.verifier.verdict")
    verifier.html.prepare(report)


@dataclass(frozen=True)
class Checked:
    """What the gym observed of a binary and what the verifier concluded."""

    description: dict[str, Any]
    observed: Observed
    verification: Verification


def check_binary(
    model: SdeModel,
    binary: Path,
    options: Options,
    reference: Path | None = None,
    timings: dict[str, float] | None = None,
    same_scheme: Callable[[object], Path] | None = None,
) -> Checked:
    """Simulate an already-built ``binary`` as the verifier needs and verify it against ``model``.

    The building block of `generate` and `verify`, and of the calibration bench, which runs it for
    many seeds on one binary. ``same_scheme``, for a crate not proven to be the model: given the step kinds
    the binary describes, the trusted binary of that scheme, for the same-step design. Raises `RunError`
    when the binary misbehaves.
    """
    timings = timings if timings is not None else {}
    limits = options.run_limits()
    with _timed(timings, "simulate"):
        description = describe(binary, limits=replace(limits, timeout=min(limits.timeout, 30.0)))
        _check_binary_jail(description, options)
        specs, references = options.runs(), options.reference_runs()
        trusted = same_scheme(description.get("step_kinds")) if same_scheme is not None else None
        observed = verifier.runs.observe(
            model,
            binary,
            specs,
            references,
            reference,
            limits=limits,
            extended=options.extended_runs(),
            extended_references=options.extended_reference_runs(),
            same_steps=options.same_step_runs() if trusted is not None else (),
            same_step_binary=trusted,
        )
    with _timed(timings, "verify"):
        verification = verifier.verify(
            model,
            *observed.tested[:2],
            alpha=options.alpha,
            description=description,
            finer_stats=observed.tested[2],
            terminal=observed.terminal,
            reference=observed.reference,
            extended=observed.extended,
            extended_reference=observed.extended_reference,
            same_steps=observed.same_steps,
        )
    return Checked(description, observed, verification)


def _check_binary_jail(description: dict[str, Any], options: Options) -> None:
    """With ``require_jail``, a binary that did not lock itself down completely is not run."""
    jail = description.get("jail")
    complete = isinstance(jail, dict) and (jail.get("landlock"), jail.get("seccomp"), jail.get("no_new_privs")) == (
        "enforced",
        "enforced",
        True,
    )
    if options.require_jail and not complete:
        raise RunError(f"--require-jail: the simulator did not lock itself down completely ({str(jail)[:200]})")


def _base_report(
    model: SdeModel, crate_dir: Path, binary: Path, options: Options, backend: str, timings: dict[str, float]
) -> dict[str, Any]:
    specs = options.runs()
    return {
        "format": "architect.report/1",
        "verdict": "fail",
        "reason": "not run",
        "model": model.to_dict(),
        "equations": model.equations(),
        "backend": backend,
        "scheme": {"name": None, "step_kinds": None},
        "simulation": {
            "paths": options.paths,
            "horizon": options.horizon,
            "steps": [spec.steps for spec in specs],
            "seeds": [spec.seed for spec in specs],
            "reference": {
                "steps": [spec.steps for spec in options.reference_runs()],
                "seeds": [spec.seed for spec in options.reference_runs()],
                "used": verifier.runs.needs_reference(model),
            },
            "threads": options.threads,
            "checkpoints": [options.horizon * (k + 1) / options.checkpoints for k in range(options.checkpoints)],
            "extended": _extended_summary(model, options),
        },
        "statistics": {"alpha": options.alpha},
        "checks": [],
        "gate": {"passed": False, "violations": []},
        "sandbox": {
            # Builds and runs are jailed with a view of the filesystem (`build.build_view`, `gym.run_view`).
            "build": sandbox.describe(sandbox.build_limits(build.BUILD_TIMEOUT_S), sandbox.View()),
            "run": sandbox.describe(options.run_limits(), sandbox.View()),
        },
        "timings": timings,
        "versions": {
            "architect": __version__,
            "sdk": _sdk_version(),
            "rustc": build.rustc_version(),
            # sha256 of the weights/adapter of a learned backend; the symbolic backend has none.
            "weights": None,
        },
        "artifacts": {"crate": str(crate_dir), "binary": str(binary), "model": str(crate_dir / "model.json")},
    }


def _extended_summary(model: SdeModel, options: Options) -> dict[str, Any] | None:
    """The extended design's runs as report.json's ``simulation.extended`` (None when it is not run)."""
    specs, references = options.extended_runs(), options.extended_reference_runs()
    if not specs:
        return None
    first = specs[0]
    return {
        "paths": first.paths,
        "horizon": first.horizon,
        "checkpoints": [first.horizon * (k + 1) / first.checkpoints for k in range(first.checkpoints)],
        "steps": [spec.steps for spec in specs],
        "seeds": [spec.seed for spec in specs],
        "reference": {
            "steps": [spec.steps for spec in references],
            "seeds": [spec.seed for spec in references],
            "used": verifier.runs.needs_reference(model),
        },
    }


def _same_scheme_binary(model: SdeModel, crate_dir: Path, binary: Path, say: Progress) -> Callable[[object], Path]:
    """For the same-step design: the compiler's binary of the scheme a binary claims (built on first use)."""

    def trusted(step_kinds: object) -> Path:
        kind = verifier.runs.same_scheme_kind(model, step_kinds)
        return verifier.runs.symbolic_reference(model, crate_dir, binary, say, scheme=kind)

    return trusted


def _same_step_summary(options: Options) -> dict[str, Any]:
    """The same-step design as report.json's ``simulation.same_steps``."""
    pairs = options.same_step_runs()
    return {
        "steps": [tested.steps for tested, _ in pairs],
        "seeds": [[tested.seed, trusted.seed] for tested, trusted in pairs],
    }


def _reference_binary(model: SdeModel, crate_dir: Path, binary: Path, backend: str, say: Progress) -> Path | None:
    """The trusted simulator for the empirical reference, only if the model needs one: a crate the symbolic
    compiler has just written is its own reference; any other crate gets the compiler's, built here."""
    if not verifier.runs.needs_reference(model):
        return None
    return binary if backend == "symbolic" else verifier.runs.symbolic_reference(model, crate_dir, binary, say)


def _scheme(description: dict[str, Any], fallback: str | None) -> dict[str, Any]:
    """The scheme as the binary describes it; untrusted, so only well-typed, short values are kept."""
    name = description.get("scheme")
    kinds = description.get("step_kinds")
    if not isinstance(name, str) or len(name) > 200:
        name = fallback
    if not (isinstance(kinds, list) and len(kinds) <= 1000 and all(isinstance(k, str) and len(k) < 100 for k in kinds)):
        kinds = None
    return {"name": name, "step_kinds": kinds}


def _sdk_version() -> str:
    try:
        from architect import _native

        return _native.sdk_version()
    except ImportError:
        return "unknown (native module not built)"


class _timed:
    """Adds the wall time of a block to ``timings[name]``."""

    def __init__(self, timings: dict[str, float], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.monotonic() - self.start


__all__ = ["Options", "Result", "generate", "parse", "verify"]
