//! Stepping schemes: one update rule per state component, and the step itself.
//!
//! This module is the registry of step kinds: each [`Step`] knows its names, the components it
//! updates, its weak order, whether it samples the exact law and whether jumps may ride on it
//! ([`Step::info`]). Everything else reads these facts from here: the engine, the jump sampler,
//! and Python through `architect._native.schemes()` (the table `architect/schemes.py`).

use crate::error::SdkError;
use crate::sde::{Domain, Sde};

/// How one state component is advanced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Euler–Maruyama: `x += b h + σ dW`.
    Euler,
    /// Euler–Maruyama with full truncation: coefficients see `max(x, 0)`, and so does the observer;
    /// for a component whose domain is an interval `[a, b]` ([`crate::Domain::Interval`]), they see
    /// `min(max(x, a), b)`: truncation at both ends ([`Stepper::within`]).
    FullTruncation,
    /// Euler–Maruyama on `log x` (positive processes); exact for geometric Brownian motion.
    LogEuler,
    /// Exact Gaussian transition of `dX = (a + bX) dt + σ dW` (Ornstein–Uhlenbeck, Vasicek,
    /// arithmetic Brownian motion), one draw per observation date; see [`crate::exact`].
    ExactOu,
    /// Exact log-normal transition of `dX = μX dt + σX dW`, one draw per observation date.
    ExactGbm,
    /// Exact scaled non-central chi-square transition of `dX = (a + bX) dt + σ√X dW`
    /// (Cox–Ingersoll–Ross), one draw per observation date.
    ExactCir,
}

/// The state components a step updates.
///
/// Every step so far updates its own component only ([`Components::Own`]): component `i`
/// is advanced by `steps[i]` from the state at the start of the step. A scheme that advances
/// several components together — Andersen's QE step for Heston's variance and log-price,
/// Milstein with the cross terms of several noises — would add a variant naming the
/// components it updates jointly (e.g. `Block(n)`: this component and the next `n − 1`, which
/// would then declare the same step), and [`Stepper`] would advance such a block in one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Components {
    /// Only the component the step is declared for.
    Own,
}

impl Components {
    /// The name used in [`Step::info`]'s description (`"own"`).
    pub const fn label(&self) -> &'static str {
        match self {
            Components::Own => "own",
        }
    }
}

/// What the SDK knows about one step kind: the single description of it that the engine and
/// Python (`architect._native.schemes()`, `architect/schemes.py`) read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepInfo {
    /// The step itself.
    pub step: Step,
    /// The Rust variant's name (`"FullTruncation"`), as generated `model.rs` files write it.
    pub variant: &'static str,
    /// The name in the statistics JSON (`step_kinds`) and `--describe` (`"full-truncation"`).
    pub label: &'static str,
    /// The name of a scheme made of this step (`"euler-maruyama"`; `"exact"` for exact steps),
    /// from which the compiler names schemes (joined with `+`).
    pub scheme_name: &'static str,
    /// The components one application of the step updates.
    pub components: Components,
    /// Weak order of convergence in the time step (`None` for exact steps: no time
    /// discretisation, no discretisation error).
    pub weak_order: Option<u32>,
    /// Whether the step samples the exact transition law between observation dates (one draw
    /// per date) instead of discretising time; such a step must be a scheme's only one.
    pub exact: bool,
    /// Whether compound-Poisson jumps may be added to the component it steps (the engine adds
    /// them to the stepped state after each time step).
    pub jumps: bool,
    /// Families of one-dimensional laws on which the step is exact in law (`"abm"`: constant
    /// coefficients, `"ou"`, `"gbm"`, `"cir"`); the verifier excuses no bias there.
    pub exact_on: &'static [&'static str],
}

impl Step {
    /// Every step kind, in declaration order.
    pub const ALL: [Step; 6] = [
        Step::Euler,
        Step::FullTruncation,
        Step::LogEuler,
        Step::ExactOu,
        Step::ExactGbm,
        Step::ExactCir,
    ];

    /// The description of this step kind (the registry entry).
    pub const fn info(&self) -> StepInfo {
        const fn info(
            step: Step,
            variant: &'static str,
            label: &'static str,
            scheme_name: &'static str,
            weak_order: Option<u32>,
            jumps: bool,
            exact_on: &'static [&'static str],
        ) -> StepInfo {
            StepInfo {
                step,
                variant,
                label,
                scheme_name,
                components: Components::Own,
                weak_order,
                exact: weak_order.is_none(),
                jumps,
                exact_on,
            }
        }
        let s = *self;
        match self {
            Step::Euler => info(
                s,
                "Euler",
                self.label(),
                "euler-maruyama",
                Some(1),
                true,
                &["abm"],
            ),
            Step::FullTruncation => info(
                s,
                "FullTruncation",
                self.label(),
                "full-truncation",
                Some(1),
                true,
                &[],
            ),
            // Jumps are additive in x, and a log-Euler component is stepped in log x.
            Step::LogEuler => info(
                s,
                "LogEuler",
                self.label(),
                "log-euler",
                Some(1),
                false,
                &["gbm"],
            ),
            // Exact steps move only between observation dates, jumps come per time step.
            Step::ExactOu => info(
                s,
                "ExactOu",
                self.label(),
                "exact",
                None,
                false,
                &["ou", "abm"],
            ),
            Step::ExactGbm => info(s, "ExactGbm", self.label(), "exact", None, false, &["gbm"]),
            Step::ExactCir => info(s, "ExactCir", self.label(), "exact", None, false, &["cir"]),
        }
    }

    /// The name used in the statistics JSON (`step_kinds`).
    pub const fn label(&self) -> &'static str {
        match self {
            Step::Euler => "euler",
            Step::FullTruncation => "full-truncation",
            Step::LogEuler => "log-euler",
            Step::ExactOu => "exact-ou",
            Step::ExactGbm => "exact-gbm",
            Step::ExactCir => "exact-cir",
        }
    }

    /// Whether this step samples the exact transition law (one draw per observation date)
    /// rather than discretising time.
    pub const fn is_exact(&self) -> bool {
        self.info().exact
    }

    /// Whether compound-Poisson jumps may be added to a component stepped by this step.
    pub const fn admits_jumps(&self) -> bool {
        self.info().jumps
    }
}

/// A named scheme: one [`Step`] per state component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scheme<const D: usize> {
    /// Scheme name, reported in the statistics JSON.
    pub name: &'static str,
    /// Update rule of each state component.
    pub steps: [Step; D],
}

impl<const D: usize> Scheme<D> {
    /// A scheme called `name` that advances component `i` with `steps[i]`.
    pub const fn new(name: &'static str, steps: [Step; D]) -> Self {
        Scheme { name, steps }
    }

    /// The labels of the steps, in state order.
    pub fn step_kinds(&self) -> [&'static str; D] {
        self.steps.map(|s| s.label())
    }

    /// Whether the engine samples this scheme by exact transitions (some step is exact; then
    /// it must be the only one, see [`Scheme::exact_step`]) rather than by time steps.
    ///
    /// A `const fn`, so that a generated `main` can make this choice at compile time and compile
    /// only the engine path it needs ([`crate::cli::run_as`]).
    pub const fn is_exact(&self) -> bool {
        let mut i = 0;
        while i < D {
            if self.steps[i].is_exact() {
                return true;
            }
            i += 1;
        }
        false
    }

    /// The exact step of a one-dimensional exact scheme; `None` when no step is exact.
    ///
    /// An exact step replaces the whole time discretisation, so it cannot be mixed with other
    /// steps: a scheme that does is an error.
    pub fn exact_step(&self) -> Result<Option<Step>, SdkError> {
        match self.steps.iter().find(|s| s.is_exact()) {
            None => Ok(None),
            Some(&step) if D == 1 => Ok(Some(step)),
            Some(step) => Err(SdkError::Model(format!(
                "the {} step needs a one-dimensional model, this scheme has {D} components",
                step.label()
            ))),
        }
    }
}

/// Lower-triangular `L` with `L Lᵀ = c` for a symmetric positive semi-definite `c`.
///
/// Pivots that vanish (up to a relative tolerance of 1e-12) give a zero column instead of a
/// division by zero, so singular matrices such as `[[1, 1], [1, 1]]` are accepted. A matrix
/// that is not symmetric, not finite or not PSD is an error.
pub fn cholesky<const M: usize>(c: &[[f64; M]; M]) -> Result<[[f64; M]; M], SdkError> {
    check_symmetric(c)?;
    let scale = (0..M).map(|k| c[k][k]).fold(0.0, f64::max);
    let pivot_tol = 1e-12 * scale;
    // In a PSD matrix |c_ij|² ≤ c_ii c_jj, so off-diagonal residuals beside a vanished pivot are
    // at most sqrt(pivot_tol · scale).
    let offdiag_tol = 1e-6 * scale;
    let mut l = [[0.0; M]; M];
    for j in 0..M {
        let d = c[j][j] - dot(&l[j], &l[j], j);
        if d < -pivot_tol {
            return Err(not_psd(j));
        }
        if d <= pivot_tol {
            for i in j + 1..M {
                if (c[i][j] - dot(&l[i], &l[j], j)).abs() > offdiag_tol {
                    return Err(not_psd(j));
                }
            }
            continue;
        }
        let pivot = d.sqrt();
        l[j][j] = pivot;
        for i in j + 1..M {
            l[i][j] = (c[i][j] - dot(&l[i], &l[j], j)) / pivot;
        }
    }
    Ok(l)
}

/// `Σ_{k<n} a_k b_k`.
#[inline(always)]
fn dot<const M: usize>(a: &[f64; M], b: &[f64; M], n: usize) -> f64 {
    a[..n].iter().zip(&b[..n]).map(|(x, y)| x * y).sum()
}

fn not_psd(j: usize) -> SdkError {
    SdkError::Model(format!(
        "correlation matrix is not positive semi-definite (fails at row {j})"
    ))
}

fn check_symmetric<const M: usize>(c: &[[f64; M]; M]) -> Result<(), SdkError> {
    for (k, row) in c.iter().enumerate() {
        for (l, &v) in row.iter().enumerate() {
            if !v.is_finite() {
                return Err(SdkError::Model(format!(
                    "correlation[{k}][{l}] is not finite"
                )));
            }
            if (v - c[l][k]).abs() > 1e-12 * (1.0 + v.abs()) {
                return Err(SdkError::Model(format!(
                    "correlation matrix is not symmetric at [{k}][{l}]"
                )));
            }
        }
    }
    Ok(())
}

/// Checks that `c` is a correlation matrix (symmetric, unit diagonal, PSD) and returns its
/// Cholesky factor.
pub fn correlation_factor<const M: usize>(c: &[[f64; M]; M]) -> Result<[[f64; M]; M], SdkError> {
    for (k, row) in c.iter().enumerate() {
        if (row[k] - 1.0).abs() > 1e-9 {
            return Err(SdkError::Model(format!(
                "correlation[{k}][{k}] is {} but must be 1",
                row[k]
            )));
        }
    }
    cholesky(c)
}

/// A scheme bound to a model's correlation: advances one path by one step.
#[derive(Clone, Debug)]
pub struct Stepper<const D: usize, const M: usize> {
    steps: [Step; D],
    correlation: [[f64; M]; M],
    factor: [[f64; M]; M],
    independent: bool,
    // Per-component flags, so that the common step is straight-line code (no match per
    // component): the engine's interleaved paths then compile to SIMD across paths.
    // Evaluation floor and ceiling: 0 and ∞ for full-truncation components (their domain's ends
    // for an interval, see `Stepper::within`), −∞ and ∞ for the others.
    floor: [f64; D],
    ceiling: [f64; D],
    log_euler: bool,
    // Euler steps only, no truncation floor, independent noises: see [`Stepper::is_plain`].
    plain: bool,
}

impl<const D: usize, const M: usize> Stepper<D, M> {
    /// Binds `scheme` to `correlation`, factorising it once. Exact steps are not discretisations
    /// and are rejected here (the engine samples them through [`crate::exact`]).
    pub fn new(scheme: &Scheme<D>, correlation: [[f64; M]; M]) -> Result<Self, SdkError> {
        if let Some(step) = scheme.steps.iter().find(|s| s.is_exact()) {
            return Err(SdkError::Model(format!(
                "the {} step samples an exact transition and cannot be used as a time step",
                step.label()
            )));
        }
        let factor = correlation_factor(&correlation)?;
        let independent = correlation == crate::sde::identity();
        Ok(Stepper {
            steps: scheme.steps,
            correlation,
            factor,
            independent,
            floor: scheme.steps.map(|s| {
                if s == Step::FullTruncation {
                    0.0
                } else {
                    f64::NEG_INFINITY
                }
            }),
            ceiling: [f64::INFINITY; D],
            log_euler: scheme.steps.contains(&Step::LogEuler),
            plain: independent && scheme.steps.iter().all(|&s| s == Step::Euler),
        })
    }

    /// The stepper for a model whose state lives in `domain` (`Sde::DOMAIN`): full-truncation
    /// components of an interval domain `[a, b]` are truncated at both ends, their coefficients
    /// and observed values seeing `min(max(x, a), b)` (the engine builds its stepper this way).
    pub fn within(mut self, domain: &[Domain; D]) -> Self {
        for (i, d) in domain.iter().enumerate() {
            if self.steps[i] == Step::FullTruncation {
                (self.floor[i], self.ceiling[i]) = d.truncation();
            }
        }
        self
    }

    /// The Cholesky factor `L` of the correlation matrix.
    pub fn factor(&self) -> &[[f64; M]; M] {
        &self.factor
    }

    /// Advances `x` from time `t` by `h`, with `z` i.i.d. standard normals (`sqrt_h = √h`).
    #[inline(always)]
    pub fn step<S: Sde<D, M>>(
        &self,
        model: &S,
        t: f64,
        h: f64,
        sqrt_h: f64,
        x: &mut [f64; D],
        z: &[f64; M],
    ) {
        if self.log_euler {
            self.step_as::<true, false, false, S>(model, t, h, sqrt_h, x, z);
        } else if self.plain {
            self.step_as::<false, true, false, S>(model, t, h, sqrt_h, x, z);
        } else {
            self.step_as::<false, false, false, S>(model, t, h, sqrt_h, x, z);
        }
    }

    /// Whether some component uses the log-Euler step (the `LOG` of [`Stepper::step_as`]).
    pub fn has_log_euler(&self) -> bool {
        self.log_euler
    }

    /// Whether every component is a plain Euler step driven by independent noises (the
    /// `PLAIN` of [`Stepper::step_as`]): then the evaluation point is the state itself and
    /// `dW = √h z`, bit for bit what the general code computes (`max(x, −∞)` is `x`, NaN
    /// included, and `L = I` gives `1·z_k` plus zeros, the ziggurat never drawing −0), with
    /// two fewer vector operations per component and step (OU: 9 → 7).
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// [`Stepper::step`] for a scheme whose log-Euler components are known at compile time to
    /// be absent (`LOG = false`: straight-line code) or possibly present (`LOG = true`), and
    /// which is known to be plain or not. `LOG` must equal [`Stepper::has_log_euler`], `PLAIN`
    /// imply [`Stepper::is_plain`]. With `SCALED` (plain only), `model` is a [`Sde::per_step`]
    /// copy, whose drift and diffusion already include `h` and `√h`: the step is `x + b + σ z`.
    #[inline(always)]
    pub fn step_as<const LOG: bool, const PLAIN: bool, const SCALED: bool, S: Sde<D, M>>(
        &self,
        model: &S,
        t: f64,
        h: f64,
        sqrt_h: f64,
        x: &mut [f64; D],
        z: &[f64; M],
    ) {
        debug_assert_eq!(LOG, self.log_euler);
        debug_assert!(!PLAIN || self.plain);
        debug_assert!(!SCALED || PLAIN);
        let y = if PLAIN { *x } else { self.evaluation_point(x) };
        let b = model.drift(t, &y);
        let s = model.diffusion(t, &y);
        let dw = if SCALED {
            *z
        } else if PLAIN {
            z.map(|zk| sqrt_h * zk)
        } else {
            self.increments(sqrt_h, z)
        };
        for i in 0..D {
            let noise = dot_full(&s[i], &dw);
            x[i] = if LOG && self.steps[i] == Step::LogEuler {
                let xi = x[i];
                let a = self.quadratic_variation(&s[i]);
                xi * ((b[i] / xi - a / (2.0 * xi * xi)) * h + noise / xi).exp()
            } else {
                // Euler and full truncation; exact steps are rejected by `Stepper::new`.
                let drift = if SCALED { b[i] } else { b[i] * h };
                x[i] + drift + noise
            };
        }
    }

    /// The observed state: full-truncation components reported as `max(x_i, 0)` (clamped to
    /// their interval, see [`Stepper::within`]).
    ///
    /// Non-finite values pass through unchanged so that a diverged path is counted as such.
    #[inline(always)]
    pub fn observe(&self, x: &[f64; D]) -> [f64; D] {
        std::array::from_fn(|i| {
            if x[i].is_finite() {
                clamp(x[i], self.floor[i], self.ceiling[i])
            } else {
                x[i]
            }
        })
    }

    /// `x` with full-truncation components replaced by `max(x_i, 0)` (clamped to their interval,
    /// see [`Stepper::within`]); NaN stays NaN.
    #[inline(always)]
    fn evaluation_point(&self, x: &[f64; D]) -> [f64; D] {
        std::array::from_fn(|i| clamp(x[i], self.floor[i], self.ceiling[i]))
    }

    /// `dW = √h L z` (for independent noises `L = I` and this is `√h z` bit for bit).
    #[inline(always)]
    fn increments(&self, sqrt_h: f64, z: &[f64; M]) -> [f64; M] {
        std::array::from_fn(|k| sqrt_h * dot(&self.factor[k], z, k + 1))
    }

    /// `a_ii = s_i ρ s_iᵀ` for one row `s_i` of the diffusion matrix.
    #[inline(always)]
    fn quadratic_variation(&self, row: &[f64; M]) -> f64 {
        if self.independent {
            return dot_full(row, row);
        }
        quadratic_variation(row, &self.correlation)
    }
}

/// `min(max(x, floor), ceiling)` as two SIMD-friendly selects that keep NaN.
#[inline(always)]
fn clamp(x: f64, floor: f64, ceiling: f64) -> f64 {
    let above = if x < floor { floor } else { x };
    if above > ceiling { ceiling } else { above }
}

/// `s ρ sᵀ` for one row `s` of a diffusion matrix and the correlation `ρ`.
#[inline]
pub fn quadratic_variation<const M: usize>(row: &[f64; M], correlation: &[[f64; M]; M]) -> f64 {
    (0..M)
        .map(|k| row[k] * dot_full(&correlation[k], row))
        .sum()
}

#[inline(always)]
fn dot_full<const M: usize>(a: &[f64; M], b: &[f64; M]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
