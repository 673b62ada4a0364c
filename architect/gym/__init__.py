"""The gym runs simulator binaries, each in its own process, and collects their statistics."""

from architect.gym.runner import RunOutcome, RunSpec, describe, run_simulation

__all__ = ["RunOutcome", "RunSpec", "describe", "run_simulation"]
