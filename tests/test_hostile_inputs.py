"""A hostile crate folder or model file cannot make architect write, delete or create anything outside the
folder, nor exhaust or hang architect itself (issue #13: symbolic links in the crate folder; model.json
expressions that ask sympy for astronomically large numbers or expansions; malformed fields).

Every refusal here is a clean `UsageError`: exit status 2 and one line on stderr, before anything is written.
None of these tests compiles anything.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import edited_crates
import pytest

import architect
from architect import api, bounded, codegen, locking, paths, safe_expr
from architect.cli import main
from architect.errors import ModelError, UsageError
from architect.model import MAX_DIMENSION, SdeModel, symbol
from architect.parser.catalog import FAMILIES

OPTIONS = api.Options(paths=100, steps=4, timeout=20)


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    """A real generated GBM crate (no binary) with its model.json, as `verify` expects it."""
    return edited_crates.crate(tmp_path, "GBM", scheme="auto")[1]


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` (not following links) with its bytes and modification time."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            found[str(path.relative_to(folder))] = (path.read_bytes(), path.stat().st_mtime_ns)
    return found


def refused(argv: list[str], capsys, *needles: str) -> str:
    """Run the CLI in-process; it must exit 2 with one line on stderr naming every needle."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("architect: error:") and "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


# ------------------------------------------------------------------------------- symbolic links
def test_a_bin_link_to_a_folder_holding_a_program_named_like_the_model_leaves_it_alone(
    crate: Path, tmp_path: Path, capsys
) -> None:
    """`bin -> ~/.cargo/bin` and a model named "cargo": verify used to delete cargo and write its simulator there."""
    data = json.loads((crate / "model.json").read_text())
    data["name"] = "cargo"
    (crate / "model.json").write_text(json.dumps(data))
    toolchain = tmp_path / "cargo-home-bin"
    toolchain.mkdir()
    (toolchain / "cargo").write_bytes(b"#!/bin/sh\necho the real cargo\n")
    os.chmod(toolchain / "cargo", 0o755)
    (crate / "bin").symlink_to(toolchain, target_is_directory=True)
    before = snapshot(toolchain)
    refused(["verify", str(crate)], capsys, "symbolic link", "bin")
    assert snapshot(toolchain) == before
    assert (toolchain / "cargo").read_bytes() == b"#!/bin/sh\necho the real cargo\n"
    assert not (crate / "report.json").exists() and not (crate / locking.LOCK_NAME).exists()


def test_a_src_link_gets_nothing_written_into_its_target(crate: Path, tmp_path: Path, capsys) -> None:
    """`src` a link to a folder with model.rs but no main.rs: verify used to write main.rs there (and delete
    its `.*.tmp` files) before the gate rejected the crate."""
    elsewhere = tmp_path / "elsewhere"
    (crate / "src").rename(elsewhere)
    (elsewhere / "main.rs").unlink()
    (elsewhere / ".keep.me.tmp").write_text("not architect's")
    (crate / "src").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(elsewhere)
    refused(["verify", str(crate)], capsys, "symbolic link", "src")
    assert snapshot(elsewhere) == before
    assert not (elsewhere / "main.rs").exists()


def test_a_lock_file_link_does_not_create_its_target(crate: Path, tmp_path: Path, capsys) -> None:
    target = tmp_path / "created-by-architect"
    (crate / locking.LOCK_NAME).symlink_to(target)
    refused(["verify", str(crate)], capsys, "symbolic link", locking.LOCK_NAME)
    assert not os.path.lexists(target)


@pytest.mark.parametrize(
    "place",
    ["Cargo.toml", "model.json", "report.json", "report.md", "report.html", "src/main.rs", "bin/gbm", "notes.txt"],
)
def test_a_link_at_any_fixed_place_is_refused_before_anything_is_written(
    crate: Path, tmp_path: Path, capsys, place: str
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "file").write_text("precious")
    link = crate / place
    link.parent.mkdir(exist_ok=True)
    if link.exists():
        if place == "model.json":  # the victim must be the model for verify to get this far
            (victim / "file").write_text(link.read_text())
        link.unlink()
    link.symlink_to(victim / "file")
    before, inside = snapshot(victim), snapshot(crate)
    refused(["verify", str(crate)], capsys, "symbolic link", place)
    assert snapshot(victim) == before
    assert snapshot(crate) == inside  # nothing written, restored or deleted in the crate either


def test_a_crate_folder_that_is_a_link_is_refused(crate: Path, tmp_path: Path, capsys) -> None:
    link = tmp_path / "linked-crate"
    link.symlink_to(crate, target_is_directory=True)
    before = snapshot(crate)
    refused(["verify", str(link)], capsys, "is a symbolic link", str(crate))
    assert snapshot(crate) == before


def test_generate_refuses_an_output_folder_holding_links(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    (out / "src").symlink_to(victim, target_is_directory=True)
    refused(["generate", "GBM", "--backend", "symbolic", "--out", str(out)], capsys, "symbolic link", "src")
    assert list(victim.iterdir()) == []


def test_writes_never_follow_a_link_even_past_the_up_front_check(tmp_path: Path) -> None:
    """Defence in depth: the write helpers themselves open folders and files with O_NOFOLLOW."""
    out, victim = tmp_path / "out", tmp_path / "victim"
    out.mkdir()
    victim.mkdir()
    (victim / "tool").write_text("precious")
    (victim / ".old.tmp").write_text("precious too")
    (out / "bin").symlink_to(victim, target_is_directory=True)
    for write in (
        lambda: paths.write_atomic(out / "bin" / "tool", "x", within=out),
        lambda: paths.write_atomic(out / "bin" / "tool", "x"),
        lambda: paths.copy_atomic(Path(__file__), out / "bin" / "tool"),
        lambda: paths.remove_file(out / "bin" / "tool", within=out),
        lambda: paths.write_atomic(out / "bin" / "new" / "tool", "x", within=out),
    ):
        with pytest.raises(UsageError, match="symbolic link"):
            write()
    assert paths.remove_stale_temporaries(out / "bin") == []
    assert sorted(p.name for p in victim.iterdir()) == [".old.tmp", "tool"]
    assert (victim / "tool").read_text() == "precious"
    # A link at the written path itself is replaced by the file; its target is untouched.
    (out / "report.json").symlink_to(victim / "tool")
    paths.write_atomic(out / "report.json", "{}", within=out)
    assert not (out / "report.json").is_symlink() and (out / "report.json").read_text() == "{}"
    assert (victim / "tool").read_text() == "precious"
    # The lock file: a dangling link is not followed to create its target.
    (out / locking.LOCK_NAME).symlink_to(tmp_path / "lock-target")
    with pytest.raises(UsageError, match="symbolic link"), locking.hold(out / locking.LOCK_NAME, what="out"):
        pass
    assert not os.path.lexists(tmp_path / "lock-target")


def test_the_write_helpers_still_write(tmp_path: Path) -> None:
    paths.write_atomic(tmp_path / "a" / "b" / "c.txt", "text", within=tmp_path)
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "text"
    assert oct((tmp_path / "a" / "b" / "c.txt").stat().st_mode & 0o777) == oct(0o644)
    paths.copy_atomic(Path(__file__), tmp_path / "bin" / "copy", within=tmp_path)
    assert (tmp_path / "bin" / "copy").read_bytes() == Path(__file__).read_bytes()
    assert (tmp_path / "bin" / "copy").stat().st_mode & 0o777 == 0o755
    paths.remove_file(tmp_path / "bin" / "copy", within=tmp_path)
    paths.remove_file(tmp_path / "bin" / "copy", within=tmp_path)  # already gone: fine
    assert not (tmp_path / "bin" / "copy").exists()
    (tmp_path / ".x.abc.tmp").write_text("half")
    assert [p.name for p in paths.remove_stale_temporaries(tmp_path)] == [".x.abc.tmp"]
    assert not list(tmp_path.glob(".*.tmp"))


# ------------------------------------------------------------------------------------ model files
LIMIT_AS = 2 << 30  # bytes of address space for the CLI run on a hostile model file
HUGE_DRIFTS = [
    # `^` is XOR to Python's ast, a right-associative power to sympy: 2**(1024**1024), a billion-digit number.
    "2^1024^1024",
    "((1024**1024)**1024)**1024",
    "(X + t + 1)**1024 * (X + t + 2)**1024 * (X + t + 3)**1024",
    "(X + t + 1)**64 * (X + t + 2)**64",  # degree 128 and 4.7 million terms once expanded
    "2**floor(exp(1000))",
    "1e-100000*X",
]


def gbm_file(folder: Path, **changes: object) -> Path:
    """A GBM model file (state X, parameters mu and sigma) with some fields replaced."""
    data = architect.parse("dX = mu*X*dt + sigma*X*dW, mu=0.05, sigma=0.2, X0=1").to_dict()
    data.update(changes)
    path = folder / "model.json"
    path.write_text(json.dumps(data))
    return path


def cli_with_limits(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The CLI as a process limited to `LIMIT_AS` bytes of address space and ``timeout`` seconds."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_AS, LIMIT_AS))

    return subprocess.run(
        [sys.executable, "-m", "architect", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env={**os.environ, "ARCHITECT_DEBUG": ""},
    )


def assert_clean_refusal(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    err = done.stderr.strip()
    assert done.returncode == 2, (done.returncode, err)
    assert err.startswith("architect: error:") and "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize("drift", HUGE_DRIFTS[:3])
def test_a_model_file_asking_for_astronomical_sympy_work_is_refused_in_bounded_time_and_memory(
    crate: Path, drift: str
) -> None:
    gbm_file(crate, drift=[drift])
    started = time.monotonic()
    done = cli_with_limits("verify", str(crate))
    assert time.monotonic() - started < 20
    assert_clean_refusal(done, "drift[0]")
    assert not (crate / "report.json").exists()


@pytest.mark.parametrize("drift", HUGE_DRIFTS)
def test_huge_expressions_are_refused_before_sympy_sees_them(tmp_path: Path, drift: str) -> None:
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"drift\[0\]"):
        SdeModel.from_json(gbm_file(tmp_path, drift=[drift]).read_text())
    assert time.monotonic() - started < 1


def test_a_caret_is_read_as_sympy_reads_it(tmp_path: Path) -> None:
    """Right-associative and binding tighter than `*`, like `**`; the check sees the same tree."""
    model = SdeModel.from_json(gbm_file(tmp_path, drift=["mu*X*2^3^2 - X^2"]).read_text())
    mu, x = symbol("mu"), symbol("X")
    assert model.drift[0] == 512 * mu * x - x**2


@pytest.mark.parametrize(
    ("drift", "diffusion"),
    [
        ("(X + t + 1)**14", "sigma*X"),  # 120 terms, the most one expression may have
        ("mu*X**(5/2) + X**X + Max(X, 2)**60", "sigma*X"),
        ("Piecewise((mu*X, X > 0), (0, True)) + exp(-t)*sin(X)**3", "sigma*(X + 1)**5"),
    ],
)
def test_large_but_admissible_expressions_are_read(tmp_path: Path, drift: str, diffusion: str) -> None:
    SdeModel.from_json(gbm_file(tmp_path, drift=[drift], diffusion=[[diffusion]]).read_text())


def test_a_large_covariance_is_refused(tmp_path: Path) -> None:
    """sigma has 15 terms, so sigma**2 up to 225: each expression is small, their covariance is not."""
    with pytest.raises(ModelError, match="covariance of X and X"):
        SdeModel.from_json(gbm_file(tmp_path, diffusion=[["(X + t + 1)**4"]]).read_text())


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        (12, "field name must be a string, got a number"),
        (["GBM"], "field name must be a string, got a list"),
        (None, "field name must be a string, got null"),
        ("\ud800", "field name: text that is not valid Unicode"),
    ],
)
def test_a_malformed_name_is_a_usage_error_naming_the_field(crate: Path, capsys, name: object, needle: str) -> None:
    """json.dumps writes the lone surrogate as the escape \\ud800, as a hostile file would."""
    gbm_file(crate, name=name)
    assert "\\ud800" in (crate / "model.json").read_text() or not isinstance(name, str)
    refused(["verify", str(crate)], capsys, needle)
    assert not (crate / "report.json").exists()


def test_a_lone_surrogate_name_is_refused_by_the_cli_process(crate: Path) -> None:
    (crate / "model.json").write_text(gbm_file(crate).read_text().replace('"name": "', '"name": "\\ud800', 1))
    assert_clean_refusal(cli_with_limits("verify", str(crate)), "model field name", "lone surrogate")


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"state": "X"}, "field state must be a list, got a string"),
        ({"state": [1]}, "field state[0] must be a name"),
        ({"state": ["X y"]}, "is not a name"),
        ({"state": ["t"]}, "'t' is a reserved name"),
        ({"state": [f"x{k}" for k in range(33)]}, "field state has 33 entries; the limit is 32"),
        ({"noises": {"W": 1}}, "field noises must be a list, got an object"),
        ({"drift": "mu*X"}, "field drift must be a list"),
        ({"drift": [None]}, "field drift[0]: an expression must be a string, got NoneType"),
        ({"drift": [True]}, "field drift[0]: an expression must be a string"),
        ({"drift": ["__import__('os').system('true')"]}, "calls something other than a mathematical function"),
        ({"diffusion": ["sigma*X"]}, "field diffusion[0] must be a list"),
        ({"correlation": [[1, 0]]}, "correlation matrix must be 1 x 1"),
        ({"parameters": {"mu": 1}}, "field parameters must be a list, got an object"),
        ({"parameters": [["mu", 0.05]]}, "field parameters[0] must be an object"),
        ({"parameters": [{"name": "mu"}]}, "field parameters[0] needs a name and a value"),
        ({"parameters": [{"name": "mu", "value": "0.05"}]}, "parameters[0].value must be a number, got a string"),
        ({"parameters": [{"name": "mu", "value": True}]}, "parameters[0].value must be a number, got true/false"),
        ({"parameters": [{"name": "mu", "value": 1e999}]}, "parameters[0].value must be a finite number"),
        ({"parameters": [{"name": "mu", "value": 10**400}]}, "parameters[0].value must be a finite number"),
        ({"parameters": [{"name": "mu", "value": 1, "constraint": 3}]}, "parameters[0].constraint must be a string"),
        ({"parameters": [{"name": "mu", "value": 1, "description": ["x"]}]}, "description must be a string"),
        ({"initial": [1.0]}, "field initial must be an object"),
        ({"initial": {}}, "field initial has no entry for X"),
        ({"initial": {"X": "1"}}, "field initial.X must be a number, got a string"),
        ({"initial": {"X": float("nan")}}, "field initial.X must be a finite number"),
        ({"domain": {"X": 1}}, "field domain.X must be a string"),
        ({"source": 5}, "field source must be a string"),
        ({"notes": "hello"}, "field notes must be a list"),
        ({"notes": [1]}, "field notes[0] must be a string"),
        ({"format": "architect.sde-model/2", "jumps": {"X": 1}}, "field jumps must be a list"),
        ({"format": "architect.sde-model/2", "jumps": [{"variable": "X"}]}, "field jumps[0].law is missing"),
    ],
)
def test_malformed_fields_are_model_errors_naming_the_field(tmp_path: Path, changes: dict, needle: str) -> None:
    path = gbm_file(tmp_path, **changes)
    with pytest.raises(ModelError) as caught:
        SdeModel.from_json(path.read_text())
    assert needle in str(caught.value) and "\n" not in str(caught.value), str(caught.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[1, 2]", "must be an object"),
        ('{"format": "architect.sde-model/1", "initial": ' + "9" * 5000 + "}", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_unreadable_model_files_are_usage_errors(crate: Path, capsys, text: str, needle: str) -> None:
    (crate / "model.json").write_text(text)
    refused(["verify", str(crate)], capsys, needle)


def test_every_catalog_model_is_far_inside_the_limits() -> None:
    """The limits leave a margin of at least 8 to every catalog model (the corpus: see docs/models.md)."""
    for family in FAMILIES:
        data = architect.parse(family.synonyms[0]).to_dict()
        values = {p["name"]: p["value"] for p in data["parameters"]}
        texts = [*data["drift"], *(e for row in data["diffusion"] for e in row)]
        for text in texts:
            size = safe_expr.measure(ast.parse(text, mode="eval"), text, values, symbols=[*data["state"], "t"])
            assert size.degree * 8 <= safe_expr.MAX_DEGREE and size.terms * 8 <= safe_expr.MAX_TERMS, text
            assert (size.bits or 0) * 8 <= safe_expr.MAX_CONSTANT_BITS, text
        assert len(data["state"]) * 8 <= MAX_DIMENSION


# ------------------------------------------------------------------------ the analysis, bounded
def test_an_analysis_that_runs_too_long_is_stopped(crate: Path, monkeypatch) -> None:
    monkeypatch.setattr(bounded, "ANALYSIS_TIMEOUT_S", 1.0)
    monkeypatch.setattr(bounded, "analyse", lambda _model: time.sleep(60))
    started = time.monotonic()
    with pytest.raises(UsageError, match="did not finish within 1 s"):
        architect.verify(crate, options=OPTIONS)
    assert time.monotonic() - started < 10
    assert not (crate / "report.json").exists()


def test_an_analysis_that_needs_too_much_memory_is_stopped(crate: Path, monkeypatch) -> None:
    monkeypatch.setattr(bounded, "ANALYSIS_MEMORY_BYTES", 256 << 20)
    monkeypatch.setattr(bounded, "analyse", lambda _model: bytearray(4 << 30))
    with pytest.raises(UsageError, match="needed more than 256 MiB of memory"):
        architect.verify(crate, options=OPTIONS)


def test_the_bounded_analysis_passes_a_real_model_and_reports_failures() -> None:
    bounded.check_analysis(architect.parse("Heston"), "Heston")  # no exception
    assert bounded.run_bounded(lambda: None, timeout=10, memory=1 << 30) == "ok"
    assert bounded.run_bounded(lambda: 1 / 0, timeout=10, memory=1 << 30) == "ok"  # the pipeline reports it itself
    assert bounded.run_bounded(lambda: sys.setrecursionlimit(100) or _deep(200), timeout=10, memory=1 << 30) == (
        "recursion"
    )
    assert bounded.run_bounded(lambda: os.kill(os.getpid(), 9), timeout=10, memory=1 << 30) == "memory"


def _deep(n: int) -> int:
    return 0 if n == 0 else 1 + _deep(n - 1)


def test_the_gate_on_its_own_reports_links_too(crate: Path, tmp_path: Path) -> None:
    """For callers of `check_crate` other than verify (which refuses links before the gate runs)."""
    from architect.gate import GateError, check_crate

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (crate / "bin").symlink_to(elsewhere, target_is_directory=True)
    (crate / "notes.md").symlink_to(tmp_path / "missing")
    fixed = codegen.fixed_files(architect.parse("GBM"))
    with pytest.raises(GateError) as caught:
        check_crate(crate, fixed["Cargo.toml"], fixed["src/main.rs"])
    files = {v.file for v in caught.value.violations}
    assert {"bin", "notes.md"} <= files, caught.value.diagnostics
