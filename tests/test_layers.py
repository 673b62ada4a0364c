"""Structure the import-linter contracts (pyproject.toml, run by `make lint`) cannot state: no module takes a
private name from another, and the training-data code stays out of the runtime package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "architect"
#: The PyO3 extension is private to the package by name only: its Python face is each module that wraps it.
ALLOWED = {"_native", "__version__"}


def _imports(path: Path) -> list[tuple[int, str, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        (node.lineno, node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("architect")
        for alias in node.names
    ]


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: from {module} import {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, module, name in _imports(path)
        if name.startswith("_") and name not in ALLOWED
    ]
    assert not offenders, "\n".join(offenders)


def test_the_runtime_package_does_not_import_training_code() -> None:
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}: {line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in path.read_text().splitlines()
        if line.lstrip().startswith(("import training", "from training"))
    ]
    assert not offenders, "\n".join(offenders)
