"""A hostile crate folder or model file cannot make architect write, delete or create anything outside the
folder, nor exhaust or hang architect itself (issue #13: symbolic links in the crate folder; model.json
expressions that ask sympy for astronomically large numbers or expansions; malformed fields).

Every refusal here is a clean `UsageError`: exit status 2 and one line on stderr, before anything is written.
None of these tests compiles anything.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import architect
from architect import api, codegen, locking, paths
from architect.cli import main
from architect.errors import UsageError

OPTIONS = api.Options(paths=100, steps=4, timeout=20)


@pytest.fixture
def crate(tmp_path: Path) -> Path:
    """A real generated GBM crate (no binary) with its model.json, as `verify` expects it."""
    model = architect.parse("GBM")
    out = tmp_path / "crate"
    codegen.write_crate(model, out)
    (out / "model.json").write_text(model.to_json())
    return out


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
