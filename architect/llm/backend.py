"""The LLM backend: the LLM writes the expressions, then check -> compile -> verify -> repair, else fall back.

On the first attempt the LLM answers greedily; only when that answer fails the free static
checks are ``CANDIDATES - 1`` more sampled (greedy is right almost always, and a sample costs
seconds on a CPU). Later attempts are repairs (the previous answer and everything wrong with it
go back to the LLM), ``CANDIDATES`` sampled at a temperature. The static checks pick the first
candidate that passes them; only that one is compiled. An answer must pass, in order:

1. the strict format parser and whitelist (`completion`), and the numeric comparison with
   the model's own equations (`checks`) -- no compile is spent on a wrong expression;
2. the native Rust-source gate, when the native module has it;
3. `cargo build` of the crate (the fixed skeleton around the answer);
4. the statistical verifier, exactly as for the symbolic backend.

``auto`` falls back to the symbolic compiler when every attempt fails or the LLM stack or
weights are missing; ``llm`` reports the failure instead. The report says which backend wrote
the code, every attempt, and the base model and adapter hash.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from architect import codegen, paths
from architect.codegen.symbolic import render_model_rs
from architect.errors import ArchitectError, UsageError
from architect.llm import prompt
from architect.llm.checks import check_completion, native_source_problems
from architect.llm.completion import Completion, CompletionError
from architect.model import SdeModel

if TYPE_CHECKING:
    from architect.api import Options, Progress, Result
    from architect.llm.generator import Generator

DEFAULT_ATTEMPTS = 4
#: Answers sampled per attempt; the static checks (no compile) pick the first that passes them.
CANDIDATES = 4
REPAIR_TEMPERATURE = 0.7
MAX_REPORTED_PROBLEMS = 6


@dataclass
class Attempt:
    number: int
    mode: str  # greedy | repair
    answer: str
    stage: str  # where it stopped: check | source | build | verify | pass
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    candidates: int = 1


@dataclass
class LlmRun:
    requested: str
    base: str | None = None
    adapter: str | None = None
    adapter_sha256: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    fallback: str | None = None
    load_seconds: float = 0.0
    generation_seconds: float = 0.0
    new_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["repairs"] = max(0, len(self.attempts) - 1)
        data["tokens_per_second"] = (
            round(self.new_tokens / self.generation_seconds, 1) if self.generation_seconds else 0
        )
        data["load_seconds"] = round(self.load_seconds, 2)
        data["generation_seconds"] = round(self.generation_seconds, 2)
        return data


def load_generator(base: str | None = None, adapter: Path | None = None) -> Generator:
    """The default local generator (base model + committed adapter); raises `ArchitectError` when unavailable.

    Loaded once per process: later calls (the API in a loop, the test-suite) reuse it.
    """
    from architect.llm.generator import default_adapter, llm_stack_problem

    if (problem := llm_stack_problem()) is not None:
        raise ArchitectError(problem)
    return _cached_generator(base, adapter if adapter is not None else default_adapter())


@functools.cache
def _cached_generator(base: str | None, adapter: Path) -> Generator:
    from architect.llm.generator import LocalGenerator

    return LocalGenerator(base=base, adapter=adapter)


def generate_llm(
    model: SdeModel,
    crate_dir: Path,
    options: Options,
    timings: dict[str, float],
    say: Progress,
    backend: str = "auto",
    generator: Generator | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    scheme: str = "auto",
) -> Result:
    """Write the crate with the LLM (repairing up to ``attempts`` times), build and verify it.

    ``scheme`` is the step kind asked for (`codegen.choose_scheme`); the LLM writes the coefficients
    only, so the scheme is the template's, whoever writes them, and the fallback keeps it.
    """
    run = LlmRun(requested=backend)
    if generator is None:
        say("loading the LLM")
        start = time.monotonic()
        try:
            generator = load_generator()
        except ArchitectError as exc:
            return _unavailable(model, crate_dir, options, timings, say, run, str(exc), scheme)
        run.load_seconds = time.monotonic() - start
    _describe_generator(run, generator)
    result = _attempts(model, crate_dir, options, timings, say, run, generator, attempts, scheme)
    if result is not None and result.passed:
        return _finish(result, run, "llm")
    if backend == "llm":
        return _finish(result, run, "llm") if result is not None else _llm_failed(model, crate_dir, options, run)
    run.fallback = f"all {len(run.attempts)} LLM attempt(s) failed; the symbolic compiler wrote the code"
    say(f"falling back to the symbolic compiler ({run.fallback.split(';')[0]})")
    return _finish(_symbolic(model, crate_dir, options, timings, say, scheme), run, "symbolic")


def _attempts(
    model: SdeModel,
    crate_dir: Path,
    options: Options,
    timings: dict[str, float],
    say: Progress,
    run: LlmRun,
    generator: Generator,
    attempts: int,
    scheme_kind: str = "auto",
) -> Result | None:
    from architect.api import _build_and_verify, _timed

    history: tuple[prompt.Turn, ...] = ()
    last: Result | None = None
    for number in range(1, attempts + 1):
        mode = "greedy" if not history else "repair"
        say(f"LLM attempt {number}/{attempts} ({mode})")
        start = time.monotonic()
        with _timed(timings, "llm"):
            answer, completion, problems, count = _sample(generator, model, history, run)
        attempt = Attempt(number, mode, answer, "check", candidates=count)
        run.attempts.append(attempt)
        if completion is None:
            _reject(attempt, "check", problems, start)
            history = (prompt.Turn(answer, tuple(attempt.problems)),)
            continue
        scheme = codegen.choose_scheme(model, scheme_kind)
        model_rs = render_model_rs(model, scheme, completion.bodies())
        if problems := native_source_problems(model_rs):
            _reject(attempt, "source", problems, start)
            history = (prompt.Turn(answer, tuple(attempt.problems)),)
            continue
        with _timed(timings, "codegen"):
            codegen.write_crate(model, crate_dir, model_rs, scheme=scheme_kind)
            paths.write_atomic(crate_dir / "model.json", model.to_json())
        last = _build_and_verify(model, crate_dir, scheme.name, options, timings, say, "llm")
        if last.passed:
            attempt.stage, attempt.seconds = "pass", round(time.monotonic() - start, 2)
            return last
        stage = "build" if last.report.get("diagnostics") else "verify"
        _reject(attempt, stage, _report_problems(last.report), start)
        history = (prompt.Turn(answer, tuple(attempt.problems)),)
    return last


def checked_candidate(
    generator: Generator, model: SdeModel, messages: list[prompt.Message], first: bool, candidates: int = CANDIDATES
) -> tuple[str, Completion | None, list[str], int]:
    """(answer, its parsed completion or None, the problems, answers sampled) for one attempt.

    A first attempt is greedy, and samples ``candidates - 1`` more only when the greedy answer
    fails the static checks; a repair samples ``candidates`` at once.
    """
    allowed = prompt.names(model)
    if first:
        greedy = generator.sample(messages, 1, 0.0, names=allowed)
        answer, completion, problems = first_checked(model, greedy)
        if completion is not None or candidates <= 1:
            return answer, completion, problems, 1
        more = generator.sample(messages, candidates - 1, REPAIR_TEMPERATURE, names=allowed)
        picked, completion, _ = first_checked(model, more)
        if completion is not None:
            return picked, completion, [], candidates
        return answer, None, problems, candidates
    answers = generator.sample(messages, candidates, REPAIR_TEMPERATURE, names=allowed)
    return (*first_checked(model, answers), len(answers))


def first_checked(model: SdeModel, answers: list[str]) -> tuple[str, Completion | None, list[str]]:
    """The first answer that passes the static checks (free: no compile), else the first answer and its problems."""
    problems: list[str] = []
    for i, answer in enumerate(answers):
        try:
            return answer, check_completion(model, answer), []
        except CompletionError as exc:
            if i == 0:
                problems = exc.problems
    return answers[0], None, problems


def _sample(
    generator: Generator, model: SdeModel, history: tuple[prompt.Turn, ...], run: LlmRun
) -> tuple[str, Completion | None, list[str], int]:
    stats = getattr(generator, "stats", None)
    before = (stats.new_tokens, stats.seconds) if stats is not None else (0, 0.0)
    start = time.monotonic()
    picked = checked_candidate(generator, model, prompt.messages(model, history), first=not history)
    if stats is not None:
        run.new_tokens += stats.new_tokens - before[0]
        run.generation_seconds += stats.seconds - before[1]
    else:
        run.generation_seconds += time.monotonic() - start
    return picked


def _reject(attempt: Attempt, stage: str, problems: list[str], start: float) -> None:
    attempt.stage = stage
    attempt.problems = problems[:MAX_REPORTED_PROBLEMS]
    attempt.seconds = round(time.monotonic() - start, 2)


def _report_problems(report: dict[str, Any]) -> list[str]:
    """What a failed build or verification says, short enough to hand back to the LLM."""
    if report.get("diagnostics"):
        errors = [line for line in str(report["diagnostics"]).splitlines() if line.startswith("error")]
        return ["the crate does not compile: " + "; ".join(errors[:3] or [str(report["reason"])[:300]])]
    failed = [c for c in report.get("checks", []) if not c.get("passed")]
    details = [f"check failed: {c['name']}: {c.get('detail', '')}"[:300] for c in failed[:MAX_REPORTED_PROBLEMS]]
    return details or [f"verification failed: {report.get('reason', '')}"[:300]]


def _describe_generator(run: LlmRun, generator: Generator) -> None:
    run.base = getattr(generator, "name", type(generator).__name__)
    adapter = getattr(generator, "adapter", None)
    run.adapter = str(adapter) if adapter is not None else None
    run.adapter_sha256 = getattr(generator, "adapter_sha256", None)
    stats = getattr(generator, "stats", None)
    if stats is not None and not run.load_seconds:
        run.load_seconds = getattr(stats, "load_seconds", 0.0)


def _symbolic(
    model: SdeModel, crate_dir: Path, options: Options, timings: dict[str, float], say: Progress, scheme: str
) -> Result:
    from architect.api import _build_and_verify, _timed

    say(f"generating the crate in {crate_dir} (symbolic compiler)")
    with _timed(timings, "codegen"):
        generated = codegen.write_crate(model, crate_dir, scheme=scheme)
        paths.write_atomic(crate_dir / "model.json", model.to_json())
    return _build_and_verify(model, crate_dir, generated.scheme.name, options, timings, say, "symbolic")


def _unavailable(
    model: SdeModel,
    crate_dir: Path,
    options: Options,
    timings: dict[str, float],
    say: Progress,
    run: LlmRun,
    why: str,
    scheme: str,
) -> Result:
    if run.requested == "llm":
        raise UsageError(f"--backend llm is unavailable: {why}")
    run.fallback = f"the LLM backend is unavailable ({why}); the symbolic compiler wrote the code"
    say(f"LLM unavailable, using the symbolic compiler: {why}")
    return _finish(_symbolic(model, crate_dir, options, timings, say, scheme), run, "symbolic")


def _llm_failed(model: SdeModel, crate_dir: Path, options: Options, run: LlmRun) -> Result:
    """--backend llm and no answer ever reached the compiler: a failed report, no crate code."""
    from architect.api import Result, _base_report
    from architect.verifier import write_report

    crate_dir.mkdir(parents=True, exist_ok=True)
    paths.write_atomic(crate_dir / "model.json", model.to_json())
    report = _base_report(model, crate_dir, crate_dir / "bin" / model.slug, options, "llm", {})
    last = run.attempts[-1].problems if run.attempts else []
    report.update(verdict="fail", reason=f"no LLM answer passed the checks in {len(run.attempts)} attempt(s): "
                  + "; ".join(last[:2]))  # fmt: skip
    result = Result(model=model, crate_dir=crate_dir, binary=None, report=report, report_dir=crate_dir)
    return _finish(result, run, "llm", write=write_report)


def _finish(result: Result, run: LlmRun, used: str, write: Any = None) -> Result:
    """Record the LLM run and the backend that wrote the code in the report, and rewrite it."""
    from architect.verifier import write_report

    result.report["backend"] = used
    result.report["llm"] = run.to_dict()
    # The weights behind the code: the adapter's hash when the LLM wrote it (reproducibility, issue 6).
    result.report.setdefault("versions", {})["weights"] = run.adapter_sha256 if used == "llm" else None
    (write or write_report)(result.crate_dir, result.report)
    return result
