"""One run: write code -> gate -> prove -> build -> reference binaries -> observe -> verify -> write report.

`execute` holds the output folder's lock, writes model.json (the one place it is written), asks the writers
in turn (`compose`: a writer may repair its crate, or give up to the next), checks each crate they write
(`check`: the stages from the gate to the verifier, filling one `Report`), and writes the final report.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import importlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from architect import build, codegen, locking, paths, proof, sandbox, verifier
from architect.errors import BuildError, RunError
from architect.gate import GateError, check_crate
from architect.gym.runner import describe
from architect.model import SdeModel
from architect.options import Options
from architect.pipeline.report import Report, same_step_summary, scheme_of
from architect.pipeline.values import at_values, checked
from architect.pipeline.writers import CodeWriter, NoCode, Progress, Written

if TYPE_CHECKING:  # `verifier.*` is imported on first use, while cargo builds (see `build_stage`)
    from architect.simulator import Simulator
    from architect.verifier import Verification
    from architect.verifier.runs import Observed

#: The timeout of the binary's `--describe` (it only prints its model).
DESCRIBE_TIMEOUT_S = 30.0


@dataclass
class RunContext:
    """What every stage of one run works on."""

    model: SdeModel
    crate_dir: Path
    options: Options
    say: Progress
    scheme: str = "auto"  # the scheme kind asked for (`codegen.SCHEME_KINDS`)
    timings: dict[str, float] = field(default_factory=dict)
    backend_note: str = ""  # why the writer is not the one asked for, if it is not

    @property
    def binary(self) -> Path:
        return self.crate_dir / "bin" / self.model.slug


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

    def simulator(self, options: Options | None = None) -> Simulator:
        """The output folder's binary as an `architect.Simulator` (whose ``verified`` says whether it passed)."""
        from architect.simulator import Simulator

        return Simulator(self.crate_dir, options=options)

    def _repr_html_(self) -> str:
        """The verdict and a summary table, for notebooks."""
        return result_html(self.report, self.report_dir)


def result_html(report: dict[str, Any], report_dir: Path) -> str:
    """A notebook's view of a report: the verdict, its reason and a summary table."""
    e = html.escape
    passed = report.get("verdict") == "pass"
    verdict = '<b style="color:#1a7f37">PASS</b>' if passed else '<b style="color:#cf222e">FAIL</b>'
    model, simulation, scheme, artifacts = (
        _mapping(report.get(k)) for k in ("model", "simulation", "scheme", "artifacts")
    )
    checks = [c for c in report.get("checks") or [] if isinstance(c, dict)]
    failed = sum(1 for c in checks if c.get("passed") is False)
    rows = [
        ("model", model.get("name")),
        ("equations", "; ".join(str(q) for q in report.get("equations") or [])),
        ("scheme", scheme.get("name")),
        ("backend", report.get("backend")),
        ("checks", f"{len(checks) - failed} of {len(checks)} passed"),
        ("paths", simulation.get("paths")),
        ("steps", simulation.get("steps")),
        ("binary", artifacts.get("binary")),
        ("binary SHA-256", artifacts.get("binary_sha256")),
        ("report", Path(report_dir) / "report.html"),
    ]
    table = "".join(f"<tr><th style='text-align:left'>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    return f"<div>{verdict} {e(str(report.get('reason', '')))}<table>{table}</table></div>"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def file_sha256(path: Path) -> str | None:
    """The SHA-256 of a file (report.json's ``artifacts.binary_sha256``), None when it does not exist."""
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Adds the wall time of a block to ``timings[name]``."""
    start = time.monotonic()
    try:
        yield
    finally:
        timings[name] = timings.get(name, 0.0) + time.monotonic() - start


def execute(ctx: RunContext, writers: Sequence[CodeWriter], *, model_json: bool = True, write: bool = True) -> Result:
    """The whole run in ``ctx.crate_dir``, under its lock: model.json (unless the crate brings its own), the
    writers' crates checked in turn, and the final report written (unless ``write`` is False).

    The run-time values of ``ctx.options`` (``--set``, ``--x0``) are checked against the model first, so a bad
    one is a `ModelError` before anything is written or built."""
    ctx.options = checked(ctx.model, ctx.options)
    with output_lock(ctx.crate_dir, ctx.say):
        if model_json:
            paths.write_atomic(ctx.crate_dir / "model.json", ctx.model.to_json(), within=ctx.crate_dir)
        report = compose(ctx, writers)
        return finish(ctx, report, write=write)


def compose(ctx: RunContext, writers: Sequence[CodeWriter]) -> Report:
    """Ask each writer in turn until a crate passes: a writer revises its crate while it wants to, then gives
    way to the next (the symbolic compiler after the LLM). The report is the last checked crate's, or, when no
    writer wrote any code, a failure saying why; every writer asked then adds what it knows to it."""
    last: Report | None = None
    why = "no code was written"
    asked: list[CodeWriter] = []
    for writer in writers:
        asked.append(writer)
        while True:
            try:
                with timed(ctx.timings, "codegen"):
                    written = writer.write(ctx.model, ctx.crate_dir, ctx.scheme)
            except NoCode as exc:
                why = str(exc)
                break
            last = check(ctx, written)
            if not writer.revise(last) or last.passed:
                break
        if last is not None and last.passed:
            break
    if last is None:
        last = Report(ctx.model, ctx.crate_dir, ctx.options, writers[-1].name, ctx.timings, ctx.backend_note)
        last.fail(why)
    for writer in asked:
        writer.annotate(last)
    return last


def check(ctx: RunContext, written: Written) -> Report:
    """The stages from the gate to the verifier on the crate just written; the report says how far it got."""
    report = Report(ctx.model, ctx.crate_dir, ctx.options, written.backend, ctx.timings, ctx.backend_note)
    report.equivalence = {"proven": False, "reasons": ["not reached"]}
    # A binary from an earlier run is not this source's: it goes, and comes back only if this build works.
    # Removed without following a link (`bin` itself included): a folder of links was refused by `output_lock`.
    paths.remove_file(ctx.binary, within=ctx.crate_dir)
    try:
        fixed = codegen.fixed_files(ctx.model)
        source = gate_stage(ctx, report, fixed)
        prove_stage(ctx, report, source)
        built = build_stage(ctx, fixed, source, report)
        reference = reference_stage(ctx, written)
        report.build = {"warnings": list(built.warnings), "crate": built.crate_name}
        report.binary_sha256 = file_sha256(ctx.binary)  # the file verified: `Simulator.verified` compares it
        ctx.say("simulating and verifying against theory")
        unproven = ctx.options.same_steps and not (report.equivalence or {}).get("proven")
        trusted = same_scheme_binary(ctx) if unproven else None
        report.same_steps = same_step_summary(ctx.options) if trusted else None
        report.same_steps_decided = True
        checked = check_binary(ctx.model, ctx.binary, ctx.options, reference, ctx.timings, trusted)
        report.scheme = scheme_of(checked.description, written.scheme_name)
        report.add_verification(checked.description, checked.observed.tested[1].get("threads"), checked.verification)
    except GateError as exc:
        report.gate["violations"] = [v.to_dict() for v in exc.violations]
        report.fail(str(exc), exc.diagnostics)
    except proof.NotProven as exc:
        report.equivalence = {"proven": False, "reasons": exc.reasons}
        report.fail(f"{exc} (--statistical-only runs the statistics anyway)")
    except BuildError as exc:
        report.fail(str(exc), exc.diagnostics)
    except RunError as exc:
        report.fail(str(exc))
    return report


def gate_stage(ctx: RunContext, report: Report, fixed: dict[str, str]) -> str:
    """The static gate (`architect.gate`): the crate's layout and its model.rs; returns the source."""
    with timed(ctx.timings, "gate"):
        source = check_crate(ctx.crate_dir, fixed["Cargo.toml"], fixed["src/main.rs"])
    report.gate["passed"] = True
    return source


def prove_stage(ctx: RunContext, report: Report, source: str) -> None:
    """`proof.prove`; with ``statistical_only`` a source that is not proven is recorded, not refused."""
    with timed(ctx.timings, "proof"):
        try:
            report.equivalence = proof.prove(ctx.model, source).to_dict()
        except proof.NotProven as exc:
            if not ctx.options.statistical_only:
                raise
            report.equivalence = {"proven": False, "reasons": exc.reasons}


def build_stage(ctx: RunContext, fixed: dict[str, str], source: str, report: Report) -> build.BuildResult:
    """`cargo build` in the jail; meanwhile, the report's setting and what verifying will load."""

    def prepare() -> None:
        with timed(ctx.timings, "prepare"):
            _prepare(report)

    ctx.say("building (the first build compiles the SDK: about a minute)")
    with timed(ctx.timings, "build"):
        built = build.build_model(
            codegen.symbolic.crate_name(ctx.model),
            fixed,
            source,
            ctx.binary,
            progress=build.print_progress,
            meanwhile=prepare,
        )
    return built


def _prepare(report: Report) -> None:
    """Load what verifying and reporting will need, while cargo compiles and this process would wait.

    Only caches are filled (imports; the theory plan, memoised, comes with the report's setting; the model's
    equations drawn for report.html), so a build that skips this (a test's stand-in) changes nothing but
    the time. About a second of work, mostly scipy.stats, matplotlib and mathtext (docs/performance.md).
    """
    report.settle()
    importlib.import_module("architect.verifier.verdict")
    verifier.html.prepare(report.to_json())


def reference_stage(ctx: RunContext, written: Written) -> Path | None:
    """The trusted simulator for the empirical reference, only if the model needs one: a crate the symbolic
    compiler has just written is its own reference; any other crate gets the compiler's, built here."""
    if not verifier.runs.needs_reference(at_values(ctx.model, ctx.options)):
        return None
    if written.trusted:
        return ctx.binary
    with timed(ctx.timings, "build"):
        return verifier.runs.symbolic_reference(ctx.model, ctx.crate_dir, ctx.binary, ctx.say)


def same_scheme_binary(ctx: RunContext) -> Callable[[object], Path]:
    """For the same-step design: the compiler's binary of the scheme a binary claims (built on first use)."""

    def trusted(step_kinds: object) -> Path:
        kind = verifier.runs.same_scheme_kind(ctx.model, step_kinds)
        return verifier.runs.symbolic_reference(ctx.model, ctx.crate_dir, ctx.binary, ctx.say, scheme=kind)

    return trusted


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
    """Observe an already-built ``binary`` as the verifier needs (stage *observe*) and verify it against
    ``model`` (stage *verify*).

    The building block of every run, and of the calibration bench, which runs it for many seeds on one
    binary. ``same_scheme``, for a crate not proven to be the model: given the step kinds the binary
    describes, the trusted binary of that scheme, for the same-step design. Raises `RunError` when the
    binary misbehaves. ``model`` is the one the binary was built from; with run-time values in ``options``
    the binary runs with them and the theory is the model's at those values (`values.at_values`).
    """
    timings = timings if timings is not None else {}
    options = checked(model, options)  # a public building block: its caller's values are checked here too
    model = at_values(model, options)
    with timed(timings, "simulate"):
        description, observed = observe(model, binary, options, reference, same_scheme)
    with timed(timings, "verify"):
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


def observe(
    model: SdeModel,
    binary: Path,
    options: Options,
    reference: Path | None,
    same_scheme: Callable[[object], Path] | None,
) -> tuple[dict[str, Any], Observed]:
    """The binary's description of itself, and every run of the designs `options` asks for."""
    limits = options.run_limits()
    description = describe_at(binary, replace(limits, timeout=min(limits.timeout, DESCRIBE_TIMEOUT_S)), options)
    check_binary_jail(description, options)
    trusted = same_scheme(description.get("step_kinds")) if same_scheme is not None else None
    observed = verifier.runs.observe(
        model,
        binary,
        options.runs(),
        options.reference_runs(),
        reference,
        limits=limits,
        extended=options.extended_runs(),
        extended_references=options.extended_reference_runs(),
        same_steps=options.same_step_runs() if trusted is not None else (),
        same_step_binary=trusted,
    )
    return description, observed


def describe_at(binary: Path, limits: sandbox.Limits, options: Options) -> dict[str, Any]:
    """The binary's `--describe` at the run-time values of ``options`` (``--set``/``--x0``): the parameters and
    initial state it reports are then the ones it runs with, which the verifier compares with the model at
    those values."""
    values = [a for a in options.base_run().arguments() if a.startswith(("--set=", "--x0="))]
    return describe(binary, limits=limits, arguments=values)


def check_binary_jail(description: dict[str, Any], options: Options) -> None:
    """With ``require_jail``, a binary that did not lock itself down completely is not run."""
    jail = description.get("jail")
    complete = isinstance(jail, dict) and (jail.get("landlock"), jail.get("seccomp"), jail.get("no_new_privs")) == (
        "enforced",
        "enforced",
        True,
    )
    if options.require_jail and not complete:
        raise RunError(f"--require-jail: the simulator did not lock itself down completely ({str(jail)[:200]})")


def finish(ctx: RunContext, report: Report, *, write: bool = True) -> Result:
    """The last stage: report.json's dict, written with report.md and report.html (unless ``write`` is False)."""
    data = report.to_json()
    if write:
        verifier.write_report(ctx.crate_dir, data)
    binary = ctx.binary
    return Result(
        model=ctx.model,
        crate_dir=ctx.crate_dir,
        binary=binary if binary.exists() else None,
        report=data,
        report_dir=ctx.crate_dir,
    )


@contextlib.contextmanager
def output_lock(crate_dir: Path, say: Progress) -> Iterator[None]:
    """Hold ``<out>/.architect.lock`` for a whole run and clear what a killed run left half-written.

    An output folder with symbolic links in it (or one that is a link) is refused first, before the lock
    file is created or a stale temporary deleted: every later write and deletion there is at a fixed place.
    """
    paths.refuse_links(crate_dir)
    crate_dir.mkdir(parents=True, exist_ok=True)
    with locking.hold(crate_dir / locking.LOCK_NAME, what=str(crate_dir), say=say):
        for folder in (crate_dir, crate_dir / "src", crate_dir / "bin"):
            paths.remove_stale_temporaries(folder)
        yield
