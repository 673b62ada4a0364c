//! Test models and helpers shared by the integration tests.
#![allow(dead_code)]

use architect_sdk::moments::PowerSums;
use architect_sdk::{RunConfig, Scheme, Sde, Step};

/// `dX = κ(θ − X) dt + σ dW`.
#[derive(Clone, Debug)]
pub struct Ou {
    pub kappa: f64,
    pub theta: f64,
    pub sigma: f64,
    pub x0: f64,
}

impl Default for Ou {
    fn default() -> Self {
        Ou {
            kappa: 2.0,
            theta: 1.0,
            sigma: 0.5,
            x0: 0.0,
        }
    }
}

pub const OU_SCHEME: Scheme<1> = Scheme::new("euler-maruyama", [Step::Euler]);

impl Sde<1, 1> for Ou {
    const NAME: &'static str = "ou";
    const STATE: [&'static str; 1] = ["x"];
    fn initial_state(&self) -> [f64; 1] {
        [self.x0]
    }
    fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
        [self.kappa * (self.theta - x[0])]
    }
    fn diffusion(&self, _t: f64, _x: &[f64; 1]) -> [[f64; 1]; 1] {
        [[self.sigma]]
    }
}

/// [`Ou`] with the time step folded into κ and σ (`Sde::per_step`), as generated crates do,
/// with parameters that are not powers of two (so the folded step rounds differently).
#[derive(Clone, Debug)]
pub struct ScaledOu(pub Ou);

impl Default for ScaledOu {
    fn default() -> Self {
        ScaledOu(Ou {
            kappa: 1.3,
            theta: 0.7,
            sigma: 0.3,
            x0: 0.1,
        })
    }
}

impl Sde<1, 1> for ScaledOu {
    const NAME: &'static str = "scaled-ou";
    const STATE: [&'static str; 1] = ["x"];
    fn initial_state(&self) -> [f64; 1] {
        self.0.initial_state()
    }
    fn drift(&self, t: f64, x: &[f64; 1]) -> [f64; 1] {
        self.0.drift(t, x)
    }
    fn diffusion(&self, t: f64, x: &[f64; 1]) -> [[f64; 1]; 1] {
        self.0.diffusion(t, x)
    }
    fn per_step(&self, h: f64, sqrt_h: f64) -> Option<Self> {
        Some(ScaledOu(Ou {
            kappa: self.0.kappa * h,
            sigma: self.0.sigma * sqrt_h,
            ..self.0.clone()
        }))
    }
}

/// `dS = μ S dt + σ S dW`.
#[derive(Clone, Debug)]
pub struct Gbm {
    pub mu: f64,
    pub sigma: f64,
    pub s0: f64,
}

impl Default for Gbm {
    fn default() -> Self {
        Gbm {
            mu: 0.1,
            sigma: 0.4,
            s0: 2.0,
        }
    }
}

pub const GBM_SCHEME: Scheme<1> = Scheme::new("log-euler", [Step::LogEuler]);

impl Sde<1, 1> for Gbm {
    const NAME: &'static str = "gbm";
    const STATE: [&'static str; 1] = ["s"];
    fn initial_state(&self) -> [f64; 1] {
        [self.s0]
    }
    fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
        [self.mu * x[0]]
    }
    fn diffusion(&self, _t: f64, x: &[f64; 1]) -> [[f64; 1]; 1] {
        [[self.sigma * x[0]]]
    }
}

/// `dX = κ(θ − X) dt + σ √X dW` (Cox–Ingersoll–Ross).
#[derive(Clone, Debug)]
pub struct Cir {
    pub kappa: f64,
    pub theta: f64,
    pub sigma: f64,
    pub x0: f64,
}

impl Default for Cir {
    fn default() -> Self {
        Cir {
            kappa: 2.0,
            theta: 0.04,
            sigma: 0.3,
            x0: 0.03,
        }
    }
}

impl Sde<1, 1> for Cir {
    const NAME: &'static str = "cir";
    const STATE: [&'static str; 1] = ["x"];
    fn initial_state(&self) -> [f64; 1] {
        [self.x0]
    }
    fn drift(&self, _t: f64, x: &[f64; 1]) -> [f64; 1] {
        [self.kappa * (self.theta - x[0])]
    }
    fn diffusion(&self, _t: f64, x: &[f64; 1]) -> [[f64; 1]; 1] {
        [[self.sigma * x[0].sqrt()]]
    }
}

/// Two Brownian motions with correlation `rho`: `dX_i = s_i dW_i`, plus an optional drift.
#[derive(Clone, Debug)]
pub struct Correlated {
    pub rho: f64,
    pub scale: [f64; 2],
    pub drift: [f64; 2],
}

impl Default for Correlated {
    fn default() -> Self {
        Correlated {
            rho: 0.6,
            scale: [1.0, 0.5],
            drift: [0.0, 0.0],
        }
    }
}

pub const CORRELATED_SCHEME: Scheme<2> = Scheme::new("euler-maruyama", [Step::Euler, Step::Euler]);

impl Sde<2, 2> for Correlated {
    const NAME: &'static str = "correlated";
    const STATE: [&'static str; 2] = ["x", "y"];
    fn initial_state(&self) -> [f64; 2] {
        [0.0, 1.0]
    }
    fn drift(&self, _t: f64, _x: &[f64; 2]) -> [f64; 2] {
        self.drift
    }
    fn diffusion(&self, _t: f64, _x: &[f64; 2]) -> [[f64; 2]; 2] {
        [[self.scale[0], 0.0], [0.0, self.scale[1]]]
    }
    fn correlation(&self) -> [[f64; 2]; 2] {
        [[1.0, self.rho], [self.rho, 1.0]]
    }
}

/// A Heston-like pair with a state-dependent, correlated diffusion: `x` Euler, `v` CIR with
/// full truncation (Feller condition violated so `v` often goes negative internally).
#[derive(Clone, Debug)]
pub struct Heston {
    pub kappa: f64,
    pub theta: f64,
    pub xi: f64,
    pub rho: f64,
}

impl Default for Heston {
    fn default() -> Self {
        Heston {
            kappa: 1.0,
            theta: 0.04,
            xi: 1.0,
            rho: -0.7,
        }
    }
}

pub const HESTON_SCHEME: Scheme<2> = Scheme::new(
    "euler-maruyama+full-truncation",
    [Step::Euler, Step::FullTruncation],
);

impl Sde<2, 2> for Heston {
    const NAME: &'static str = "heston";
    const STATE: [&'static str; 2] = ["x", "v"];
    fn initial_state(&self) -> [f64; 2] {
        [0.0, 0.04]
    }
    fn drift(&self, _t: f64, x: &[f64; 2]) -> [f64; 2] {
        [-0.5 * x[1], self.kappa * (self.theta - x[1])]
    }
    fn diffusion(&self, _t: f64, x: &[f64; 2]) -> [[f64; 2]; 2] {
        // sqrt of a negative would be NaN: this relies on the scheme truncating `v` first.
        let sv = x[1].sqrt();
        [[sv, 0.0], [0.0, self.xi * sv]]
    }
    fn correlation(&self) -> [[f64; 2]; 2] {
        [[1.0, self.rho], [self.rho, 1.0]]
    }
}

/// A small run configuration.
pub fn config(paths: u64, steps: u64, checkpoints: u64) -> RunConfig {
    RunConfig {
        paths,
        steps,
        horizon: 1.0,
        seed: 42,
        threads: 2,
        checkpoints,
        moment_degree: 2,
        keep_terminal: false,
        kernel: architect_sdk::simd::Kernel::detect(),
        ..RunConfig::default()
    }
}

/// Mean and variance of component 0 of a 1-D run from its power sums (degree ≥ 2).
pub fn mean_var_1d(sums: &PowerSums, shift: f64) -> (f64, f64) {
    let n = sums.count as f64;
    let m1 = sums.sums[0] / n;
    let m2 = sums.sums[1] / n;
    (shift + m1, (m2 - m1 * m1) * n / (n - 1.0))
}

/// The error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
pub fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x < 0.0 { -y } else { y }
}

/// The standard normal CDF.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// Kolmogorov–Smirnov statistic of `sample` against N(0, 1).
pub fn ks_statistic(sample: &mut [f64]) -> f64 {
    ks_statistic_against(sample, normal_cdf)
}

/// Kolmogorov–Smirnov statistic of `sample` against the distribution function `cdf`.
pub fn ks_statistic_against(sample: &mut [f64], cdf: impl Fn(f64) -> f64) -> f64 {
    sample.sort_by(f64::total_cmp);
    let n = sample.len() as f64;
    sample
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i as f64 + 1.0) / n - f)
        })
        .fold(0.0, f64::max)
}

/// Critical value of the one-sample KS statistic at level 0.001 (asymptotic): 1.949/√n.
pub fn ks_critical(n: usize) -> f64 {
    1.949 / (n as f64).sqrt()
}

/// The normal survival function `P(Z > x)` for `x ≥ 2`, to about 1e-15 relative error:
/// `φ(x)` times Laplace's continued fraction for the Mills ratio.
pub fn normal_tail(x: f64) -> f64 {
    assert!(x >= 2.0);
    let mut t = x;
    for k in (1..=300).rev() {
        t = x + k as f64 / t;
    }
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt() / t
}

/// The upper `level` quantile of the chi-square distribution with `df` degrees of freedom
/// (Wilson–Hilferty; `z` is the matching upper standard normal quantile).
pub fn chi2_quantile(df: f64, z: f64) -> f64 {
    let c = 2.0 / (9.0 * df);
    df * (1.0 - c + z * c.sqrt()).powi(3)
}
