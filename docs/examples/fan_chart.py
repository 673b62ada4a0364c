"""A fan chart of Heston paths from a generated simulator, with the exact mean and ±2 exact standard deviations.

    python docs/examples/fan_chart.py [--out architect-out/heston] [--paths 20000] [--image FILE.png]

The paths come from `Simulator.paths` (daily steps over two years, every third day kept), started from a variance
of 0.09 instead of the model's 0.04 (``x0={"v": 0.09}``) to show it revert. The exact moments are not simulated: they
are the verifier's own (`architect.verifier.theory.PolynomialMoments`: the model's generator on polynomials,
exact for Heston's log-price x and variance v alike), so the bands the paths fill and the lines drawn over them
come from independent sources. The shaded bands are the paths' percentiles (5-95 % and 25-75 %, the median
dotted); the solid line is E[X_t], the dashed ones E[X_t] ± 2 sd[X_t].
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import architect
from architect.verifier.theory import PolynomialMoments

HORIZON = 2.0
DAYS = 2 * 360
#: Dates kept (every third day): the picture does not need more, and the array stays small.
DATES = DAYS // 3
#: The paths start from this initial state (a run-time value: the binary is unchanged).
START = {"v": 0.09}
#: Percentile bands, outermost first, and how strongly each is shaded.
BANDS = ((5.0, 95.0, 0.25), (25.0, 75.0, 0.45))


def heston_simulator(out: Path, verify_paths: int = 200_000) -> architect.Simulator:
    """The simulator in ``out``: reused when it is verified, otherwise generated (and verified) there."""
    if (out / "model.json").is_file():
        sim = architect.Simulator(out)
        if sim.verified and sim.model.name == "Heston":
            return sim
        sim.close()
    result = architect.generate("Heston", out=out, options=architect.Options(paths=verify_paths))
    if not result.passed:
        raise SystemExit(f"the generated simulator did not verify: {result.report['reason']}")
    return result.simulator()


def exact_bands(model: architect.SdeModel, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """E[X_t] and sd[X_t] at ``times``, shape (len(times), D), from the model's generator (degree 2)."""
    theory = PolynomialMoments.from_model(model, 2)
    mean = np.array([theory.mean(float(t)) for t in times])
    sd = np.array([np.sqrt(np.clip(np.diag(theory.covariance(float(t))), 0.0, None)) for t in times])
    return mean, sd


def fan_chart(sim: architect.Simulator, paths: int, image: Path, seed: int = 0) -> dict[str, float]:
    """Draw the chart into ``image`` (PNG); returns, per state variable, the largest gap between the paths'
    mean and the exact one over the dates, in units of its standard error (a check that the picture is right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = sim.paths(paths, steps=DAYS, horizon=HORIZON, seed=seed, dates=DATES, x0=START)
    t = sim.times(DAYS, horizon=HORIZON, dates=DATES)
    # The theory at the same start: the model's initial value of v replaced (`with_parameters`' "v0").
    mean, sd = exact_bands(sim.model.with_parameters(**{f"{name}0": value for name, value in START.items()}), t)
    labels = {"x": "log-price x = log S", "v": "variance v"}
    figure, axes = plt.subplots(1, sim.model.dim, figsize=(5.2 * sim.model.dim, 3.8), squeeze=False)
    gaps = {}
    for i, (name, ax) in enumerate(zip(sim.state, axes[0], strict=True)):
        column = x[:, :, i]
        for low, high, alpha in BANDS:
            lower, upper = np.percentile(column, [low, high], axis=0)
            ax.fill_between(t, lower, upper, color="#1f6fb2", alpha=alpha, lw=0, label=f"paths {low:g}-{high:g} %")
        ax.plot(t, np.median(column, axis=0), color="#1f6fb2", lw=1, ls=":", label="paths' median")
        ax.plot(t, mean[:, i], color="#c62828", lw=1.6, label="exact mean")
        for sign in (-1, 1):
            ax.plot(t, mean[:, i] + 2 * sign * sd[:, i], color="#c62828", lw=1, ls="--", label="exact mean ± 2 sd")
        ax.set(title=labels.get(name, name), xlabel="t (years)")
        gaps[name] = float(np.max(np.abs(column[:, 1:].mean(axis=0) - mean[1:, i]) / (sd[1:, i] / np.sqrt(paths))))
    handles, names = axes[0][0].get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))  # the two ± 2 sd lines share one entry
    axes[0][0].legend(unique.values(), unique.keys(), fontsize=7, loc="upper left")
    title = f"{sim.model.name}, v(0) = {START['v']:g}: {paths:,} simulated paths over {HORIZON:g} years"
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    image.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(image, dpi=110)
    plt.close(figure)
    return gaps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("architect-out/heston"), help="the simulator's folder")
    parser.add_argument("--paths", type=int, default=20_000)
    parser.add_argument("--image", type=Path, default=Path("docs/img/paths_fan_chart.png"))
    args = parser.parse_args(argv)
    with heston_simulator(args.out) as sim:
        gaps = fan_chart(sim, args.paths, args.image)
    shown = ", ".join(f"{name} {gap:.1f}" for name, gap in gaps.items())
    print(f"wrote {args.image}; largest |paths' mean - exact mean| / SE over the dates: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
