"""One run of architect, from a model to its verified binary and report (issue #15).

Stages, in order, on one `RunContext`: write code (a `CodeWriter`: the symbolic compiler, the LLM, or a crate
already on disk) -> gate -> prove -> build -> reference binaries -> observe -> verify -> write report. The
report is one `Report`, whose `Report.to_json` is the only maker of report.json's dict; model.json is written
only by `execute`. `architect.api` and `architect.cli` are thin shells over this package, and the LLM
backend (`architect.llm.backend.LlmWriter`) is one more writer, followed by the compiler as a fallback.

- `architect.pipeline.writers`: `CodeWriter`, `Written`, `NoCode` and the writers that need no LLM;
- `architect.pipeline.run`: the stages, `compose` (writers in turn), `execute` (a whole run), `check_binary`;
- `architect.pipeline.report`: `Report` and its setting.
"""

from architect.pipeline.report import Report
from architect.pipeline.run import (
    Checked,
    Result,
    RunContext,
    check,
    check_binary,
    compose,
    execute,
    output_lock,
    timed,
)
from architect.pipeline.writers import (
    CodeWriter,
    ExistingCrate,
    NoCode,
    Progress,
    SourceWriter,
    SymbolicWriter,
    Written,
)

__all__ = [
    "Checked",
    "CodeWriter",
    "ExistingCrate",
    "NoCode",
    "Progress",
    "Report",
    "Result",
    "RunContext",
    "SourceWriter",
    "SymbolicWriter",
    "Written",
    "check",
    "check_binary",
    "compose",
    "execute",
    "output_lock",
    "timed",
]
