"""Who writes a crate's model code: the `CodeWriter` protocol and the writers that need no LLM.

A run asks its writers in turn (`architect.pipeline.run.compose`): each writes a crate, the pipeline checks
it, and the writer may revise it (the LLM repairs) or give up (`NoCode`), and the next writer takes over
(the symbolic compiler after the LLM). The LLM's writer is `architect.llm.backend.LlmWriter`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from architect import codegen, paths
from architect.codegen.writer import CodeWriter, NoCode, Progress, Written
from architect.model import SdeModel

if TYPE_CHECKING:
    from architect.pipeline.report import Report

__all__ = ["CodeWriter", "ExistingCrate", "NoCode", "Progress", "SourceWriter", "SymbolicWriter", "Written"]


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
