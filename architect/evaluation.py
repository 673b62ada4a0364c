"""The evaluation table: held-out prompts through the base model, the fine-tuned model and the symbolic compiler.

`architect eval` (or `python finetune/eval.py`) runs the held-out split of the corpus and
reports, per system: compile rate, verified pass@1 and pass@4 (the unbiased estimator of Chen
et al. 2021 from n independent samples per model), the end-to-end success of the backend's own
loop (greedy first, its wrong expressions rewritten only when it fails the static checks; up to 3 repairs) and
the repairs it needed, tokens/s, and seconds per model.

A sample counts as *compiled* when it passes the static checks and `cargo build`, and as
*verified* when the statistical verifier passes it, exactly as `architect generate` judges it.
Identical model.rs sources are built and verified once (same source, same binary, same seeds).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from architect import codegen, paths, pipeline
from architect.llm import prompt
from architect.llm.backend import DEFAULT_ATTEMPTS, checked_candidate, report_problems
from architect.llm.checks import check_completion, native_source_problems
from architect.llm.completion import CompletionError
from architect.model import SdeModel
from architect.options import DEFAULTS, Options

SAMPLES = 4
SAMPLE_TEMPERATURE = 0.7


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples with c correct: 1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@dataclass
class Judged:
    stage: str  # check | source | build | verify | pass
    problems: list[str]
    seconds: float  # build + simulate + verify (0 when rejected before compiling)

    @property
    def compiled(self) -> bool:
        return self.stage in ("verify", "pass")

    @property
    def passed(self) -> bool:
        return self.stage == "pass"


@dataclass
class Judge:
    """Builds and verifies model.rs sources, once per distinct source."""

    options: Options
    work: Path
    cache: dict[str, Judged] = field(default_factory=dict)

    def source(self, model: SdeModel, model_rs: str) -> Judged:
        key = hashlib.sha256((model.to_json() + model_rs).encode()).hexdigest()
        if key not in self.cache:
            self.cache[key] = self._build_and_verify(model, model_rs, key)
        return self.cache[key]

    def answer(self, model: SdeModel, answer: str) -> Judged:
        try:
            completion = check_completion(model, answer)
        except CompletionError as exc:
            return Judged("check", exc.problems, 0.0)
        model_rs = codegen.render_model_rs(model, codegen.choose_scheme(model), completion.bodies())
        if problems := native_source_problems(model_rs):
            return Judged("source", problems, 0.0)
        return self.source(model, model_rs)

    def _build_and_verify(self, model: SdeModel, model_rs: str, key: str) -> Judged:
        crate = self.work / key[:16]
        start = time.monotonic()
        run = pipeline.RunContext(model, crate, self.options, lambda _: None)
        # The report stays in memory: only its verdict and problems count here.
        result = pipeline.execute(run, [pipeline.SourceWriter(model_rs, "eval")], write=False)
        seconds = time.monotonic() - start
        if result.passed:
            return Judged("pass", [], seconds)
        stage = "build" if result.report.get("diagnostics") else "verify"
        return Judged(stage, report_problems(result.report), seconds)


# ----------------------------------------------------------------------------- per model
@dataclass
class ModelScore:
    name: str
    held_out: str
    samples: int
    compiled: int
    verified: int
    loop_passed: bool
    repairs: int
    seconds: float  # end to end: generation of the loop's answers + build/verify of the one it accepted
    new_tokens: int
    generation_seconds: float


def score_llm(generator: Any, model: SdeModel, held_out: str, judge: Judge, samples: int) -> ModelScore:
    """The backend loop (greedy, then repairs) and ``samples`` independent samples for pass@k."""
    stats = generator.stats
    tokens0, seconds0 = stats.new_tokens, stats.seconds
    history: tuple[prompt.Turn, ...] = ()
    loop_passed, repairs, verify_seconds = False, 0, 0.0
    for attempt in range(DEFAULT_ATTEMPTS):
        answer, _, _, _ = checked_candidate(generator, model, prompt.messages(model, history), first=attempt == 0)
        judged = judge.answer(model, answer)
        verify_seconds += judged.seconds
        if judged.passed:
            loop_passed, repairs = True, attempt
            break
        history = (prompt.Turn(answer, tuple(judged.problems)),)
        repairs = attempt  # repairs tried so far (the first attempt is not a repair)
    loop_seconds = stats.seconds - seconds0 + verify_seconds
    loop_tokens = stats.new_tokens - tokens0
    messages, names = prompt.messages(model), prompt.names(model)
    answers = generator.sample(messages, samples, SAMPLE_TEMPERATURE, names=names) if samples else []
    judged_samples = [judge.answer(model, a) for a in answers]
    return ModelScore(
        name=model.name,
        held_out=held_out,
        samples=len(answers),
        compiled=sum(j.compiled for j in judged_samples),
        verified=sum(j.passed for j in judged_samples),
        loop_passed=loop_passed,
        repairs=repairs,
        seconds=round(loop_seconds, 2),
        new_tokens=loop_tokens,
        generation_seconds=round(stats.seconds - seconds0, 2),
    )


def score_symbolic(model: SdeModel, held_out: str, judge: Judge) -> ModelScore:
    start = time.monotonic()
    model_rs = codegen.render_model_rs(model, codegen.choose_scheme(model))
    render = time.monotonic() - start
    # judged.seconds is the build + simulate + verify time, also when the LLM already wrote this source.
    judged = judge.source(model, model_rs)
    seconds = render + judged.seconds
    ok = int(judged.passed)
    return ModelScore(model.name, held_out, 1, int(judged.compiled), ok, bool(ok), 0, round(seconds, 2), 0, 0.0)


# ----------------------------------------------------------------------------- the table
def summarise(system: str, scores: list[ModelScore]) -> dict[str, Any]:
    n_samples = sum(s.samples for s in scores)
    usable = [s for s in scores if s.samples >= 1]
    k4 = [s for s in usable if s.samples >= 4]
    generation = sum(s.generation_seconds for s in scores)
    return {
        "system": system,
        "models": len(scores),
        "samples_per_model": max((s.samples for s in scores), default=0),
        "compile_rate": round(sum(s.compiled for s in scores) / n_samples, 4) if n_samples else None,
        "pass@1": _mean([pass_at_k(s.samples, s.verified, 1) for s in usable]),
        "pass@4": _mean([pass_at_k(s.samples, s.verified, 4) for s in k4]) if k4 else None,
        "loop_success": _mean([float(s.loop_passed) for s in scores]),
        "first_attempt": _mean([float(s.loop_passed and s.repairs == 0) for s in scores]),
        "mean_repairs": _mean([float(s.repairs) for s in scores if s.loop_passed]),
        "tokens_per_second": round(sum(s.new_tokens for s in scores) / generation, 1) if generation else None,
        "seconds_per_model": _mean([s.seconds for s in scores]),
        "seconds_per_model_max": round(max((s.seconds for s in scores), default=0.0), 2),
        "by_held_out": {
            reason: _mean([pass_at_k(s.samples, s.verified, 1) for s in usable if s.held_out == reason])
            for reason in sorted({s.held_out for s in usable})
        },
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def markdown(rows: list[dict[str, Any]]) -> str:
    head = (
        "| system | models | compile rate | verified pass@1 | pass@4 | loop success (≤4 tries) | first attempt "
        "| mean repairs | tokens/s | s per model (mean / max) |\n|---|---|---|---|---|---|---|---|---|---|\n"
    )
    return head + "".join(
        f"| {r['system']} | {r['models']} | {_pct(r['compile_rate'])} | {_pct(r['pass@1'])} | {_pct(r['pass@4'])} "
        f"| {_pct(r['loop_success'])} | {_pct(r.get('first_attempt'))} | {_num(r['mean_repairs'])} "
        f"| {_num(r['tokens_per_second'])} "
        f"| {_num(r['seconds_per_model'])} / {_num(r['seconds_per_model_max'])} |\n"
        for r in rows
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


# ----------------------------------------------------------------------------- running it
def load_test(path: Path, limit: int | None) -> list[tuple[SdeModel, str]]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(SdeModel.from_dict(r["model"]), r.get("held_out", "")) for r in records][:limit]


def evaluate(
    systems: list[str],
    test: list[tuple[SdeModel, str]],
    samples: int,
    make_generator: Callable[[str], Any],
    options: Options,
    base_limit: int | None = None,
    log: Callable[[str], None] = print,
    on_row: Callable[[list[dict[str, Any]]], None] | None = None,
) -> list[dict[str, Any]]:
    """One row per system; ``on_row`` gets the rows so far after each system (a long run saves as it goes)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="architect-eval-") as tmp:
        judge = Judge(options, Path(tmp))
        for system in systems:
            scores = []
            subset = test[:base_limit] if system == "base" and base_limit else test
            generator = make_generator(system) if system != "symbolic" else None
            for i, (model, held_out) in enumerate(subset):
                if generator is None:
                    score = score_symbolic(model, held_out, judge)
                else:
                    score = score_llm(generator, model, held_out, judge, samples)
                scores.append(score)
                log(f"[{system} {i + 1}/{len(subset)}] {model.name}: {score.verified}/{score.samples} verified, "
                    f"loop {'pass' if score.loop_passed else 'FAIL'} after {score.repairs} repair(s), "
                    f"{score.seconds:.1f}s")  # fmt: skip
            row = summarise(system, scores)
            row["per_model"] = [s.__dict__ for s in scores]
            rows.append(row)
            if on_row is not None:
                on_row(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    root = paths.repo_root()
    parser = argparse.ArgumentParser(prog="architect eval", description=__doc__)
    parser.add_argument("--test", type=Path, default=root / "corpus" / "test.jsonl")
    parser.add_argument("--systems", default="finetuned,base,symbolic", help="comma list of base, finetuned, symbolic")
    parser.add_argument("--limit", type=int, default=None, help="only the first N held-out models")
    parser.add_argument("--base-limit", type=int, default=12, help="models for the base model (it is slow and 0%%)")
    parser.add_argument("--samples", type=int, default=SAMPLES, help="samples per model for pass@k")
    parser.add_argument("--adapter", type=Path, default=paths.adapter_dir())
    parser.add_argument("--base", default=None, help="another base model folder or hub name")
    parser.add_argument("--max-new-tokens", type=int, default=200)
    parser.add_argument("--paths", type=int, default=DEFAULTS.paths, help="paths per verification run")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON results here (and .md beside it)")
    args = parser.parse_args(argv)

    def make_generator(system: str) -> Any:
        from architect.llm.generator import LocalGenerator

        adapter = args.adapter if system == "finetuned" else None
        return LocalGenerator(base=args.base, adapter=adapter, max_new_tokens=args.max_new_tokens)

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    test = load_test(args.test, args.limit)

    def save(rows: list[dict[str, Any]]) -> None:
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"test": str(args.test), "rows": rows}, indent=1) + "\n")
            args.out.with_suffix(".md").write_text(markdown(rows))

    options = Options(paths=args.paths)
    rows = evaluate(systems, test, args.samples, make_generator, options, args.base_limit, on_row=save)
    print(markdown(rows))
    return 0
