//! Exact transitions of one-dimensional, time-homogeneous models whose law is known.
//!
//! | step          | model                              | law of `X_{t+h}` given `X_t = x`                    |
//! |---------------|------------------------------------|-----------------------------------------------------|
//! | `ExactOu`     | `dX = (a + bX) dt + σ dW`          | normal, mean `x e^{bh} + a φ(b, h)`, variance `σ² φ(2b, h)` |
//! | `ExactGbm`    | `dX = μX dt + σX dW`               | `x exp((μ − σ²/2) h + σ √h Z)`                       |
//! | `ExactCir`    | `dX = (a + bX) dt + σ √X dW`       | `c · χ'²_d(λ)`: `c = σ² φ(b, h)/4`, `d = 4a/σ²`, `λ = x e^{bh}/c` |
//!
//! with `φ(b, h) = (e^{bh} − 1)/b` (`= h` when `b = 0`). `σ²` is the quadratic variation
//! `s ρ sᵀ` of the diffusion row, so several correlated noises are allowed.
//!
//! The coefficients are read from the model's own `drift` and `diffusion` (evaluated at a few
//! points), never passed separately, so the simulated law is the one the model's code states;
//! a model whose coefficients do not have the step's form is rejected at start-up.
//!
//! The non-central chi-square is drawn as `(Z + √λ)² + χ²_{d−1}` when `d > 1`, and as the
//! Poisson mixture `χ²_{d + 2N}`, `N ~ Poisson(λ/2)`, otherwise (gamma and Poisson variates
//! from `rand_distr`, drawing from the path's own stream).

use rand_distr::{Distribution, Gamma, Poisson};

use crate::error::SdkError;
use crate::rng::{PathRng, standard_normal};
use crate::scheme::{Step, quadratic_variation};
use crate::sde::Sde;

/// An exact transition law with its coefficients.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transition {
    /// `dX = (a + bX) dt + σ dW`, with `sigma2 = σ²`.
    Ou { a: f64, b: f64, sigma2: f64 },
    /// `dX = μX dt + σX dW`, with `sigma2 = σ²`.
    Gbm { mu: f64, sigma2: f64 },
    /// `dX = (a + bX) dt + σ √X dW`, with `sigma2 = σ²`.
    Cir { a: f64, b: f64, sigma2: f64 },
}

// Points at which the coefficients are read and their form is checked.
const XS: [f64; 4] = [0.0, 1.0, 2.0, 0.5];
const TS: [f64; 3] = [0.0, 1.0, 0.37];

impl Transition {
    /// Reads the law of `step` from a one-dimensional model's drift, diffusion and correlation.
    ///
    /// Fails when the model's coefficients do not have the step's form (checked at a few
    /// points and times, to a relative tolerance of 1e-9) or lie outside the law's range.
    pub fn from_model<const D: usize, const M: usize, S: Sde<D, M>>(
        model: &S,
        step: Step,
        correlation: &[[f64; M]; M],
    ) -> Result<Self, SdkError> {
        if D != 1 {
            return Err(SdkError::Model(format!(
                "the {} step needs a one-dimensional model, this one has {D} state variables",
                step.label()
            )));
        }
        let at = |t: f64, x: f64| -> (f64, f64) {
            let mut state = [0.0; D];
            state[0] = x;
            let b = model.drift(t, &state)[0];
            let s = model.diffusion(t, &state)[0];
            (b, quadratic_variation(&s, correlation))
        };
        let (b0, q0) = at(0.0, 0.0);
        let (b1, q1) = at(0.0, 1.0);
        let law = match step {
            Step::ExactOu => Transition::Ou {
                a: b0,
                b: b1 - b0,
                sigma2: q0,
            },
            Step::ExactGbm => Transition::Gbm { mu: b1, sigma2: q1 },
            Step::ExactCir => Transition::Cir {
                a: b0,
                b: b1 - b0,
                sigma2: q1,
            },
            other => {
                return Err(SdkError::Model(format!(
                    "{} is not an exact step",
                    other.label()
                )));
            }
        };
        for t in TS {
            for x in XS {
                let (b, q) = at(t, x);
                let (want_b, want_q) = law.coefficients(x);
                if !close(b, want_b) || !close(q, want_q) {
                    return Err(SdkError::Model(format!(
                        "the {} step needs {}, but at t={t}, x={x} the model has drift {b} and \
                         squared diffusion {q} instead of {want_b} and {want_q}",
                        step.label(),
                        law.form()
                    )));
                }
            }
        }
        law.check()?;
        Ok(law)
    }

    /// Drift and squared diffusion of the law's SDE at state `x`.
    pub fn coefficients(&self, x: f64) -> (f64, f64) {
        match *self {
            Transition::Ou { a, b, sigma2 } => (a + b * x, sigma2),
            Transition::Gbm { mu, sigma2 } => (mu * x, sigma2 * x * x),
            Transition::Cir { a, b, sigma2 } => (a + b * x, sigma2 * x),
        }
    }

    /// The SDE this law belongs to, in words.
    pub fn form(&self) -> &'static str {
        match self {
            Transition::Ou { .. } => "dX = (a + bX) dt + σ dW with constant a, b, σ",
            Transition::Gbm { .. } => "dX = μX dt + σX dW with constant μ, σ",
            Transition::Cir { .. } => "dX = (a + bX) dt + σ√X dW with constant a ≥ 0, b, σ",
        }
    }

    fn check(&self) -> Result<(), SdkError> {
        let (coefficients, ok) = match *self {
            Transition::Ou { a, b, sigma2 } => ([a, b, sigma2], sigma2 >= 0.0),
            Transition::Gbm { mu, sigma2 } => ([mu, 0.0, sigma2], sigma2 >= 0.0),
            Transition::Cir { a, b, sigma2 } => ([a, b, sigma2], a >= 0.0 && sigma2 >= 0.0),
        };
        if coefficients.iter().all(|c| c.is_finite()) && ok {
            Ok(())
        } else {
            Err(SdkError::Model(format!(
                "the coefficients {self:?} are outside the range of the exact law ({})",
                self.form()
            )))
        }
    }

    /// Whether `x` is a valid state for this law (CIR: `x ≥ 0`, GBM: `x > 0`).
    pub fn admits(&self, x: f64) -> bool {
        match self {
            Transition::Ou { .. } => x.is_finite(),
            Transition::Gbm { .. } => x.is_finite() && x > 0.0,
            Transition::Cir { .. } => x.is_finite() && x >= 0.0,
        }
    }

    /// The transition over a time step `h > 0`, with its constants computed once.
    pub fn over(&self, h: f64) -> Result<Sampler, SdkError> {
        let sampler = match *self {
            Transition::Ou { a, b, sigma2 } => Sampler::Ou {
                growth: (b * h).exp(),
                shift: a * phi(b, h),
                sd: (sigma2 * phi(2.0 * b, h)).sqrt(),
            },
            Transition::Gbm { mu, sigma2 } => Sampler::Gbm {
                drift: (mu - 0.5 * sigma2) * h,
                vol: (sigma2 * h).sqrt(),
            },
            Transition::Cir { a, b, sigma2 } => {
                let growth = (b * h).exp();
                if sigma2 == 0.0 {
                    Sampler::Deterministic {
                        growth,
                        shift: a * phi(b, h),
                    }
                } else {
                    let c = sigma2 * phi(b, h) / 4.0;
                    let d = 4.0 * a / sigma2;
                    let chi2 = (d > 1.0)
                        .then(|| Gamma::new((d - 1.0) / 2.0, 2.0))
                        .transpose()
                        .map_err(|e| SdkError::Model(format!("CIR transition: {e}")))?;
                    Sampler::Cir {
                        scale: c,
                        lambda_per_x: growth / c,
                        half_d: d / 2.0,
                        chi2,
                    }
                }
            }
        };
        Ok(sampler)
    }
}

/// `(e^{bh} − 1)/b`, and `h` when `b = 0`.
fn phi(b: f64, h: f64) -> f64 {
    if b == 0.0 { h } else { (b * h).exp_m1() / b }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// An exact transition over a fixed time step, ready to sample.
#[derive(Clone, Debug)]
pub enum Sampler {
    /// `growth · x + shift + sd · Z`.
    Ou { growth: f64, shift: f64, sd: f64 },
    /// `x · exp(drift + vol · Z)`.
    Gbm { drift: f64, vol: f64 },
    /// `scale · χ'²_{2 half_d}(lambda_per_x · x)`; `chi2` is `χ²_{d−1}` when `d > 1`.
    Cir {
        scale: f64,
        lambda_per_x: f64,
        half_d: f64,
        chi2: Option<Gamma<f64>>,
    },
    /// A CIR law without noise: `growth · x + shift`.
    Deterministic { growth: f64, shift: f64 },
}

impl Sampler {
    /// Draws the state one time step after `x`, from `rng`.
    #[inline]
    pub fn sample(&self, x: f64, rng: &mut PathRng) -> f64 {
        match self {
            Sampler::Ou { growth, shift, sd } => growth * x + shift + sd * standard_normal(rng),
            Sampler::Gbm { drift, vol } => x * (drift + vol * standard_normal(rng)).exp(),
            Sampler::Cir {
                scale,
                lambda_per_x,
                half_d,
                chi2,
            } => {
                let lambda = lambda_per_x * x.max(0.0);
                scale * noncentral_chi2(lambda, *half_d, chi2.as_ref(), rng)
            }
            Sampler::Deterministic { growth, shift } => growth * x + shift,
        }
    }
}

/// A draw of the non-central chi-square with `2 half_d` degrees of freedom and non-centrality
/// `lambda`; `chi2` is the central `χ²_{2 half_d − 1}` when `2 half_d > 1`.
fn noncentral_chi2(lambda: f64, half_d: f64, chi2: Option<&Gamma<f64>>, rng: &mut PathRng) -> f64 {
    match chi2 {
        Some(chi2) => {
            let z = standard_normal(rng) + lambda.sqrt();
            z * z + chi2.sample(rng)
        }
        None => noncentral_chi2_poisson(lambda, half_d, rng),
    }
}

/// The non-central chi-square with `2 half_d ≥ 0` degrees of freedom and non-centrality
/// `lambda ≥ 0` as a Poisson mixture of central ones: `χ²_{2 half_d + 2N}`, `N ~ Poisson(λ/2)`.
/// Valid for every `half_d`; the CIR step uses it when `2 half_d ≤ 1` (public so that tests can
/// compare the two algorithms).
pub fn noncentral_chi2_poisson(lambda: f64, half_d: f64, rng: &mut PathRng) -> f64 {
    let n = if lambda > 0.0 {
        Poisson::new(0.5 * lambda).map_or(f64::NAN, |p| p.sample(rng))
    } else {
        0.0
    };
    let shape = half_d + n;
    if shape > 0.0 {
        Gamma::new(shape, 2.0).map_or(f64::NAN, |g| g.sample(rng))
    } else {
        0.0
    }
}
