"""The fixed sets of values that travel between stages and into report.json, as `Literal` types.

The lowest layer of the package: it imports nothing from architect, so every stage (the verifier, the LLM
backend, the pipeline, the CLI) can type its fields with these names. A value outside a set is a type error
under mypy; at run time they are plain strings, so report.json does not change.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

#: The backend a user asks for (`architect generate --backend`).
BackendChoice = Literal["auto", "llm", "symbolic"]
#: Who wrote the simulator's code (report.json's ``backend``): the compiler, the LLM, a crate already on
#: disk (`architect verify`), or the LLM evaluation's own writer (`architect eval`).
CodeWriter = Literal["symbolic", "llm", "existing crate", "eval"]
#: Either of the above: every value a ``backend`` field takes.
Backend = Literal[BackendChoice, CodeWriter]

#: A verification's outcome (report.json's ``verdict``).
Verdict = Literal["pass", "fail"]

#: A moment the verifier estimates (`verifier.quantities.Quantity.kind`).
QuantityKind = Literal["mean", "variance", "covariance", "third moment", "fourth moment"]
#: What one check tests (`verifier.check_result.Check.kind`).
CheckKind = Literal[QuantityKind, "distribution", "price", "convergence", "sanity"]
#: Where a statistical check's theory comes from (`Check.theory_kind`); a sanity check has none.
TheoryKind = Literal["exact", "empirical reference", "trusted scheme, same steps"]

#: Where an LLM attempt stopped (`llm.backend.Attempt.stage`): the expression checker, the generated
#: source, the build, the verifier, or it passed.
AttemptStage = Literal["check", "source", "build", "verify", "pass"]

BACKEND_CHOICES: Final[tuple[BackendChoice, ...]] = get_args(BackendChoice)
VERDICTS: Final[tuple[Verdict, ...]] = get_args(Verdict)
CHECK_KINDS: Final[tuple[CheckKind, ...]] = get_args(CheckKind)  # nested Literals flatten
