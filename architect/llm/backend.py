"""The LLM backend: the LLM writes the expressions, then check -> compile -> verify -> repair, else fall back.

On the first attempt the LLM answers greedily; only when that answer fails the free static
checks is it repaired expression by expression: the first wrong expression is written again
where the LLM was least sure of it, then sampled, the first version that passes the checks is
kept and the rest of the answer is written after it (greedy is right almost always, and a
sample costs seconds on a CPU).
Later attempts are repairs (the previous answer and everything wrong with it go back to the
LLM), ``CANDIDATES`` sampled at a temperature. The static checks pick the first candidate that
passes them; only that one is compiled. An answer must pass, in order:

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
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from architect import codegen
from architect.codegen.symbolic import render_model_rs
from architect.codegen.writer import NoCode, Progress, Written
from architect.errors import ArchitectError, UsageError
from architect.llm import prompt
from architect.llm.checks import check_completion, check_item, first_wrong_item, native_source_problems
from architect.llm.completion import Completion, CompletionError, answer_items, closed_item
from architect.model import SdeModel

if TYPE_CHECKING:
    from architect.llm.generator import Generator
    from architect.pipeline.report import Report

DEFAULT_ATTEMPTS = 4
#: Answers sampled per attempt; the static checks (no compile) pick the first that passes them.
CANDIDATES = 4
#: Wrong expressions of a greedy answer rewritten at most (`repair_items`).
MAX_ITEM_REPAIRS = 6
#: Versions of a wrong expression forked at the tokens where the LLM was least sure (`Generator.alternatives`).
ITEM_FORKS = 20
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


class LlmWriter:
    """The LLM as a `architect.pipeline.CodeWriter`: each `write` is one attempt whose answer passed the free
    static checks (answers that fail them are attempts too, repaired without compiling), and `revise` hands a
    failed crate's problems back to the LLM for the next attempt.

    ``requested``: ``llm`` (a missing LLM stack is a `UsageError`) or ``auto`` (the pipeline's next writer,
    the symbolic compiler, takes over; the report's ``llm.fallback`` says why). ``generator`` replaces the
    local model (any object with ``sample(messages, k, temperature, names=...)``). The LLM writes the
    coefficients only, so the scheme is the template's, whoever writes them.
    """

    name = "llm"

    def __init__(
        self,
        say: Progress,
        requested: str = "auto",
        generator: Generator | None = None,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        self.say, self.generator, self.attempts = say, generator, attempts
        self.run = LlmRun(requested=requested)
        self.history: tuple[prompt.Turn, ...] = ()
        self.pending: tuple[Attempt, str, float] | None = None  # the attempt being checked, its answer, its start
        self.loaded = False

    def write(self, model: SdeModel, crate_dir: Path, scheme: str) -> Written:
        generator = self._generator()
        while len(self.run.attempts) < self.attempts:
            number = len(self.run.attempts) + 1
            mode = "greedy" if not self.history else "repair"
            self.say(f"LLM attempt {number}/{self.attempts} ({mode})")
            start = time.monotonic()
            answer, completion, problems, count = _sample(generator, model, self.history, self.run)
            attempt = Attempt(number, mode, answer, "check", candidates=count)
            self.run.attempts.append(attempt)
            if completion is None:
                self._reject(attempt, answer, "check", problems, start)
                continue
            choice = codegen.choose_scheme(model, scheme)
            model_rs = render_model_rs(model, choice, completion.bodies())
            if problems := native_source_problems(model_rs):
                self._reject(attempt, answer, "source", problems, start)
                continue
            codegen.write_crate(model, crate_dir, model_rs, scheme=scheme)
            self.pending = (attempt, answer, start)
            return Written(self.name, choice.name)
        self._give_up()
        last = self.run.attempts[-1].problems if self.run.attempts else []
        raise NoCode(f"no LLM answer passed the checks in {len(self.run.attempts)} attempt(s): " + "; ".join(last[:2]))

    def revise(self, report: Report) -> bool:
        assert self.pending is not None, "revise follows write"
        attempt, answer, start = self.pending
        self.pending = None
        if report.passed:
            attempt.stage, attempt.seconds = "pass", round(time.monotonic() - start, 2)
            return False
        data = report.to_json()
        self._reject(attempt, answer, "build" if data.get("diagnostics") else "verify", report_problems(data), start)
        if len(self.run.attempts) < self.attempts:
            return True
        self._give_up()
        return False

    def annotate(self, report: Report) -> None:
        """The LLM run in the report, and the weights behind the code: the adapter's hash when the LLM wrote it."""
        report.llm = self.run.to_dict()
        report.weights = self.run.adapter_sha256 if report.backend == self.name else None

    def _generator(self) -> Generator:
        if self.generator is None:
            self.say("loading the LLM")
            start = time.monotonic()
            try:
                self.generator = load_generator()
            except ArchitectError as exc:
                if self.run.requested == "llm":
                    raise UsageError(f"--backend llm is unavailable: {exc}") from None
                self.run.fallback = f"the LLM backend is unavailable ({exc}); the symbolic compiler wrote the code"
                self.say(f"LLM unavailable, using the symbolic compiler: {exc}")
                raise NoCode(self.run.fallback) from None
            self.run.load_seconds = time.monotonic() - start
        if not self.loaded:
            _describe_generator(self.run, self.generator)
            self.loaded = True
        return self.generator

    def _reject(self, attempt: Attempt, answer: str, stage: str, problems: list[str], start: float) -> None:
        _reject(attempt, stage, problems, start)
        self.history = (prompt.Turn(answer, tuple(attempt.problems)),)

    def _give_up(self) -> None:
        if self.run.requested == "auto":
            self.run.fallback = (
                f"all {len(self.run.attempts)} LLM attempt(s) failed; the symbolic compiler wrote the code"
            )
            self.say(f"falling back to the symbolic compiler ({self.run.fallback.split(';')[0]})")


def checked_candidate(
    generator: Generator, model: SdeModel, messages: list[prompt.Message], first: bool, candidates: int = CANDIDATES
) -> tuple[str, Completion | None, list[str], int]:
    """(answer, its parsed completion or None, the problems, answers and expressions sampled) for one attempt.

    A first attempt is greedy; when the greedy answer fails the static checks, its first wrong expression
    is rewritten (`repair_items`: forked where the LLM was least sure, then sampled) and the rest of the
    answer written again after it. A repair samples ``candidates`` whole answers at once.
    """
    allowed = prompt.names(model)
    if first:
        greedy = generator.sample(messages, 1, 0.0, names=allowed)[0]
        answer, completion, problems = first_checked(model, [greedy])
        if completion is not None or candidates <= 1:
            return answer, completion, problems, 1
        repaired, sampled = repair_items(generator, model, messages, greedy, candidates)
        picked, completion, _ = first_checked(model, [repaired])
        if completion is not None:
            return picked, completion, [], 1 + sampled
        return answer, None, problems, 1 + sampled
    answers = generator.sample(messages, candidates, REPAIR_TEMPERATURE, names=allowed)
    return (*first_checked(model, answers), len(answers))


def repair_items(
    generator: Generator, model: SdeModel, messages: list[prompt.Message], answer: str, candidates: int = CANDIDATES
) -> tuple[str, int]:
    """``answer`` with its wrong expressions rewritten one at a time: (the new answer, expressions tried).

    The answer is checked expression by expression (`checks.first_wrong_item`). Everything before the first
    wrong (or unfinished) expression stays; the LLM rewrites that expression alone, first at the ``ITEM_FORKS``
    tokens where it was least sure of it (`Generator.alternatives`: the other likely token, then greedy),
    then, when none of those passes, ``candidates`` samples at ``REPAIR_TEMPERATURE``; each stops where the
    expression ends, or unfinished after `item_budget` characters. The first version that passes
    `checks.check_item` is kept and the LLM writes the rest of the answer greedily after it, stopped as soon as
    it is wrong again (`wrong_so_far`). At most
    ``MAX_ITEM_REPAIRS`` expressions are rewritten; when no version of one passes, the answer is returned as
    it stands. The LLM writes every character: the checks only choose among its own versions, as they
    choose among whole answers.
    """
    allowed = prompt.names(model)
    tried = 0
    for _ in range(MAX_ITEM_REPAIRS):
        wrong = first_wrong_item(model, answer)
        if wrong is None:
            break
        index, item = wrong
        prefix = answer[: item.start].rstrip()  # the space before the expression is the LLM's first token
        written = answer[len(prefix) : item.start + len(item.text)]
        good, count = _rewrite_item(generator, model, messages, index, prefix, written, candidates)
        tried += count
        if good is None:
            break
        prefix += good
        answer = prefix + generator.extend(messages, prefix, 1, 0.0, names=allowed, stop=wrong_so_far(model))[0]
    return answer, tried


def wrong_so_far(model: SdeModel) -> Callable[[str], bool]:
    """Whether an answer being written is already wrong: an expression it has finished fails `check_item`, or
    the one being written has run past its `item_budget` (a repetition). Each expression is checked once."""
    budgets = [item_budget(m) for m in prompt.math_items(model)]
    verdicts: dict[tuple[int, str], bool] = {}

    def wrong(answer: str) -> bool:
        for index, item in enumerate(answer_items(answer)[: len(budgets)]):
            if not item.closed:
                return len(item.text) > budgets[index]
            if (index, item.text) not in verdicts:
                verdicts[index, item.text] = bool(check_item(model, index, item.text))
            if verdicts[index, item.text]:
                return True
        return False

    return wrong


def item_budget(math: str) -> int:
    """The most characters a rewritten expression may have: its math syntax, half again for literals written
    as floats (``2`` -> ``2.0``) and powers (``**2`` -> ``.powi(2)``), 16 for each call's path (``erf(`` ->
    ``architect_sdk::erf(``, the longest), and 20 to spare. An expression that runs past it is unfinished."""
    return int(1.5 * len(math)) + 16 * math.count("(") + 20


def _rewrite_item(
    generator: Generator,
    model: SdeModel,
    messages: list[prompt.Message],
    index: int,
    prefix: str,
    written: str,
    candidates: int,
) -> tuple[str | None, int]:
    """The first version of the answer's ``index``-th expression (``written`` after ``prefix``) that passes
    `checks.check_item`, forked then sampled (`repair_items`), or None; and how many versions were tried."""
    allowed = prompt.names(model)
    chars = item_budget(prompt.math_items(model)[index])

    def passes(version: str) -> bool:  # a whole expression, with the ',' or ']' after it, that checks
        return (expr := closed_item(version)) is not None and not check_item(model, index, expr)

    forked = generator.alternatives(
        messages, prefix, written, ITEM_FORKS, names=allowed, item_chars=chars, accept=passes
    )
    if (good := next((o for o in forked if passes(o)), None)) is not None:
        return good, len(forked)
    sampled = generator.extend(messages, prefix, candidates, REPAIR_TEMPERATURE, names=allowed, item_chars=chars)
    return next((o for o in sampled if passes(o)), None), len(forked) + len(sampled)


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


def report_problems(report: dict[str, Any]) -> list[str]:
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
