"""The static gate in front of the compiler: architect's own models pass, hostile crates are rejected with a
clear reason before anything is compiled (rule 1 of the security model; the full battery of snippets is in
sdk-rs/gate/tests/gate.rs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import architect
from architect import api, build, codegen
from architect.cli import main
from architect.errors import UsageError
from architect.gate import GateError, check_crate, check_model_source
from architect.parser.catalog import FAMILIES

EQUATION_MODELS = [
    "dX = kappa*(theta - X)*dt + sigma*sqrt(X)*dW, kappa=2, theta=0.04, sigma=0.3, X0=0.04",
    "dx = -kappa*x*dt + sigma*dW1; dy = (x - y)*dt + eta*dW2; rho=-0.7, kappa=1.5, sigma=0.4, eta=0.2, x0=1, y0=0",
    "dX = (a + b*t)*dt + c*exp(-t)*dW, a=1, b=0.5, c=0.3, X0=0",
]


BUILDABLE_FAMILIES = [f.synonyms[0] for f in FAMILIES]


@pytest.mark.parametrize("text", BUILDABLE_FAMILIES + EQUATION_MODELS)
def test_every_generated_model_passes_the_gate(text: str) -> None:
    model = architect.parse(text)
    source = codegen.symbolic.render_model_rs(model, codegen.choose_scheme(model))
    assert check_model_source(source) == []


def test_names_cannot_inject_code_into_generated_files(tmp_path: Path) -> None:
    """A model name or description with a newline or quote stays inside its comment or string."""
    model = architect.parse("GBM")
    evil = 'x"\n}\nfn evil() { std::process::exit(3) }\n//'
    data = model.to_dict()
    data["name"] = evil
    data["parameters"][0]["description"] = evil
    codegen.write_crate(architect.SdeModel.from_dict(data), tmp_path)
    assert check_model_source((tmp_path / "src" / "model.rs").read_text()) == []
    for relative in ("src/model.rs", "src/main.rs"):
        assert "\nfn evil" not in (tmp_path / relative).read_text()


@pytest.mark.parametrize(
    ("snippet", "needle"),
    [
        ('let _ = std::fs::read("/etc/passwd");', "filesystem"),
        ('let _ = std::process::Command::new("sh").status();', "processes"),
        ('let _ = std::net::TcpStream::connect("10.0.0.1:80");', "network"),
        ('let _ = std::env::var("HOME");', "environment"),
        ("std::thread::spawn(|| ());", "threads"),
        ("unsafe { }", "unsafe"),
        ('let _ = include_str!("/etc/passwd");', "reads files"),
        ('let _ = env!("HOME");', "reads the environment"),
        ("loop {}", "`loop`"),
        # Red-team reproducers (the full set is in sdk-rs/gate/tests/red_team.rs).
        ("let _ = r#std::env::vars();", "raw identifiers"),
        ('#[must_use = include_str!("/etc/hostname")] let _ = 1;', "reads files"),
        ('let _ = [0u8; { panic!("{}", include_str!("/etc/hostname")); 0 }];', "reads files"),
    ],
)
def test_hostile_model_code_is_rejected_with_its_position(snippet: str, needle: str) -> None:
    model = architect.parse("GBM")
    source = codegen.symbolic.render_model_rs(model, codegen.choose_scheme(model))
    marker = "fn initial_state(&self) -> [f64; 1] {"
    hostile = source.replace(marker, marker + "\n        " + snippet, 1)
    found = check_model_source(hostile)
    assert any(needle in v.reason for v in found), found
    line = hostile.splitlines().index("        " + snippet) + 1
    assert any(v.line == line for v in found), (line, found)


# ------------------------------------------------------------------------------- crate layout
@pytest.fixture
def crate(tmp_path: Path, monkeypatch) -> Path:
    """A freshly generated GBM crate; building it fails the test (the gate must decide first)."""
    model = architect.parse("GBM")
    codegen.write_crate(model, tmp_path)
    (tmp_path / "model.json").write_text(model.to_json())

    def no_build(*_args, **_kwargs):
        raise AssertionError("the crate reached the compiler")

    monkeypatch.setattr(build, "build_model", no_build)
    return tmp_path


def rejected(crate: Path, needle: str) -> dict:
    result = architect.verify(crate, options=api.Options(paths=100, steps=4))
    report = json.loads((crate / "report.json").read_text())
    assert result.report == report or report["verdict"] == result.report["verdict"]
    assert report["verdict"] == "fail" and not report["gate"]["passed"]
    assert "rejected before compiling" in report["reason"]
    reasons = " | ".join(f"{v['file']}: {v['reason']}" for v in report["gate"]["violations"])
    assert needle in reasons, reasons
    return report


def test_a_build_script_is_rejected(crate: Path) -> None:
    (crate / "build.rs").write_text('fn main() { std::process::Command::new("sh").status().unwrap(); }')
    rejected(crate, "build.rs: not allowed in a generated crate: a build script runs arbitrary code")


def test_cargo_configuration_and_toolchain_files_are_rejected(crate: Path) -> None:
    (crate / ".cargo").mkdir()
    (crate / ".cargo" / "config.toml").write_text('[build]\nrustc-wrapper = "/tmp/evil.sh"\n')
    (crate / "rust-toolchain.toml").write_text('[toolchain]\nchannel = "nightly"\n')
    report = rejected(crate, ".cargo: not allowed in a generated crate: a cargo configuration")
    assert any(v["file"] == "rust-toolchain.toml" for v in report["gate"]["violations"])


def test_extra_source_files_are_rejected(crate: Path) -> None:
    (crate / "src" / "evil.rs").write_text("pub fn f() {}")
    (crate / "src" / "bin").mkdir()
    report = rejected(crate, "src/evil.rs: extra file")
    assert any(v["file"] == "src/bin" for v in report["gate"]["violations"])


def test_an_extra_dependency_is_rejected(crate: Path) -> None:
    manifest = crate / "Cargo.toml"
    manifest.write_text(manifest.read_text().replace("[dependencies]", '[dependencies]\nrand = "0.8"'))
    rejected(crate, "`dependencies.rand` is added")


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda t: t + '\n[build-dependencies]\ncc = "1"\n', "`build-dependencies` is added"),
        (lambda t: t.replace('edition = "2024"', 'edition = "2024"\nbuild = "evil.rs"'), "`package.build` is added"),
        (lambda t: t.replace("opt-level = 3", 'opt-level = 3\nrustflags = ["-C", "x"]'), "rustflags"),
        (lambda t: t.replace("[workspace]", "[workspace]\nmembers = ['..']"), "`workspace.members` is added"),
        (lambda t: "this is = not [toml", "not a valid manifest"),
    ],
)
def test_a_changed_manifest_is_rejected(crate: Path, edit, needle: str) -> None:
    manifest = crate / "Cargo.toml"
    manifest.write_text(edit(manifest.read_text()))
    rejected(crate, needle)


def test_a_changed_main_is_rejected(crate: Path) -> None:
    main_rs = crate / "src" / "main.rs"
    main_rs.write_text(main_rs.read_text().replace("#![forbid(unsafe_code)]", ""))
    rejected(crate, "src/main.rs: differs from the fixed skeleton; src/main.rs is architect's fixed skeleton")


def test_a_linked_model_file_is_rejected(crate: Path, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "model.rs"
    outside.write_text((crate / "src" / "model.rs").read_text())
    (crate / "src" / "model.rs").unlink()
    (crate / "src" / "model.rs").symlink_to(outside)
    # verify refuses a folder holding links before reading or writing anything (tests/test_hostile_inputs.py);
    # the gate, called on its own, rejects the link too.
    with pytest.raises(UsageError, match="symbolic links"):
        architect.verify(crate, options=api.Options(paths=100, steps=4))
    with pytest.raises(GateError, match="must be a regular file"):
        fixed = codegen.fixed_files(architect.parse("GBM"))
        check_crate(crate, fixed["Cargo.toml"], fixed["src/main.rs"])


def test_hostile_model_code_fails_verify_with_exit_1(crate: Path, capsys) -> None:
    model_rs = crate / "src" / "model.rs"
    model_rs.write_text(model_rs.read_text() + '\nfn f() { let _ = std::fs::remove_dir_all("/"); }\n')
    assert main(["verify", str(crate), "--paths", "100", "--steps", "4"]) == 1
    out = capsys.readouterr().out
    assert "Verdict: FAIL" in out and "std::fs::remove_dir_all" in out and "filesystem" in out


def test_formatting_and_comments_of_the_fixed_files_do_not_matter(crate: Path, monkeypatch) -> None:
    main_rs = crate / "src" / "main.rs"
    main_rs.write_text("// my notes\n" + main_rs.read_text().replace("\n", "\n\n"))
    manifest = crate / "Cargo.toml"
    manifest.write_text("# edited by hand\n" + manifest.read_text())
    reached = []
    monkeypatch.setattr(build, "build_model", lambda *a, **k: reached.append(a) or (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        architect.verify(crate, options=api.Options(paths=100, steps=4))
    assert reached, "the gate let the crate through to the build"
    _name, fixed, source = reached[0][:3]
    assert source == (crate / "src" / "model.rs").read_text()
    assert fixed == codegen.fixed_files(architect.SdeModel.from_json((crate / "model.json").read_text()))


def test_the_skeleton_of_an_earlier_architect_passes_and_the_current_one_is_built(crate: Path, monkeypatch) -> None:
    (crate / "src" / "main.rs").write_text(
        "//! Simulator for Heston, generated by architect 0.1.0.\n#![forbid(unsafe_code)]\n\nmod model;\n\n"
        "fn main() -> std::process::ExitCode {\n"
        "    architect_sdk::cli::run(model::Model::default(), model::SCHEME)\n}\n"
    )
    reached = []
    monkeypatch.setattr(build, "build_model", lambda *a, **k: reached.append(a) or (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        architect.verify(crate, options=api.Options(paths=100, steps=4))
    assert reached, "the gate refused the earlier skeleton"
    assert "cli::run_jailed::<{ model::SCHEME.is_exact() }" in reached[0][1]["src/main.rs"]


def test_missing_fixed_files_are_written_back(crate: Path, monkeypatch) -> None:
    (crate / "Cargo.toml").unlink()
    (crate / "src" / "main.rs").unlink()
    monkeypatch.setattr(build, "build_model", lambda *a, **k: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):
        architect.verify(crate, options=api.Options(paths=100, steps=4))
    assert (crate / "Cargo.toml").is_file() and (crate / "src" / "main.rs").is_file()


def test_a_model_file_that_would_run_code_is_refused(crate: Path) -> None:
    data = json.loads((crate / "model.json").read_text())
    data["drift"] = ["__import__('os').system('touch pwned')"]
    (crate / "model.json").write_text(json.dumps(data))
    with pytest.raises(architect.ModelError, match="calls something other than a mathematical function"):
        architect.verify(crate)
    assert not Path("pwned").exists()


def test_a_parameter_named_like_a_gate_forbidden_word_is_renamed() -> None:
    """`union` is no Rust keyword but the gate refuses it as an identifier: the compiler renames it."""
    model = architect.parse("dX = -union*X*dt + 0.2*dW, union=1.5, X0=1")
    source = codegen.render_model_rs(model, codegen.choose_scheme(model))
    assert check_model_source(source) == []
