"""The one definition of a run's options: `Options`, whose fields carry their help text and CLI flag.

`architect.cli` derives its ``generate`` and ``verify`` flags from the fields marked for the command line
(`cli_fields`), `architect.gym.runner.RunSpec` takes its defaults from `DEFAULTS`, and the simulator's
wall-clock limit is `RUN_TIMEOUT_S` everywhere. An option travels CLI flag -> `Options` -> `RunSpec`
(`Options.runs` and the other designs) -> the binary's ``--name=value`` arguments (`RunSpec.arguments`).

This module imports nothing heavy at load time: the gym and the verifier import it.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from architect import sandbox
from architect.errors import UsageError

if TYPE_CHECKING:
    from architect.gym.runner import RunSpec

#: Wall-clock seconds one simulator run may take (``--timeout``; `sandbox.run_limits`).
RUN_TIMEOUT_S = 300.0

# The simulator binary's own defaults (`sdk-rs/src/cli.rs`, clap's `default_value_t`): what a user gets
# running a generated binary bare. Architect always passes every option explicitly (`RunSpec.arguments`),
# so these matter only where the verifier tests the step count users run (`verifier.runs.same_step_specs`).
SDK_DEFAULT_PATHS = 100_000
SDK_DEFAULT_STEPS = 200


def _option(default: Any, help: str, *, cli: bool = True, flag: str | None = None) -> Any:
    """A field of `Options`: its default, its ``--help`` text, and whether (and under which flag) the CLI has it.

    A boolean that defaults to True gets ``--no-<name>`` on the command line; one that defaults to False
    gets ``--<name>``. Without ``flag`` the name with dashes for underscores is used."""
    return field(default=default, metadata={"help": help, "cli": cli, "flag": flag})


@dataclass(frozen=True)
class Options:
    """How hard to test. The fine run uses twice the steps of the coarse one, with its own seed."""

    # 200 000 rather than 100 000: three 10% typos in jump models' compensator drift (z ≈ 4) are caught
    # only from here; the extrapolation's O(h²) residue stays below 0.4 standard errors (docs/verification.md §9).
    paths: int = _option(200_000, "paths per run (default %(default)s)")
    steps: int = _option(100, "coarse time steps; the fine run doubles them")
    horizon: float = _option(1.0, "time horizon T (default %(default)s)")
    seed: int = _option(1, "seed of the coarse run; fine uses seed+1")
    threads: int = _option(0, "0 = all cores (results do not depend on it)")
    checkpoints: int = _option(4, "equally spaced observation times", cli=False)
    alpha: float = _option(1e-3, "total false-fail rate (default %(default)s)")
    # Power sums up to degree 8: standard errors of third and fourth central moments.
    moment_degree: int = _option(8, "highest total degree of the power sums the binary reports", cli=False)
    timeout: float = _option(RUN_TIMEOUT_S, "wall-clock limit of each simulator run in seconds (default %(default)s)")
    # Refuse to build or run where a protection of the jail is missing (docs/security.md), instead of
    # recording the gap in the report.
    require_jail: bool = _option(
        False, "fail instead of running where a protection of the jail is missing (docs/security.md)"
    )
    # Run the statistics on a crate that is not provably the model (`architect.proof`) instead of failing it;
    # the verdict's reason then says so first.
    statistical_only: bool = _option(
        False,
        "verify statistically a crate that is not provably the model (the verdict says so) instead of failing it",
    )
    # Also observe the binary through the extended design (horizon 1.5 x horizon, checkpoints off the first
    # design's grid, a quarter of the paths; `verifier.runs.extended_specs`) and test its moments in the same
    # Holm family: a simulator that misbehaves only between the checkpoints or after the horizon fails.
    extended: bool = _option(
        True,
        "skip the extended design (horizon 1.5 T, checkpoints off the first grid, a quarter of the paths)",
    )
    # For a crate not proven to be the model (``statistical_only``): compare every moment at the step counts
    # users run (N and the binary's default) with the compiler's binary of the same scheme, without
    # extrapolation (`verifier.runs.same_step_specs`), so that an error linear in h, however large, fails.
    same_steps: bool = _option(
        True,
        "skip the same-step comparison of an unproven crate with the compiler's binary of the same scheme",
    )

    def __post_init__(self) -> None:
        if self.paths < 2:
            raise UsageError("--paths must be at least 2")
        if self.steps < 1 or self.checkpoints < 1 or self.steps % self.checkpoints:
            raise UsageError(
                f"--steps ({self.steps}) must be a positive multiple of the checkpoints ({self.checkpoints})"
            )
        if not 0 < self.horizon < float("inf"):
            raise UsageError("--horizon must be a positive number")
        if not 0 < self.alpha < 1:
            raise UsageError("--alpha must lie strictly between 0 and 1")
        if self.threads < 0 or self.seed < 0:
            raise UsageError("--threads and --seed must be non-negative")
        if not 0 < self.timeout < float("inf"):
            raise UsageError("--timeout must be a positive number of seconds")

    def run_limits(self) -> sandbox.Limits:
        """What one simulator run may use: the timeout, and CPU and memory for its threads."""
        from architect.gym.runner import MAX_STATS_BYTES

        return sandbox.run_limits(self.timeout, MAX_STATS_BYTES)

    def check_jail(self) -> None:
        """With ``require_jail``, a `UsageError` naming every protection this machine lacks."""
        if not self.require_jail:
            return
        missing = {
            f"{kind} {gap}"
            for kind, limits in (("build", sandbox.build_limits()), ("run", self.run_limits()))
            for gap in sandbox.missing_protections(limits, sandbox.View())
        }
        if missing:
            raise UsageError(
                "--require-jail: this machine lacks " + "; ".join(sorted(missing)) + " (install bubblewrap, "
                "and allow unprivileged user namespaces or run as root; see docs/security.md)"
            )

    def base_run(self) -> RunSpec:
        """The first design's coarse run; every other run is derived from it (`verifier.runs`)."""
        from architect.gym.runner import RunSpec

        return RunSpec(
            paths=self.paths,
            steps=self.steps,
            horizon=self.horizon,
            seed=self.seed,
            threads=self.threads,
            checkpoints=self.checkpoints,
            moment_degree=self.moment_degree,
        )

    def runs(self) -> tuple[RunSpec, ...]:
        """The tested binary's runs: N, 2N and 4N steps, seeds s, s+1, s+2."""
        from architect.verifier import runs

        return runs.tested_specs(self.base_run())

    def reference_runs(self) -> tuple[RunSpec, ...]:
        """The reference simulator's runs, for models without exact moments: 2N and 4N steps, seeds s+3, s+4."""
        from architect.verifier import runs

        return runs.reference_specs(self.base_run())

    def extended_runs(self) -> tuple[RunSpec, ...]:
        """The extended design's runs (none without ``extended``): horizon 1.5·T, K' checkpoints off the first
        design's grid, N', 2N', 4N' steps (N' ≈ 1.5·N, a multiple of K'), seeds s+5, s+6, s+7, paths / 4."""
        from architect.verifier import runs

        return runs.extended_specs(self.base_run()) if self.extended else ()

    def extended_reference_runs(self) -> tuple[RunSpec, ...]:
        """The extended design's reference runs, for models without exact moments: 2N', 4N' steps, seeds s+8, s+9."""
        from architect.verifier import runs

        return runs.extended_reference_specs(self.base_run()) if self.extended else ()

    def same_step_runs(self) -> tuple[tuple[RunSpec, RunSpec], ...]:
        """(tested, trusted) runs at the step counts users run: N and the binary's default (200), the trusted
        ones by the compiler's binary of the same scheme, seeds s+10, s+11 (`verifier.runs.same_step_specs`)."""
        from architect.verifier import runs

        return runs.same_step_specs(self.base_run())


#: `Options()`: the defaults every other definition of a run takes its own from.
DEFAULTS = Options()


@dataclass(frozen=True)
class CliOption:
    """One `Options` field as the command line offers it."""

    name: str  # the field
    flag: str  # e.g. ``--paths``, ``--no-extended``
    kind: type  # int, float or bool
    default: Any
    help: str


def cli_options() -> tuple[CliOption, ...]:
    """The `Options` fields the CLI offers, in their order, with the flag each gets."""
    hints = typing.get_type_hints(Options)
    out = []
    for item in dataclasses.fields(Options):
        if not item.metadata.get("cli"):
            continue
        kind = hints[item.name]
        flag = item.metadata.get("flag") or "--" + item.name.replace("_", "-")
        if kind is bool and item.default is True and not item.metadata.get("flag"):
            flag = "--no-" + item.name.replace("_", "-")
        out.append(CliOption(item.name, flag, kind, item.default, item.metadata["help"]))
    return tuple(out)


def from_values(values: dict[str, Any]) -> Options:
    """`Options` from a mapping that holds (at least) every CLI option's value by field name."""
    return Options(**{option.name: values[option.name] for option in cli_options()})


__all__ = [
    "DEFAULTS",
    "RUN_TIMEOUT_S",
    "SDK_DEFAULT_PATHS",
    "SDK_DEFAULT_STEPS",
    "CliOption",
    "Options",
    "cli_options",
    "from_values",
]
