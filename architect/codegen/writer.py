"""The contract between the pipeline and whoever writes a crate's model code (the symbolic compiler, the LLM).

It sits below both: `architect.pipeline` asks writers in turn (`pipeline.run.compose`), and
`architect.llm.backend.LlmWriter` implements it without importing the pipeline. The concrete writers that
need no LLM are in `architect.pipeline.writers`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from architect.errors import ArchitectError
from architect.model import SdeModel

if TYPE_CHECKING:  # a type only: the report is the pipeline's, built above this module
    from architect.pipeline.report import Report

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Written:
    """A crate a writer has just written into the run's folder."""

    backend: str  # who wrote the code, as report.json's ``backend`` names it
    scheme_name: str | None  # the scheme it wrote, for a binary that does not describe its own
    # The symbolic compiler's own code: its binary is its own trusted reference (`verifier.runs`).
    trusted: bool = False


class NoCode(ArchitectError):
    """A writer has no (more) code to offer; the message says why."""


class CodeWriter(Protocol):
    """Writes ``src/model.rs`` (and architect's skeleton around it) for a model."""

    @property
    def name(self) -> str:
        """report.json's ``backend`` when no code was written at all."""
        ...

    def write(self, model: SdeModel, crate_dir: Path, scheme: str) -> Written:
        """Write the crate into ``crate_dir`` with the scheme kind ``scheme`` (`codegen.SCHEME_KINDS`), or
        raise `NoCode`."""
        ...

    def revise(self, report: Report) -> bool:
        """The checked crate's report; True when the writer wants to write again (a repair)."""
        ...

    def annotate(self, report: Report) -> None:
        """Add what this writer knows to the run's final report (called for every writer asked)."""
        ...
