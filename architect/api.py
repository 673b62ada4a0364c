"""The Python API: parse, generate, verify. The CLI is a thin shell over these three.

>>> import architect
>>> result = architect.generate("Heston with mean reversion")
>>> result.passed, result.binary, result.report["verdict"]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from architect import bounded, codegen, paths, pipeline
from architect import parser as parsing
from architect.errors import ModelError, UsageError
from architect.model import SdeModel
from architect.options import Options
from architect.pipeline import Checked, Progress, Result, check_binary
from architect.pipeline.reader import READERS, Reading

DEFAULT_OUT = Path("architect-out")
#: A model file is untrusted input (it comes with a crate folder); real ones are a few KiB.
MAX_MODEL_FILE_BYTES = 10 * 1024 * 1024
BACKENDS = ("auto", "llm", "symbolic")


def parse(text: str, *, reader: str = "none", generator: Any = None) -> SdeModel:
    """Read a model name, equations or LaTeX into an `SdeModel` (raises `ParseError`).

    ``reader``: ``none`` (the grammar only, the default here), ``llm`` or ``auto``: when the grammar cannot read
    the text, the LLM rewrites it into canonical syntax for the grammar (`read`)."""
    if reader == "none":
        return parsing.parse(text)
    return read(text, reader=reader, generator=generator).model


def read(text: str, *, reader: str = "auto", generator: Any = None) -> Reading:
    """The model of ``text`` and, when the grammar could not read it, the LLM's canonical rewrite that it was
    read as (``Reading.rewrite``; the model's first note says ``read as: ...`` too). ``generator`` replaces the
    reader LLM (any object with ``sample(messages, k, temperature)``). See `architect.pipeline.reader`."""
    from architect.pipeline import reader as reading

    return reading.read(text, reader=reader, generator=generator)


def generate(
    text: str | SdeModel,
    *,
    out: str | Path | None = None,
    backend: str = "symbolic",
    options: Options | None = None,
    progress: Progress | None = None,
    scheme: str = "auto",
    generator: Any = None,
    reader: str = "none",
) -> Result:
    """Parse, generate a crate, build, simulate and verify; everything lands in ``out``.

    ``backend``: ``symbolic`` (the compiler), ``llm`` (the fine-tuned LLM writes the expressions,
    checked, compiled and verified, repaired on failure) or ``auto`` (``llm``, falling back to
    ``symbolic``). ``generator`` replaces the LLM (any object with ``sample(messages, k, temperature)``).
    ``reader``: who reads a text the grammar cannot (`parse`): ``none`` (the default here), ``llm`` or ``auto``.
    ``scheme``: "auto" (the exact transition law where the model has one, else a discretisation
    chosen from its structure), "exact" (insist on the exact law) or "euler" (plain Euler-Maruyama).
    """
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    options = options or Options()
    options.check_jail()
    say = progress or (lambda _line: None)
    timings: dict[str, float] = {}
    with pipeline.timed(timings, "parse"):
        model = text if isinstance(text, SdeModel) else parse(text, reader=reader)
    backend, backend_note = _backend_for(model, backend)
    if backend_note:
        say(backend_note)
    codegen.choose_scheme(model, scheme)  # a scheme the model cannot take fails here, before any LLM loads
    crate_dir = Path(out) if out is not None else DEFAULT_OUT / model.slug
    writers: list[pipeline.CodeWriter] = []
    if backend != "symbolic":
        from architect.llm.backend import LlmWriter

        writers.append(LlmWriter(say, requested=backend, generator=generator))
    if backend != "llm":
        writers.append(pipeline.SymbolicWriter(say))
    run = pipeline.RunContext(model, crate_dir, options, say, scheme, timings, backend_note)
    return pipeline.execute(run, writers)


def _backend_for(model: SdeModel, backend: str) -> tuple[str, str]:
    """The backend that writes ``model``, and a note when it is not the one asked for.

    The LLM was trained on diffusions only (its prompt and checks know drift, diffusion and correlation, not
    jumps), so it cannot write a jump model: ``llm`` is refused, ``auto`` goes straight to the compiler."""
    if not model.jumps or backend == "symbolic":
        return backend, ""
    if backend == "llm":
        raise UsageError(
            f"--backend llm cannot write {model.name}: the LLM backend does not know jumps (it writes drift, "
            "diffusion and correlation only); use --backend symbolic or auto"
        )
    return "symbolic", "backend auto: the LLM backend does not know jumps, so the symbolic compiler writes this model"


def verify(
    crate_dir: str | Path,
    *,
    model: SdeModel | str | Path | None = None,
    options: Options | None = None,
    progress: Progress | None = None,
) -> Result:
    """Rebuild an existing (possibly hand-edited) crate and verify it against its model.

    The crate is untrusted: its layout and `src/model.rs` pass the static gate (`architect.gate`)
    before anything is compiled. A missing `Cargo.toml` or `src/main.rs` is written back (they
    are architect's own files); ones that differ from architect's are rejected. A folder that is a
    symbolic link, or holds one at its top level or in `src/` or `bin/`, is refused (`UsageError`)
    before anything is read, written or deleted (`paths.refuse_links`).
    """
    crate_dir = Path(crate_dir)
    options = options or Options()
    options.check_jail()
    paths.refuse_links(crate_dir)
    if not (crate_dir / "src" / "model.rs").is_file():
        raise UsageError(f"{crate_dir} is not a generated crate (no src/model.rs)")
    model = _load_model(model if model is not None else crate_dir / "model.json")
    say = progress or (lambda _line: None)
    run = pipeline.RunContext(model, crate_dir, options, say)
    return pipeline.execute(run, [pipeline.ExistingCrate(say)], model_json=False)


def _load_model(source: SdeModel | str | Path) -> SdeModel:
    if isinstance(source, SdeModel):
        return source
    path = Path(source)
    if not path.is_file():
        raise UsageError(f"model file {path} not found (pass --model FILE)")
    if path.stat().st_size > MAX_MODEL_FILE_BYTES:
        raise UsageError(f"model file {path} is {path.stat().st_size} bytes: far larger than any model")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"model file {path} is not UTF-8 text: {exc}") from None
    try:
        model = SdeModel.from_json(text)
    except RecursionError:
        raise UsageError(f"model file {path} is nested too deeply to be a model") from None
    except ModelError as exc:
        raise ModelError(f"model file {path}: {exc}") from None
    # Untrusted: its symbolic analysis is tried first in a child process with time and memory limits.
    bounded.check_analysis(model, f"model file {path}")
    return model


__all__ = ["READERS", "Checked", "Options", "Reading", "Result", "check_binary", "generate", "parse", "read", "verify"]
