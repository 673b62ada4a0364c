"""The one definition of a run's options: `Options`, whose fields carry their help text and CLI flag.

`architect.cli` derives its ``generate`` and ``verify`` flags from the fields marked for the command line
(`cli_fields`), `architect.gym.runner.RunSpec` takes its defaults from `DEFAULTS`, and the simulator's
wall-clock limit is `RUN_TIMEOUT_S` everywhere. An option travels CLI flag -> `Options` -> `RunSpec`
(`Options.runs` and the other designs) -> the binary's ``--name=value`` arguments (`RunSpec.arguments`); the
run-time values ``params`` and ``x0`` travel the same way and become ``--set=NAME=VALUE`` / ``--x0=NAME=VALUE``.

This module imports nothing heavy at load time: the gym and the verifier import it.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from architect import sandbox
from architect.errors import UsageError

#: Wall-clock seconds one simulator run may take (``--timeout``; `sandbox.run_limits`).
RUN_TIMEOUT_S = 300.0

# The simulator binary's own defaults (`sdk-rs/src/cli.rs`, clap's `default_value_t`): what a user gets
# running a generated binary bare. Architect always passes every option explicitly (`RunSpec.arguments`),
# so these matter only where the verifier tests the step count users run (`verifier.runs.same_step_specs`).
SDK_DEFAULT_PATHS = 100_000
SDK_DEFAULT_STEPS = 200
#: The most statistics a run may write (bytes): the gym reads no more (`gym.runner`).
MAX_STATS_BYTES = 64 * 1024 * 1024


class Values(Mapping[str, float]):
    """Run-time values by name (``--set``, ``--x0``), in the order given: a mapping that cannot change and can
    be hashed, so that `Options` and `RunSpec` stay frozen and comparable."""

    __slots__ = ("_values",)

    def __init__(self, pairs: Iterable[tuple[str, float]] = ()) -> None:
        self._values = dict(pairs)

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __hash__(self) -> int:
        return hash(tuple(self._values.items()))

    def __repr__(self) -> str:
        return f"Values({self._values!r})"


def values_of(given: Mapping[str, float] | Iterable[tuple[str, float]] | None, flag: str) -> Values:
    """``given`` (a mapping or (name, value) pairs) as `Values`: names are strings given once, values finite
    numbers. Whether the model has those names, and whether it allows those values, is the pipeline's check
    (`architect.pipeline.values`): this module does not know the model."""
    pairs = list(given.items() if isinstance(given, Mapping) else given or ())
    out: dict[str, float] = {}
    for pair in pairs:
        if not (isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)):
            raise UsageError(f"{flag} takes NAME=VALUE pairs, got {str(pair)[:80]!r}")
        name, value = pair
        if name in out:
            raise UsageError(f"{flag} {name} is given twice")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise UsageError(f"{flag} {name}={str(value)[:40]}: the value must be a finite number")
        out[name] = float(value)
    return Values(out.items())


def parse_value(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` from the command line (argparse's ``type``; its ValueError becomes a usage error)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValueError(f"expected NAME=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{text!r}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{text!r}: the value must be a finite number")
    return name.strip(), number


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
    # Run-time values (docs/gym.md, "Verifying at other values"): the crate is built from the model as parsed,
    # and every run of the verifier passes these to the binary (``--set``, ``--x0``), while the theory is
    # computed from the model at the same values. A mapping or (name, value) pairs; stored as `Values`.
    params: Mapping[str, float] = _option(
        Values(), "verify at this parameter value (repeatable); the binary keeps its compiled-in defaults", flag="--set"
    )
    x0: Mapping[str, float] = _option(
        Values(), "verify from this initial value of a state variable (repeatable)", flag="--x0"
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", values_of(self.params, "--set"))
        object.__setattr__(self, "x0", values_of(self.x0, "--x0"))
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
        return RunSpec(
            paths=self.paths,
            steps=self.steps,
            horizon=self.horizon,
            seed=self.seed,
            threads=self.threads,
            checkpoints=self.checkpoints,
            moment_degree=self.moment_degree,
            params=self.params,
            x0=self.x0,
        )

    def runs(self) -> tuple[RunSpec, ...]:
        """The tested binary's runs: N, 2N and 4N steps, seeds s, s+1, s+2."""
        return tested_specs(self.base_run())

    def reference_runs(self) -> tuple[RunSpec, ...]:
        """The reference simulator's runs, for models without exact moments: 2N and 4N steps, seeds s+3, s+4."""
        return reference_specs(self.base_run())

    def extended_runs(self) -> tuple[RunSpec, ...]:
        """The extended design's runs (none without ``extended``): horizon 1.5·T, K' checkpoints off the first
        design's grid, N', 2N', 4N' steps (N' ≈ 1.5·N, a multiple of K'), seeds s+5, s+6, s+7, paths / 4."""
        return extended_specs(self.base_run()) if self.extended else ()

    def extended_reference_runs(self) -> tuple[RunSpec, ...]:
        """The extended design's reference runs, for models without exact moments: 2N', 4N' steps, seeds s+8, s+9."""
        return extended_reference_specs(self.base_run()) if self.extended else ()

    def same_step_runs(self) -> tuple[tuple[RunSpec, RunSpec], ...]:
        """(tested, trusted) runs at the step counts users run: N and the binary's default (200), the trusted
        ones by the compiler's binary of the same scheme, seeds s+10, s+11 (`verifier.runs.same_step_specs`)."""
        return same_step_specs(self.base_run())


#: `Options()`: the defaults every other definition of a run takes its own from.
DEFAULTS = Options()


# ------------------------------------------------------------------------------------ one run, and the designs
@dataclass(frozen=True)
class RunSpec:
    """One simulation request, mirroring the binary's command-line options.

    Its defaults are `architect.options.DEFAULTS`' (the first design's coarse run at the default options), not
    the binary's own (`options.SDK_DEFAULT_PATHS`, `options.SDK_DEFAULT_STEPS`): every request spells out
    all of them (`arguments`)."""

    paths: int = DEFAULTS.paths
    steps: int = DEFAULTS.steps
    horizon: float = DEFAULTS.horizon
    seed: int = DEFAULTS.seed
    threads: int = DEFAULTS.threads
    checkpoints: int = DEFAULTS.checkpoints
    # 8: the standard errors of third and fourth central moments need power sums of twice their degree.
    moment_degree: int = DEFAULTS.moment_degree
    # Run-time parameter and initial values (`Options.params`, `Options.x0`), passed as ``--set``/``--x0``.
    params: Mapping[str, float] = Values()
    x0: Mapping[str, float] = Values()

    def arguments(self) -> list[str]:
        plain = {item.name: getattr(self, item.name) for item in dataclasses.fields(self)}
        del plain["params"], plain["x0"]
        arguments = [f"--{name.replace('_', '-')}={value}" for name, value in plain.items()]
        # repr: the shortest text that reads back as the same float, so the binary runs at exactly these values.
        arguments += [f"--set={name}={float(value)!r}" for name, value in self.params.items()]
        return arguments + [f"--x0={name}={float(value)!r}" for name, value in self.x0.items()]


def tested_specs(base: RunSpec) -> tuple[RunSpec, RunSpec, RunSpec]:
    """N, 2N, 4N steps with seeds s, s+1, s+2 from a spec with N steps and seed s."""
    return tuple(replace(base, steps=base.steps * 2**k, seed=base.seed + k) for k in range(3))  # type: ignore[return-value]


def reference_specs(base: RunSpec) -> tuple[RunSpec, RunSpec]:
    """2N and 4N steps with seeds s+3, s+4: a Richardson reference whose O(h²) residue is 4 times smaller
    than the tested estimate's. Finer steps would shrink it further but cost more than the whole tested
    verification, while the comparison's own residue is dominated by the tested side's anyway."""
    return tuple(replace(base, steps=base.steps * 2**k, seed=base.seed + k + 2) for k in (1, 2))  # type: ignore[return-value]


def extended_checkpoints(checkpoints: int) -> int:
    """K' for the extended design: the smallest count above K whose times 1.5·T·j/K' up to T all miss the
    first design's grid T·i/K (1.5·j/K' = i/K exactly when 2·K' divides 3·j·K)."""
    k = checkpoints + 1
    while any(3 * j * checkpoints % (2 * k) == 0 for j in range(1, k + 1) if 3 * j <= 2 * k):
        k += 1
    return k


#: The extended design runs this fraction of the paths (1/4): its three runs then cost 1.5/4 of the first
#: design's steps (docs/verification.md §1, where the measured cost is).
EXTENDED_PATHS_DIVISOR = 4
#: Its horizon, in units of the first design's.
EXTENDED_HORIZON = 1.5


def extended_base(base: RunSpec) -> RunSpec:
    """The extended design's coarse run, from the first design's: horizon 1.5·T, K' checkpoints, N' ≈ 1.5·N
    steps rounded to a multiple of K', seed s+5, a quarter of the paths (at least 2)."""
    k = extended_checkpoints(base.checkpoints)
    steps = max(1, round(EXTENDED_HORIZON * base.steps / k)) * k
    return replace(
        base,
        paths=max(2, base.paths // EXTENDED_PATHS_DIVISOR),
        steps=steps,
        horizon=EXTENDED_HORIZON * base.horizon,
        checkpoints=k,
        seed=base.seed + 5,
    )


def extended_specs(base: RunSpec) -> tuple[RunSpec, RunSpec, RunSpec]:
    """The extended design's tested runs: N', 2N', 4N' steps, seeds s+5, s+6, s+7."""
    return tested_specs(extended_base(base))


def extended_reference_specs(base: RunSpec) -> tuple[RunSpec, RunSpec]:
    """The extended design's reference runs: 2N' and 4N' steps, seeds s+8, s+9."""
    return reference_specs(extended_base(base))


SAME_STEP_SEEDS = (10, 11)
SAME_STEP_TESTED_SEED = 12
#: Seeds one verification may use, from s: the first design, its reference, the extended design and its
#: reference, the same-step design.
SEEDS_PER_VERIFICATION = 13


def same_step_specs(base: RunSpec, default_steps: int = SDK_DEFAULT_STEPS) -> tuple[tuple[RunSpec, RunSpec], ...]:
    """(tested, trusted) runs at N and at the binary's default step count (when it is a multiple of K)."""
    counts = sorted({base.steps} | ({default_steps} if default_steps % base.checkpoints == 0 else set()))
    first = {spec.steps: spec for spec in tested_specs(base)}
    return tuple(
        (
            first.get(steps, replace(base, steps=steps, seed=base.seed + SAME_STEP_TESTED_SEED)),
            replace(base, steps=steps, seed=base.seed + offset),
        )
        for steps, offset in zip(counts, SAME_STEP_SEEDS, strict=False)
    )


@dataclass(frozen=True)
class CliOption:
    """One `Options` field as the command line offers it."""

    name: str  # the field
    flag: str  # e.g. ``--paths``, ``--no-extended``, ``--set``
    kind: Any  # int, float, bool, or `Values` (a repeatable NAME=VALUE flag)
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
        if typing.get_origin(kind) is Mapping:  # params, x0: NAME=VALUE, repeatable
            kind = Values
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
    "MAX_STATS_BYTES",
    "RUN_TIMEOUT_S",
    "SDK_DEFAULT_PATHS",
    "SDK_DEFAULT_STEPS",
    "CliOption",
    "Options",
    "RunSpec",
    "Values",
    "cli_options",
    "from_values",
    "parse_value",
    "values_of",
]
