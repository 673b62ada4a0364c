"""Who writes a crate's model code: the `CodeWriter` protocol and the writers that need no LLM.

A run asks its writers in turn (`architect.pipeline.run.compose`): each writes a crate, the pipeline checks
it, and the writer may revise it (the LLM repairs) or give up (`NoCode`), and the next writer takes over
(the symbolic compiler after the LLM). The LLM's writer is `architect.llm.backend.LlmWriter`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from architect import codegen, paths
from architect.errors import ArchitectError
from architect.model import SdeModel

if TYPE_CHECKING:
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


class SymbolicWriter:
    """The symbolic compiler (`architect.codegen`): the trusted writer."""

    name = "symbolic"

    def __init__(self, say: Progress) -> None:
        self.say = say

    def write(self, model: SdeModel, crate_dir: Path, scheme: str) -> Written:
        self.say(f"generating the crate in {crate_dir} (symbolic compiler)")
        generated = codegen.write_crate(model, crate_dir, scheme=scheme)
        return Written(self.name, generated.scheme.name, trusted=True)

    def revise(self, report: Report) -> bool:
        return False

    def annotate(self, report: Report) -> None:
        pass


class SourceWriter:
    """A given ``src/model.rs`` (an LLM answer being evaluated) in architect's skeleton."""

    def __init__(self, model_rs: str, name: str) -> None:
        self.model_rs, self.name = model_rs, name

    def write(self, model: SdeModel, crate_dir: Path, scheme: str) -> Written:
        generated = codegen.write_crate(model, crate_dir, self.model_rs, scheme=scheme)
        return Written(self.name, generated.scheme.name)

    def revise(self, report: Report) -> bool:
        return False

    def annotate(self, report: Report) -> None:
        pass


class ExistingCrate:
    """A crate already on disk (`architect verify`): architect's own files that are missing are written back."""

    name = "existing crate"

    def __init__(self, say: Progress) -> None:
        self.say = say

    def write(self, model: SdeModel, crate_dir: Path, scheme: str) -> Written:
        for relative, text in codegen.fixed_files(model).items():
            if not (crate_dir / relative).exists() and not (crate_dir / relative).is_symlink():
                self.say(f"restoring architect's {relative}")
                paths.write_atomic(crate_dir / relative, text, within=crate_dir)
        return Written(self.name, None)

    def revise(self, report: Report) -> bool:
        return False

    def annotate(self, report: Report) -> None:
        pass
