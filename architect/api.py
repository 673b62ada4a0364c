"""The Python API: parse, generate, verify. The CLI is a thin shell over these three.

>>> import architect
>>> result = architect.generate("Heston with mean reversion")
>>> result.passed, result.binary, result.report["verdict"]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from architect import build, codegen, paths
from architect import parser as parsing
from architect.errors import BuildError, RunError, UsageError
from architect.gym.runner import RunSpec, describe, run_simulation
from architect.model import SdeModel
from architect.verifier import verify as verify_statistics
from architect.verifier import write_report
from architect.version import __version__

Progress = Callable[[str], None]
DEFAULT_OUT = Path("architect-out")
BACKENDS = ("auto", "llm", "symbolic")


@dataclass(frozen=True)
class Options:
    """How hard to test. The fine run uses twice the steps of the coarse one, with its own seed."""

    paths: int = 100_000
    steps: int = 100
    horizon: float = 1.0
    seed: int = 1
    threads: int = 0
    checkpoints: int = 4
    alpha: float = 1e-3

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

    def runs(self) -> tuple[RunSpec, RunSpec]:
        common = {
            "paths": self.paths,
            "horizon": self.horizon,
            "threads": self.threads,
            "checkpoints": self.checkpoints,
        }
        return (
            RunSpec(steps=self.steps, seed=self.seed, **common),
            RunSpec(steps=2 * self.steps, seed=self.seed + 1, **common),
        )


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
    generator: Any = None,
) -> Result:
    """Parse, generate a crate, build, simulate and verify; everything lands in ``out``.

    ``backend``: ``symbolic`` (the compiler), ``llm`` (the fine-tuned LLM writes the expressions,
    checked, compiled and verified, repaired on failure) or ``auto`` (``llm``, falling back to
    ``symbolic``). ``generator`` replaces the LLM (any object with ``sample(messages, k, temperature)``).
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    options = options or Options()
    say = progress or (lambda _line: None)
    timings: dict[str, float] = {}
    with _timed(timings, "parse"):
        model = text if isinstance(text, SdeModel) else parse(text)
    crate_dir = Path(out) if out is not None else DEFAULT_OUT / model.slug
    if backend != "symbolic":
        from architect.llm.backend import generate_llm

        return generate_llm(model, crate_dir, options, timings, say, backend=backend, generator=generator)
    say(f"generating the crate in {crate_dir}")
    with _timed(timings, "codegen"):
        generated = codegen.write_crate(model, crate_dir)
        paths.write_atomic(crate_dir / "model.json", model.to_json())
    return _build_and_verify(model, crate_dir, generated.scheme.name, options, timings, say, backend)


def verify(
    crate_dir: str | Path,
    *,
    model: SdeModel | str | Path | None = None,
    options: Options | None = None,
    progress: Progress | None = None,
) -> Result:
    """Rebuild an existing (possibly hand-edited) crate and verify it against its model."""
    crate_dir = Path(crate_dir)
    if not (crate_dir / "Cargo.toml").is_file():
        raise UsageError(f"{crate_dir} is not a generated crate (no Cargo.toml)")
    model = _load_model(model if model is not None else crate_dir / "model.json")
    say = progress or (lambda _line: None)
    return _build_and_verify(model, crate_dir, None, options or Options(), {}, say, "existing crate")


def _load_model(source: SdeModel | str | Path) -> SdeModel:
    if isinstance(source, SdeModel):
        return source
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"model file {path} not found (pass --model FILE)")
    return SdeModel.from_json(path.read_text("utf-8"))


def _build_and_verify(
    model: SdeModel,
    crate_dir: Path,
    scheme_name: str | None,
    options: Options,
    timings: dict[str, float],
    say: Progress,
    backend: str,
) -> Result:
    binary = crate_dir / "bin" / model.slug
    report = _base_report(model, crate_dir, binary, options, backend, timings)
    try:
        say("building (the first build compiles the SDK: about a minute)")
        with _timed(timings, "build"):
            built = build.build_crate(crate_dir, binary, progress=build.print_progress)
        report["build"] = {"warnings": list(built.warnings), "crate": built.crate_name}
        say("simulating")
        with _timed(timings, "simulate"):
            description = describe(binary)
            coarse, fine = (run_simulation(binary, spec).stats for spec in options.runs())
        report["scheme"] = {"name": description.get("scheme", scheme_name), "step_kinds": description.get("step_kinds")}
        report["simulation"]["threads"] = fine.get("threads")
        say("verifying against theory")
        with _timed(timings, "verify"):
            verification = verify_statistics(model, coarse, fine, alpha=options.alpha, description=description)
        outcome = verification.to_dict()
        report["checks"] = outcome.pop("checks")
        report["statistics"] = outcome
        report["verdict"], report["reason"] = outcome["verdict"], outcome["reason"]
    except BuildError as exc:
        report.update(verdict="fail", reason=str(exc), diagnostics=exc.diagnostics)
    except RunError as exc:
        report.update(verdict="fail", reason=str(exc))
    report["timings"] = {k: round(v, 3) for k, v in timings.items()}
    write_report(crate_dir, report)
    return Result(
        model=model,
        crate_dir=crate_dir,
        binary=binary if binary.exists() else None,
        report=report,
        report_dir=crate_dir,
    )


def _base_report(
    model: SdeModel, crate_dir: Path, binary: Path, options: Options, backend: str, timings: dict[str, float]
) -> dict[str, Any]:
    coarse, fine = options.runs()
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
            "steps": [coarse.steps, fine.steps],
            "seeds": [coarse.seed, fine.seed],
            "threads": options.threads,
            "checkpoints": [options.horizon * (k + 1) / options.checkpoints for k in range(options.checkpoints)],
        },
        "statistics": {"alpha": options.alpha},
        "checks": [],
        "timings": timings,
        "versions": {"architect": __version__, "sdk": _sdk_version()},
        "artifacts": {"crate": str(crate_dir), "binary": str(binary), "model": str(crate_dir / "model.json")},
    }


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
