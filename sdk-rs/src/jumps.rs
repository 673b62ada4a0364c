//! Compound-Poisson jumps added to state variables, sampled exactly over each time step.
//!
//! A model's [`Jump`] parts (from [`Sde::jumps`](crate::Sde::jumps)) say that `x[variable]`
//! receives `J(t) = Σ_{k ≤ N(t)} Y_k`: `N` a Poisson process of rate `intensity`, the sizes
//! `Y_k` i.i.d. of law [`JumpSize`] and independent of everything else. Over a step of length
//! `h` the increment of `J` is, exactly in law, a `Poisson(λh)` count `n` followed by the sum
//! of `n` sizes; the engine adds it after the diffusion step (the jump part is independent of
//! the Brownian increments, so the order inside a step does not matter for the law).
//!
//! Draw order, per path and step, from the path's own jump stream ([`crate::rng::jump_rng`],
//! separate from its normals): for each jump part in model order, the count (nothing when the
//! intensity is 0), then the sizes — one normal for a normal law whatever `n ≥ 1` is
//! (`n m + √n s Z` is exactly the sum of `n` normals), and one uniform for the direction plus
//! one uniform for the magnitude per double-exponential jump. Everything comes from the path's
//! own streams, so results stay bit-identical for any thread count.

use rand_distr::{Distribution, Poisson};

use crate::error::SdkError;
use crate::rng::{PathRng, standard_normal};
use crate::scheme::Step;
// What a model declares lives with the model trait (so that `sde` does not depend on this
// module, which depends on `scheme`, which depends on `sde`); re-exported under its old path.
pub use crate::sde::{Jump, JumpSize};

/// The jump parts of a model, ready to add their increments over steps of one length.
#[derive(Clone, Debug)]
pub struct JumpSampler {
    // (variable, count law over one step (None: intensity 0), size law)
    parts: Vec<(usize, Option<Poisson<f64>>, JumpSize)>,
}

impl JumpSampler {
    /// Sampler for steps of length `h` (> 0) of a model with `dim` state variables.
    pub fn new(jumps: &[Jump], dim: usize, h: f64) -> Result<Self, SdkError> {
        let mut parts = Vec::with_capacity(jumps.len());
        for (k, jump) in jumps.iter().enumerate() {
            jump.check(dim)?;
            if jumps[..k].iter().any(|j| j.variable == jump.variable) {
                return Err(SdkError::Model(format!(
                    "state variable {} has two jump parts",
                    jump.variable
                )));
            }
            let rate = jump.intensity * h;
            let count = (rate > 0.0)
                .then(|| Poisson::new(rate))
                .transpose()
                .map_err(|e| SdkError::Model(format!("jump count over one step: {e}")))?;
            parts.push((jump.variable, count, jump.size));
        }
        Ok(JumpSampler { parts })
    }

    /// The sampler of a run with steps of length `h`: jumps are added to the stepped state, so
    /// jumping components need plain (Euler or full-truncation) steps — an exact transition
    /// moves only between observation dates, and a log-Euler component holds log x, to which an
    /// additive jump in x cannot be added.
    pub fn for_run<const D: usize>(
        jumps: &[Jump],
        steps: &[Step; D],
        names: [&str; D],
        exact: bool,
        h: f64,
    ) -> Result<Self, SdkError> {
        let sampler = JumpSampler::new(jumps, D, h)?;
        if sampler.is_empty() {
            return Ok(sampler);
        }
        if exact {
            return Err(SdkError::Model(
                "exact transition steps do not simulate jumps; use Euler steps".into(),
            ));
        }
        if let Some(i) = sampler.variables().find(|&i| !steps[i].admits_jumps()) {
            return Err(SdkError::Model(format!(
                "{} jumps, so it cannot use the {} step (use euler)",
                names[i],
                steps[i].label()
            )));
        }
        Ok(sampler)
    }

    /// Whether the model has no jump part.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The variables that jump.
    pub fn variables(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().map(|(i, _, _)| *i)
    }

    /// Adds one step's jump increments to `x`.
    #[inline]
    pub fn apply<const D: usize>(&self, x: &mut [f64; D], rng: &mut PathRng) {
        for (i, count, size) in &self.parts {
            if let Some(count) = count {
                let n = poisson_count(count, rng);
                if n > 0 {
                    x[*i] += jump_sum(size, n, rng);
                }
            }
        }
    }
}

/// One `Poisson` count as an integer (rand_distr samples it as a float holding an integer).
#[inline]
pub fn poisson_count(law: &Poisson<f64>, rng: &mut PathRng) -> u64 {
    law.sample(rng) as u64
}

/// The sum of `n` independent sizes of law `size` (0 for `n = 0`).
pub fn jump_sum(size: &JumpSize, n: u64, rng: &mut PathRng) -> f64 {
    match *size {
        JumpSize::Normal { mean, sd } => {
            if n == 0 {
                return 0.0;
            }
            let n = n as f64;
            n * mean + n.sqrt() * sd * standard_normal(rng)
        }
        JumpSize::DoubleExponential { p, eta1, eta2 } => {
            let mut sum = 0.0;
            for _ in 0..n {
                let up = rng.uniform() < p;
                // −ln U with U in (0, 1] is Exp(1), finite.
                let e = -rng.uniform_open0().ln();
                sum += if up { e / eta1 } else { -e / eta2 };
            }
            sum
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::path_rng;

    fn moments(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    // Two-sided check of a sample mean at about 5 standard errors (false alarm ~6e-7 per check).
    fn assert_mean(xs: &[f64], mean: f64, var: f64) {
        let (m, _) = moments(xs);
        let se = (var / xs.len() as f64).sqrt();
        assert!((m - mean).abs() < 5.0 * se, "mean {m} vs {mean} (se {se})");
    }

    #[test]
    fn poisson_counts_have_the_poisson_mean_variance_and_zero_probability() {
        for rate in [0.004, 0.3, 2.5, 40.0] {
            let law = Poisson::new(rate).unwrap();
            let mut rng = path_rng(11, 3);
            let xs: Vec<f64> = (0..200_000)
                .map(|_| poisson_count(&law, &mut rng) as f64)
                .collect();
            assert_mean(&xs, rate, rate);
            // Variance of the sample variance of a Poisson: (μ4 − σ⁴)/n with μ4 = λ(1 + 3λ).
            let (_, var) = moments(&xs);
            let se = ((rate * (1.0 + 3.0 * rate) - rate * rate) / xs.len() as f64).sqrt();
            assert!((var - rate).abs() < 5.0 * se, "variance {var} vs {rate}");
            let zeros = xs.iter().filter(|&&x| x == 0.0).count() as f64 / xs.len() as f64;
            let p0 = (-rate).exp();
            let se0 = (p0 * (1.0 - p0) / xs.len() as f64).sqrt().max(1e-12);
            assert!((zeros - p0).abs() < 5.0 * se0, "P(N=0) {zeros} vs {p0}");
        }
    }

    // Kolmogorov–Smirnov distance of a sample from a continuous CDF.
    fn ks(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(k, &x)| {
                let f = cdf(x);
                (f - k as f64 / n).abs().max((f - (k + 1) as f64 / n).abs())
            })
            .fold(0.0, f64::max)
    }

    // KS critical value at level 1e-6 (asymptotic: sqrt(ln(2/α)/2)/sqrt(n)).
    fn ks_critical(n: usize) -> f64 {
        ((2.0f64 / 1e-6).ln() / 2.0).sqrt() / (n as f64).sqrt()
    }

    fn normal_cdf(x: f64) -> f64 {
        0.5 * erfc(-x / std::f64::consts::SQRT_2)
    }

    // erfc with |error| < 1.2e-7 (Numerical Recipes' Chebyshev fit), ample against a KS bound of ~4e-3.
    fn erfc(x: f64) -> f64 {
        let z = x.abs();
        let t = 1.0 / (1.0 + 0.5 * z);
        let poly = -z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77))))))));
        let r = t * poly.exp();
        if x >= 0.0 { r } else { 2.0 - r }
    }

    #[test]
    fn normal_jump_sums_follow_the_exact_normal_law() {
        let size = JumpSize::Normal {
            mean: -0.1,
            sd: 0.15,
        };
        let mut rng = path_rng(5, 8);
        for n in [1u64, 3, 17] {
            let xs: Vec<f64> = (0..100_000).map(|_| jump_sum(&size, n, &mut rng)).collect();
            let (m, s) = (-0.1 * n as f64, 0.15 * (n as f64).sqrt());
            let d = ks(xs.clone(), |x| normal_cdf((x - m) / s));
            assert!(d < ks_critical(xs.len()), "n = {n}: KS distance {d}");
        }
    }

    #[test]
    fn double_exponential_sizes_follow_the_exact_law_and_sums_their_moments() {
        let (p, eta1, eta2) = (0.4, 10.0, 5.0);
        let size = JumpSize::DoubleExponential { p, eta1, eta2 };
        let mut rng = path_rng(7, 1);
        let xs: Vec<f64> = (0..100_000).map(|_| jump_sum(&size, 1, &mut rng)).collect();
        let cdf = |x: f64| {
            if x < 0.0 {
                (1.0 - p) * (eta2 * x).exp()
            } else {
                (1.0 - p) + p * (1.0 - (-eta1 * x).exp())
            }
        };
        let d = ks(xs, cdf);
        assert!(d < ks_critical(100_000), "KS distance {d}");
        // The sum of n sizes: mean n E[Y], variance n Var[Y].
        let mean1 = p / eta1 - (1.0 - p) / eta2;
        let second = 2.0 * p / (eta1 * eta1) + 2.0 * (1.0 - p) / (eta2 * eta2);
        let n = 6;
        let sums: Vec<f64> = (0..100_000).map(|_| jump_sum(&size, n, &mut rng)).collect();
        assert_mean(&sums, n as f64 * mean1, n as f64 * (second - mean1 * mean1));
    }

    #[test]
    fn the_sampler_adds_compound_poisson_increments_with_the_exact_moments() {
        // E[J_h] = λ h E[Y], Var[J_h] = λ h E[Y²] over one step.
        let jump = Jump {
            variable: 1,
            intensity: 3.0,
            size: JumpSize::Normal { mean: 0.2, sd: 0.1 },
        };
        let h = 0.1;
        let sampler = JumpSampler::new(&[jump], 2, h).unwrap();
        let mut rng = path_rng(1, 2);
        let xs: Vec<f64> = (0..200_000)
            .map(|_| {
                let mut x = [7.0, 0.0];
                sampler.apply(&mut x, &mut rng);
                assert_eq!(x[0], 7.0);
                x[1]
            })
            .collect();
        assert_mean(&xs, 3.0 * h * 0.2, 3.0 * h * (0.01 + 0.04));
    }

    #[test]
    fn bad_jump_parameters_are_refused() {
        let normal = |sd| JumpSize::Normal { mean: 0.0, sd };
        let bad = [
            Jump {
                variable: 2,
                intensity: 1.0,
                size: normal(0.1),
            },
            Jump {
                variable: 0,
                intensity: -1.0,
                size: normal(0.1),
            },
            Jump {
                variable: 0,
                intensity: 1.0,
                size: normal(0.0),
            },
            Jump {
                variable: 0,
                intensity: 1.0,
                size: JumpSize::DoubleExponential {
                    p: 0.5,
                    eta1: 1.0,
                    eta2: 2.0,
                },
            },
            Jump {
                variable: 0,
                intensity: 1.0,
                size: JumpSize::DoubleExponential {
                    p: 1.5,
                    eta1: 3.0,
                    eta2: 2.0,
                },
            },
        ];
        for jump in bad {
            assert!(JumpSampler::new(&[jump], 2, 0.01).is_err(), "{jump:?}");
        }
        let zero = Jump {
            variable: 0,
            intensity: 0.0,
            size: normal(0.1),
        };
        let sampler = JumpSampler::new(&[zero], 1, 0.01).unwrap();
        let mut x = [1.0];
        sampler.apply(&mut x, &mut path_rng(0, 0));
        assert_eq!(x, [1.0]);
    }
}
