"""The report of one run, assembled in one place: `Report` collects what the stages found, and `Report.to_json`
is the one function that makes report.json's dict (format ``architect.report/1``, keys in docs/report.md).

`architect.verifier.report` renders and writes that dict; nothing else builds or edits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from architect import build, sandbox, verifier
from architect.model import SdeModel
from architect.options import Options, RunSpec
from architect.pipeline.values import at_values, values_summary
from architect.version import __version__

if TYPE_CHECKING:
    from architect.verifier import Verification

REPORT_FORMAT = "architect.report/1"


@dataclass(frozen=True)
class Setting:
    """What a report says of a run before anything ran: the model, the designs, the jail and the versions.

    Some of it takes a moment (the theory plan behind ``reference.used``, ``rustc --version``), so it is
    worked out once per run, while cargo compiles (`Report.settle`)."""

    model: dict[str, Any]  # the model at the values verified (`values.at_values`)
    values: dict[str, Any]  # those values, and which were given at run time (`values.values_summary`)
    equations: list[str]
    simulation: dict[str, Any]
    sandbox: dict[str, Any]
    sdk: str
    rustc: str


@dataclass
class Report:
    """What the stages of one run found (`architect.pipeline.run`); `to_json` turns it into report.json."""

    model: SdeModel
    crate_dir: Path
    options: Options
    backend: str  # who wrote the code: symbolic | llm | existing crate | eval
    timings: dict[str, float]
    backend_note: str = ""
    verdict: str = "fail"
    reason: str = "not run"
    diagnostics: str | None = None
    scheme: dict[str, Any] = field(default_factory=lambda: {"name": None, "step_kinds": None})
    build: dict[str, Any] | None = None
    gate: dict[str, Any] = field(default_factory=lambda: {"passed": False, "violations": []})
    # None: no code was ever written (the report then has no ``equivalence``).
    equivalence: dict[str, Any] | None = None
    # Set once the binary has been observed: the jail it reported, and the threads it ran.
    jail: Any = None
    threads: Any = None
    observed: bool = False
    # Set once the same-step design is decided: its runs, or None when it is not run.
    same_steps: dict[str, Any] | None = None
    same_steps_decided: bool = False
    checks: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    statistics: dict[str, Any] | None = None
    # Set by a writer that knows more (the LLM: its attempts, and the adapter's hash when it wrote the code).
    llm: dict[str, Any] | None = None
    weights: str | None = None
    setting: Setting | None = None
    # The SHA-256 of the binary the verifier observed (set once it is built): `Simulator.verified` compares it.
    binary_sha256: str | None = None

    @property
    def binary(self) -> Path:
        return self.crate_dir / "bin" / self.model.slug

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"

    def fail(self, reason: str, diagnostics: str | None = None) -> None:
        self.verdict, self.reason = "fail", reason
        if diagnostics is not None:
            self.diagnostics = diagnostics

    def settle(self) -> Setting:
        """The run's `Setting`, worked out on first use."""
        if self.setting is None:
            self.setting = describe_setting(self.model, self.options)
        return self.setting

    def add_verification(self, description: dict[str, Any], threads: Any, verification: Verification) -> None:
        """What the verifier concluded of the observed binary, and what the binary said of itself."""
        self.observed = True
        # What the binary locked itself into before any model code ran (`--describe`; the SDK's jail).
        self.jail = description.get("jail", "not reported (an unjailed binary)")
        self.threads = threads
        outcome = verification.to_dict()
        self.checks = outcome.pop("checks")
        self.extras = {key: outcome.pop(key) for key in verifier.verdict.EXTRAS}
        self.statistics = outcome
        self.verdict, self.reason = outcome["verdict"], outcome["reason"]

    def to_json(self) -> dict[str, Any]:
        """report.json's dict: the one place it is made."""
        setting = self.settle()
        simulation = dict(setting.simulation)
        run_sandbox = dict(setting.sandbox["run"])
        if self.observed:
            simulation["threads"] = self.threads
            run_sandbox["jail"] = self.jail
        if self.same_steps_decided:
            simulation["same_steps"] = self.same_steps
        report: dict[str, Any] = {
            "format": REPORT_FORMAT,
            "verdict": self.verdict,
            "reason": self._reason(),
            "model": setting.model,
            "values": setting.values,
            "equations": setting.equations,
            "backend": self.backend,
            "scheme": self.scheme,
            "simulation": simulation,
            "statistics": self.statistics if self.statistics is not None else {"alpha": self.options.alpha},
            "checks": self.checks,
            "gate": self.gate,
            "sandbox": {**setting.sandbox, "run": run_sandbox},
            "timings": {name: round(seconds, 3) for name, seconds in self.timings.items()},
            "versions": {
                "architect": __version__,
                "sdk": setting.sdk,
                "rustc": setting.rustc,
                # sha256 of the weights/adapter of a learned backend; the symbolic backend has none.
                "weights": self.weights,
            },
            "artifacts": {
                "crate": str(self.crate_dir),
                "binary": str(self.binary),
                "binary_sha256": self.binary_sha256,
                "model": str(self.crate_dir / "model.json"),
            },
        }
        if self.backend_note:
            report["backend_note"] = self.backend_note
        if self.build is not None:
            report["build"] = self.build
        report |= self.extras
        if self.diagnostics is not None:
            report["diagnostics"] = self.diagnostics
        if self.equivalence is not None:
            report["equivalence"] = self.equivalence
        if self.llm is not None:
            report["llm"] = self.llm
        return report

    def _reason(self) -> str:
        """A pass of a crate not proven to be the model says so first."""
        equivalence = self.equivalence
        if self.verdict != "pass" or equivalence is None or equivalence["proven"]:
            return self.reason
        reasons = "; ".join(equivalence["reasons"])[:500]
        return f"statistics only — equivalence with the model NOT proven ({reasons}): {self.reason}"


def describe_setting(model: SdeModel, options: Options) -> Setting:
    specs, references = options.runs(), options.reference_runs()
    reference_used = verifier.runs.needs_reference(at_values(model, options))
    simulation = {
        "paths": options.paths,
        "horizon": options.horizon,
        **_runs_summary(specs, references, reference_used),
        "threads": options.threads,
        "checkpoints": [options.horizon * (k + 1) / options.checkpoints for k in range(options.checkpoints)],
        "extended": _extended_summary(options, reference_used),
    }
    return Setting(
        # The model the checks are about: as parsed, with the run-time values (``--set``, ``--x0``) applied.
        model=at_values(model, options).to_dict(),
        values=values_summary(model, options),
        equations=model.equations(),
        simulation=simulation,
        sandbox={
            # Builds and runs are jailed with a view of the filesystem (`build.build_view`, `gym.run_view`).
            "build": sandbox.describe(sandbox.build_limits(build.BUILD_TIMEOUT_S), sandbox.View()),
            "run": sandbox.describe(options.run_limits(), sandbox.View()),
        },
        sdk=_sdk_version(),
        rustc=build.rustc_version(),
    )


def _extended_summary(options: Options, reference_used: bool) -> dict[str, Any] | None:
    """The extended design's runs as report.json's ``simulation.extended`` (None when it is not run)."""
    specs, references = options.extended_runs(), options.extended_reference_runs()
    if not specs:
        return None
    first = specs[0]
    return {
        "paths": first.paths,
        "horizon": first.horizon,
        "checkpoints": [first.horizon * (k + 1) / first.checkpoints for k in range(first.checkpoints)],
        **_runs_summary(specs, references, reference_used),
    }


def _runs_summary(specs: Sequence[RunSpec], references: Sequence[RunSpec], reference_used: bool) -> dict[str, Any]:
    """A design's tested runs and its reference's: their steps and seeds, and whether the reference is used."""
    return {
        "steps": [spec.steps for spec in specs],
        "seeds": [spec.seed for spec in specs],
        "reference": {
            "steps": [spec.steps for spec in references],
            "seeds": [spec.seed for spec in references],
            "used": reference_used,
        },
    }


def same_step_summary(options: Options) -> dict[str, Any]:
    """The same-step design as report.json's ``simulation.same_steps``."""
    pairs = options.same_step_runs()
    return {
        "steps": [tested.steps for tested, _ in pairs],
        "seeds": [[tested.seed, trusted.seed] for tested, trusted in pairs],
    }


def scheme_of(description: dict[str, Any], fallback: str | None) -> dict[str, Any]:
    """The scheme as the binary describes it; untrusted, so only well-typed, short values are kept."""
    name = description.get("scheme")
    kinds = description.get("step_kinds")
    if not isinstance(name, str) or len(name) > 200:
        name = fallback
    if not (isinstance(kinds, list) and len(kinds) <= 1000 and all(isinstance(k, str) and len(k) < 100 for k in kinds)):
        kinds = None
    return {"name": name, "step_kinds": kinds}


def _sdk_version() -> str:
    try:
        from architect import _native

        return str(_native.sdk_version())
    except ImportError:
        return "unknown (native module not built)"
