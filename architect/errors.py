"""Errors architect reports to users. Each carries a message fit to print as-is.

The CLI maps `UsageError` (and its subclasses) to exit status 2, everything else
derived from `ArchitectError` to 1 — never a traceback.
"""

from __future__ import annotations


class ArchitectError(Exception):
    """Base class: something went wrong that the user should read about."""


class UsageError(ArchitectError):
    """Bad input or usage: exit status 2."""


class ModelError(UsageError):
    """The model itself is inconsistent (bad dimensions, unknown symbols, bad values)."""


class ParseError(UsageError):
    """Input text that could not be read as a model, with the position of the problem."""

    def __init__(self, reason: str, text: str = "", position: int | None = None) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        super().__init__(self.render())

    def render(self) -> str:
        if not self.text or self.position is None:
            return self.reason
        line_start = self.text.rfind("\n", 0, self.position) + 1
        line_end = self.text.find("\n", self.position)
        line = self.text[line_start : None if line_end < 0 else line_end]
        caret = " " * (self.position - line_start) + "^"
        return f"{self.reason} (at position {self.position})\n  {line}\n  {caret}"


class BuildError(ArchitectError):
    """cargo could not compile a generated crate; carries the compiler's diagnostics."""

    def __init__(self, message: str, diagnostics: str = "") -> None:
        self.diagnostics = diagnostics
        super().__init__(message)


class RunError(ArchitectError):
    """The simulator binary misbehaved (crash, timeout, unreadable output)."""
